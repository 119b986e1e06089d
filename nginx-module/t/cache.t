#!/usr/bin/perl

# auth_jwt_cache: the per-worker cache of verified tokens. A hit must decide
# exactly as a full verification would: exp and nbf against the current time
# and the location's leeway, only under the key set that verified the token,
# never for a token that differs in any byte; the claims, auth_jwt_require
# and $jwt_payload as from a full verification. The size bound evicts the
# least recently used token. Hits are seen in the debug log
# ("auth_jwt: token cache hit"; Debian's nginx is built --with-debug).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

# Another secret under the same kid: a token of the hmac key fails there on
# its signature alone.
my $other = join '', map { chr(($_ * 29 + 7) % 256) } 0 .. 63;
write_jwks('other.json', { kty => 'oct', kid => 'hmac', k => b64u($other) });

start_nginx(<<'EOF', main => 'error_log %%TESTDIR%%/debug.log debug;');
    auth_jwt_key_file %%TESTDIR%%/jwks.json;

    map $jwt_claim_role $is_admin {
        admin    1;
        default  0;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        large_client_header_buffers 4 16k;

        location /strict { empty_gif; }
        location /lenient { auth_jwt_leeway 60s; empty_gif; }
        location /other { auth_jwt_key_file %%TESTDIR%%/other.json; empty_gif; }

        location /claims {
            add_header X-Sub $jwt_claim_sub always;
            add_header X-Refused-Sub $jwt_refused_claim_sub always;
            add_header X-Name $jwt_claim_name always;
            add_header X-Kid $jwt_header_kid always;
            add_header X-Payload $jwt_payload always;
            add_header X-Status $jwt_auth_status always;
            auth_jwt_require $is_admin error=403;
            empty_gif;
        }

        location /two { auth_jwt_cache 2; empty_gif; }
        location /off { auth_jwt_cache off; empty_gif; }
    }
EOF

# get($path, $token): the response, whether the request hit the cache, and
# whether it put its token in (the debug log lines it added).
sub get {
    my ($path, $token) = @_;
    my $before = length slurp(testdir() . '/debug.log');
    my $res = http_get_token($path, $token);
    my $new = substr slurp(testdir() . '/debug.log'), $before;
    my $hits = () = $new =~ /auth_jwt: token cache hit/g;
    my $kept = () = $new =~ /auth_jwt: token cache keeps a token/g;
    return ($res, $hits, $kept);
}

# hits($path, $token, $expected, $name): 200, and a hit or a miss.
sub hits {
    my ($path, $token, $expected, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($res, $hits) = get($path, $token);
    is_ok($res, $name);
    is($hits, $expected, "$name: " . ($expected ? 'hit' : 'miss'));
}

my ($res, $hit, $kept);

# The cache is on by default, and a hit is a 200.

my $token = mint();
hits('/strict', $token, 0, 'first request');
hits('/strict', $token, 1, 'same token again');
hits('/lenient', $token, 1, 'same keys, another location');

# exp passes between two requests of a cached token.

my $exp = now() + slow(3);
my $short = mint(claims => { sub => 'alice', exp => $exp });
hits('/strict', $short, 0, 'short-lived token');
hits('/strict', $short, 1, 'short-lived token cached');
wait_for(10, sub { now() > $exp });
($res, $hit) = get('/strict', $short);
is_rejected($res, 401, 'TOKEN_EXPIRED', 'cached token past its exp');
is($hit, 1, 'expiry decided on a cache hit');

# The time claims are checked with the location's leeway on every hit: a
# token cached where 60 s of leeway let it in is still refused where there
# is none.

my $late = mint(claims => { sub => 'alice', exp => now() - 30 });
hits('/lenient', $late, 0, 'exp 30s ago, 60s leeway');
($res, $hit) = get('/strict', $late);
is_rejected($res, 401, 'TOKEN_EXPIRED', 'same token without leeway');
is($hit, 1, 'exp checked on the hit');

my $early = mint(claims => { sub => 'alice', nbf => now() + 30,
    exp => now() + 300 });
hits('/lenient', $early, 0, 'nbf 30s ahead, 60s leeway');
($res, $hit) = get('/strict', $early);
is_rejected($res, 401, 'INVALID_TOKEN', 'same token, nbf without leeway');
is($hit, 1, 'nbf checked on the hit');
hits('/lenient', $early, 1, 'still accepted with leeway');

# A verdict is kept for the key set that made it: /other has another secret
# under the same kid, so the token cached by /strict must fail there.

($res, $hit) = get('/other', $token);
is_rejected($res, 401, 'INVALID_TOKEN', 'cached token under other keys');
is($hit, 0, 'no hit under other keys');
($res) = get('/other', $token);
is_rejected($res, 401, 'INVALID_TOKEN', 'again under other keys');
hits('/strict', $token, 1, 'still cached for its own keys');

# Any byte changed is another token: a tampered signature or payload of a
# cached token is verified, and refused.

my ($h, $p, $s) = split /\./, $token;
my $flip = substr($s, -2, 1) eq 'A' ? 'B' : 'A';
my $bad_sig = "$h.$p." . substr($s, 0, -2) . $flip . substr($s, -1);
($res, $hit) = get('/strict', $bad_sig);
is_rejected($res, 401, 'INVALID_TOKEN', 'tampered signature of a cached token');
is($hit, 0, 'tampered signature: no hit');

my $forged_payload = b64u(json_encode({ sub => 'mallory',
    exp => now() + 300 }));
($res, $hit) = get('/strict', "$h.$forged_payload.$s");
is_rejected($res, 401, 'INVALID_TOKEN', 'other payload, cached signature');
is($hit, 0, 'other payload: no hit');

# Failures are never cached: the same bad token twice is refused twice.

($res, $hit, $kept) = get('/strict', $bad_sig);
is_rejected($res, 401, 'INVALID_TOKEN', 'tampered token again');
is($hit, 0, 'a refused token is never a hit');
is($kept, 0, 'a refused token is never kept');

# Claim variables, $jwt_payload and auth_jwt_require on hits.

my $admin = mint(claims => { sub => 'alice', role => 'admin',
    name => "Alice \"A\"", exp => now() + 300 });
my $user = mint(claims => { sub => 'bob', role => 'user',
    exp => now() + 300 });

for my $round (0, 1) {
    my $what = $round ? 'hit' : 'miss';
    ($res, $hit) = get('/claims', $admin);
    is_ok($res, "admin, $what");
    is($hit, $round, "admin: $what");
    is($res->{headers}{'x-sub'}, 'alice', "\$jwt_claim_sub, $what");
    is($res->{headers}{'x-name'}, 'Alice "A"', "escaped claim, $what");
    is($res->{headers}{'x-kid'}, 'hmac', "\$jwt_header_kid, $what");
    like($res->{headers}{'x-payload'}, qr/^\{.*"role":"admin".*\}$/,
        "\$jwt_payload, $what");
    is($res->{headers}{'x-status'}, 'OK', "\$jwt_auth_status, $what");

    ($res, $hit) = get('/claims', $user);
    is_rejected($res, 403, 'FORBIDDEN', "auth_jwt_require fails, $what");
    is($hit, $round, "user: $what");
    is($res->{headers}{'x-sub'}, undef, "no claim of a refused token, $what");
    is($res->{headers}{'x-refused-sub'}, 'bob', "\$jwt_refused_claim_sub, $what");
}

# The size bound: /two keeps two tokens, the least recently used goes.

my @t = map { mint(claims => { sub => "user$_", exp => now() + 300 }) } 0 .. 2;
hits('/two', $t[0], 0, 'A');
hits('/two', $t[1], 0, 'B');
hits('/two', $t[0], 1, 'A again');
hits('/two', $t[2], 0, 'C, evicts B');
hits('/two', $t[0], 1, 'A kept: least recently used went');
hits('/two', $t[1], 0, 'B was evicted, evicts C');
hits('/two', $t[2], 0, 'C was evicted');
for my $round (1 .. 3) {
    hits('/two', $t[$_], 0, "cycling three tokens through two, round $round, "
        . "token $_") for 0 .. 2;
}

# off: every request verifies.

hits('/off', $token, 0, 'off');
hits('/off', $token, 0, 'off, again');

# Tokens over 4 KiB are verified every time; up to 4 KiB they are cached.

my $at_bound = token_of_length(4096);
hits('/strict', $at_bound, 0, '4096-byte token');
hits('/strict', $at_bound, 1, '4096-byte token cached');
my $above = token_of_length(4097);
($res, $hit, $kept) = get('/strict', $above);
is_ok($res, '4097-byte token');
is($kept, 0, '4097-byte token not kept');
hits('/strict', $above, 0, '4097-byte token again');

no_log_alerts();

# Configuration errors name the directive.

sub conf_with {
    my ($directive) = @_;
    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        $directive
        location / { empty_gif; }
    }
EOF
}

for my $case (['auth_jwt_cache 0;', qr/invalid "auth_jwt_cache" size "0"/],
    ['auth_jwt_cache abc;', qr/invalid "auth_jwt_cache" size "abc"/],
    ['auth_jwt_cache -1;', qr/invalid "auth_jwt_cache" size "-1"/],
    ['auth_jwt_cache 10; auth_jwt_cache 20;',
        qr/"auth_jwt_cache" directive is duplicate/],
    ['auth_jwt_cache 10 20;',
        qr/invalid number of arguments in "auth_jwt_cache"/])
{
    my ($rc, $out) = nginx_t(conf_with($case->[0]));
    isnt($rc, 0, "nginx -t refuses '$case->[0]'");
    like($out, $case->[1], "'$case->[0]': message names the directive");
}

my ($rc, $out) = nginx_t(conf_with('auth_jwt_cache 100000;'));
is($rc, 0, 'a large size is accepted') or diag($out);
($rc, $out) = nginx_t(conf_with('auth_jwt_cache off;'));
is($rc, 0, 'off is accepted') or diag($out);

done_testing();
