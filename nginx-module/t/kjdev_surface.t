#!/usr/bin/perl

# kjdev/nginx-auth-jwt's directives and variables beyond the claim checks
# (claim_kjdev.t), as its docs/DIRECTIVES.md documents them:
#   - $jwt_claims (the payload, as $jwt_payload: empty after a refusal) and
#     $jwt_nowtime;
#   - error=code of auth_jwt_require, auth_jwt_require_claim and
#     auth_jwt_require_header: any code 400..599 but 444 and 499, each
#     directive's its own; a 401 is INVALID_TOKEN, any other FORBIDDEN;
#   - auth_jwt_validate_sig on and auth_jwt_validate_exp on (what this module
#     always does);
#   - auth_jwt_allow_nested: names split on the delimiter, the quote
#     protecting a key holding it, with the location's setting whatever the
#     order and level of the directives; JQ-like paths unchanged;
#     auth_jwt_claim_set and auth_jwt_header_set names split too;
#   - auth_jwt_revocation_list_sub and auth_jwt_revocation_list_kid: listed
#     tokens refused, a token without the claim refused, lists inherited and
#     added to; a list of 100,000 names loads and decides quickly, and the
#     decision kept with a cached token stays right;
#   - the keyval key format, in auth_jwt_key_file and auth_jwt_key_request;
#   - auth_jwt_phase preaccess: before satisfy, and in subrequests, waiting
#     for a key request or a session lookup there too.
# nginx -t's messages for these directives: kjdev_config.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use AuthJWTTest;
use SessionTest;

require_module();
start_memcached('a');

write_jwks('jwks.json', qw(hmac));

# the hmac key without a kid: tokens naming any kid fall back to it
write_file('nokid.json', json_encode({ keys => [ key('hmac')->{jwk} ] }));

write_file('keyval.json', json_encode({
    'rsa-1' => slurp(key_file('rsa')), 'ec-1' => slurp(key_file('p256')) }));

write_file('subs.json', <<'EOF');
{
  "lockedsub1": {"locked_at": "2023"},
  "lockedsub2": {"locked_reason": "bad user"},
  "lockedsub3": {"any_other_property": 1}
}
EOF
write_file('subs-more.json', '{"mallory": true}');
write_file('kids.json', '{"test2kid": {"revocation_reason": "unknown"}}');

# 100,000 revoked subjects: far beyond the 4096-byte, 1024-member bounds of
# an expected value
my $BIG = 100_000;
write_file('big.json', '{' . join(',', map { qq("user-$_":{"n":$_}) } 0 .. $BIG - 1)
    . '}');

my $t0 = time();
my ($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_revocation_list_sub %%TESTDIR%%/big.json;
        location / { empty_gif; }
    }
EOF
my $load = time() - $t0;
is($rc, 0, "a revocation list of $BIG names loads") or diag($out);
cmp_ok($load, '<', slow(10), "and nginx -t takes seconds at most ($load s)");

start_nginx(<<'EOF');
    auth_jwt_claim_set $jwt_access_dot grants.access;
    auth_jwt_claim_set $jwt_access_colon grants:access;
    auth_jwt_claim_set $jwt_access_two grants access;
    auth_jwt_header_set $jwt_role_dot roles.access;
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        add_header X-Claims "[$jwt_claims]" always;
        add_header X-Payload "[$jwt_payload]" always;
        add_header X-Now "[$jwt_nowtime]" always;
        add_header X-Status "[$jwt_auth_status]" always;

        location /claims { empty_gif; }
        location /claims-refused {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt_require_claim role eq admin;
            empty_gif;
        }
        location /claims-require {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt_require $jwt_claim_admin;
            empty_gif;
        }

        # error=code
        location /r418 { auth_jwt_require $jwt_claim_admin error=418; empty_gif; }
        location /r400 { auth_jwt_require $jwt_claim_admin error=400; empty_gif; }
        location /r599 { auth_jwt_require $jwt_claim_admin error=599; empty_gif; }
        location /r401 { auth_jwt_require $jwt_claim_admin error=401; empty_gif; }
        location /r-two {
            auth_jwt_require $jwt_claim_a;
            auth_jwt_require $jwt_claim_b error=429;
            auth_jwt_require $jwt_claim_c error=503;
            empty_gif;
        }
        location /rc422 { auth_jwt_require_claim role eq admin error=422; empty_gif; }
        location /rh451 { auth_jwt_require_header typ eq JWT error=451; empty_gif; }
        location /rc-two {
            auth_jwt_require_claim role eq admin error=402;
            auth_jwt_require_claim team eq ops error=409;
            auth_jwt_require $jwt_claim_x error=410;
            empty_gif;
        }
        location /r418-any {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt_require $jwt_claim_admin error=418;
            empty_gif;
        }
        location /r403-any {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt_require $jwt_claim_admin error=403;
            empty_gif;
        }

        # auth_jwt_validate_sig on, auth_jwt_validate_exp on
        location /validate {
            auth_jwt_validate_sig on;
            auth_jwt_validate_exp on;
            empty_gif;
        }

        # auth_jwt_allow_nested: DIRECTIVES.md's example, and the same
        # lines without the directive
        location /nested {
            auth_jwt_allow_nested;
            auth_jwt_require_claim grants.access eq allow;
            auth_jwt_require_claim '"grants.key"' eq dot;
            empty_gif;
        }
        location /flat {
            auth_jwt_require_claim grants.access eq allow;
            empty_gif;
        }
        location /nested-after {
            auth_jwt_require_claim grants.access eq allow;
            auth_jwt_allow_nested;
            empty_gif;
        }
        location /nested-colon {
            auth_jwt_allow_nested delimiter=: quote=';
            auth_jwt_require_claim grants:access eq allow;
            auth_jwt_require_claim "grants:'svc:x':roles" any json=["r1"];
            auth_jwt_require_claim .grants.access eq allow;
            empty_gif;
        }
        location /nested-arrows {
            auth_jwt_allow_nested delimiter=<>;
            auth_jwt_require_claim grants<>service<>roles any json=["r2"];
            empty_gif;
        }
        location /nested-header {
            auth_jwt_allow_nested;
            auth_jwt_require_header roles.access any json=["admin"];
            empty_gif;
        }
        location /nested-vars {
            auth_jwt_allow_nested;
            add_header X-Dot "[$jwt_access_dot]" always;
            add_header X-Colon "[$jwt_access_colon]" always;
            add_header X-Two "[$jwt_access_two]" always;
            add_header X-Role "[$jwt_role_dot]" always;
            empty_gif;
        }
        location /colon-vars {
            auth_jwt_allow_nested delimiter=:;
            add_header X-Dot "[$jwt_access_dot]" always;
            add_header X-Colon "[$jwt_access_colon]" always;
            add_header X-Two "[$jwt_access_two]" always;
            empty_gif;
        }
        location /flat-vars {
            add_header X-Dot "[$jwt_access_dot]" always;
            add_header X-Colon "[$jwt_access_colon]" always;
            add_header X-Two "[$jwt_access_two]" always;
            empty_gif;
        }

        # revocation lists
        location /rev-sub {
            auth_jwt_revocation_list_sub %%TESTDIR%%/subs.json;
            empty_gif;

            location /rev-sub/more {
                auth_jwt_revocation_list_sub %%TESTDIR%%/subs-more.json;
                empty_gif;
            }
            location /rev-sub/inherited { empty_gif; }
        }
        location /rev-kid {
            auth_jwt_key_file %%TESTDIR%%/nokid.json;
            auth_jwt_revocation_list_kid %%TESTDIR%%/kids.json;
            empty_gif;
        }
        location /rev-both {
            auth_jwt_key_file %%TESTDIR%%/nokid.json;
            auth_jwt_revocation_list_kid %%TESTDIR%%/kids.json;
            auth_jwt_revocation_list_sub %%TESTDIR%%/subs.json;
            auth_jwt_require_claim role eq admin error=403;
            empty_gif;
        }
        location /rev-big {
            auth_jwt_revocation_list_sub %%TESTDIR%%/big.json;
            empty_gif;
        }
        location /rev-big-nocache {
            auth_jwt_cache off;
            auth_jwt_revocation_list_sub %%TESTDIR%%/big.json;
            empty_gif;
        }

        # keyval
        location /keyval {
            auth_jwt_key_file %%TESTDIR%%/keyval.json keyval;
            empty_gif;
        }
        location /jwks-explicit {
            auth_jwt_key_file %%TESTDIR%%/jwks.json jwks;
            empty_gif;
        }

        # auth_jwt_phase
        location /pre { auth_jwt_phase preaccess; empty_gif; }
        location /pre-any {
            auth_jwt_phase preaccess;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            empty_gif;
        }
        location /access-any {
            auth_jwt_phase access;
            satisfy any;
            allow 127.0.0.1;
            deny all;
            empty_gif;
        }
        location /sub-pre {
            auth_jwt off;
            auth_request /_check_pre;
            empty_gif;
        }
        location /sub-access {
            auth_jwt off;
            auth_request /_check_access;
            empty_gif;
        }
        location = /_check_pre {
            internal;
            auth_jwt_phase preaccess;
            auth_jwt_require_claim role eq admin error=403;
            empty_gif;
        }
        location = /_check_access {
            internal;
            empty_gif;
        }
        location /pre-session {
            auth_jwt_phase preaccess;
            auth_jwt_session key=$jwt_claim_tokenId;
            empty_gif;
        }
        location /sub-session {
            auth_jwt off;
            auth_request /_check_session;
            empty_gif;
        }
        location = /_check_session {
            internal;
            auth_jwt_phase preaccess;
            auth_jwt_session key=$jwt_claim_tokenId;
            empty_gif;
        }
    }

    # keys from key requests only
    server {
        listen 127.0.0.1:%%PORT_8081%%;

        location /keyval-request {
            auth_jwt "test";
            auth_jwt_key_request /_keyval keyval;
            empty_gif;
        }
        location /keyval-of-jwks {
            auth_jwt "test";
            auth_jwt_key_request /_jwks keyval;
            empty_gif;
        }
        location /jwks-request {
            auth_jwt "test";
            auth_jwt_key_request /_jwks jwks;
            empty_gif;
        }
        location ~ ^/_keyval {
            internal;
            default_type application/json;
            alias %%TESTDIR%%/keyval.json;
        }

        # preaccess waits for a key request, also in a subrequest
        location /pre-keys {
            auth_jwt "test";
            auth_jwt_phase preaccess;
            auth_jwt_key_request /_keyval2 keyval;
            empty_gif;
        }
        location /sub-pre-keys {
            auth_request /_check_keys;
            empty_gif;
        }
        location = /_check_keys {
            internal;
            auth_jwt "test";
            auth_jwt_phase preaccess;
            auth_jwt_key_request /_keyval3 keyval;
            empty_gif;
        }
        location = /_jwks {
            internal;
            default_type application/json;
            alias %%TESTDIR%%/jwks.json;
        }
    }
EOF

my $now = now();

sub tok {
    my (%claims) = @_;
    return mint(claims => { sub => 'alice', exp => $now + 300, %claims });
}

sub get { http_get_token(@_) }

###############################################################################
# $jwt_claims, $jwt_nowtime

my $payload_of = sub { b64u_decode((split /\./, $_[0])[1]) };

my $token = tok(role => 'user');
my $res = get('/claims', $token);
is_ok($res, '$jwt_claims');
is($res->{headers}{'x-claims'}, '[' . $payload_of->($token) . ']',
    '$jwt_claims is the payload JSON');
is($res->{headers}{'x-claims'}, $res->{headers}{'x-payload'},
    '$jwt_claims is $jwt_payload');
my ($t) = ($res->{headers}{'x-now'} // '') =~ /^\[(\d+)\]$/;
ok(defined $t && $t >= $now && $t <= now() + 1, '$jwt_nowtime is the current time')
    or diag($res->{headers}{'x-now'});

$res = get('/claims', tok(exp => $now - 10));
is($res->{headers}{'x-claims'}, '[]', '$jwt_claims empty for an expired token');
like($res->{headers}{'x-now'}, qr/^\[\d+\]$/, '$jwt_nowtime whatever the token');
$res = http_get('/claims');
like($res->{headers}{'x-now'}, qr/^\[\d+\]$/, '$jwt_nowtime without a token');

# no claim variable outlives a rejection (claim_rejected.t's rule), though
# "satisfy any" lets the request through
for my $where (qw(/claims-refused /claims-require)) {
    $res = get($where, $token);
    is($res->{status}, 200, "$where: satisfy any lets it through");
    is($res->{headers}{'x-claims'}, '[]', "$where: \$jwt_claims empty after the refusal");
    is($res->{headers}{'x-payload'}, '[]', "$where: as \$jwt_payload");
    is($res->{headers}{'x-status'}, '[INVALID_TOKEN]', "$where: the status stays");
}
is(get('/claims-refused', tok(role => 'admin'))->{headers}{'x-claims'},
    '[' . $payload_of->(tok(role => 'admin')) . ']', 'and full when accepted');

###############################################################################
# error=code

my $plain = tok();
my $admin = tok(admin => 1);

is_rejected(get('/r418', $plain), 418, 'FORBIDDEN', 'auth_jwt_require error=418');
is(get('/r418', $plain)->{headers}{'x-status'}, '[FORBIDDEN]',
    'error=418: $jwt_auth_status FORBIDDEN');
is_ok(get('/r418', $admin), 'error=418, met');
is_rejected(get('/r400', $plain), 400, 'FORBIDDEN', 'error=400');
is_rejected(get('/r599', $plain), 599, 'FORBIDDEN', 'error=599');
is_rejected(get('/r401', $plain), 401, 'INVALID_TOKEN', 'error=401');
is_rejected(get('/r418', tok(exp => $now - 10)), 401, 'TOKEN_EXPIRED',
    'error=418 with an expired token: the token first');

# each directive's code is its own, the first failing directive's answers
is_rejected(get('/r-two', tok(b => 1, c => 1)), 401, 'INVALID_TOKEN',
    'first directive (no error=) fails: 401');
is_rejected(get('/r-two', tok(a => 1, c => 1)), 429, 'FORBIDDEN',
    'second (error=429) fails: 429');
is_rejected(get('/r-two', tok(a => 1, b => 1)), 503, 'FORBIDDEN',
    'third (error=503) fails: 503');
is_rejected(get('/r-two', tok(c => 1)), 401, 'INVALID_TOKEN',
    'first and second fail: the first answers');
is_ok(get('/r-two', tok(a => 1, b => 1, c => 1)), 'all three met');

is_rejected(get('/rc422', $plain), 422, 'FORBIDDEN', 'auth_jwt_require_claim error=422');
is_ok(get('/rc422', tok(role => 'admin')), 'error=422, met');
is_rejected(get('/rh451', $plain), 451, 'FORBIDDEN', 'auth_jwt_require_header error=451');
is_rejected(get('/rc-two', tok(team => 'ops', x => 1)), 402, 'FORBIDDEN',
    'claim requirements: the first failing answers (402)');
is_rejected(get('/rc-two', tok(role => 'admin', x => 1)), 409, 'FORBIDDEN',
    'the second (409)');
is_rejected(get('/rc-two', tok(role => 'admin', team => 'ops')), 410, 'FORBIDDEN',
    'then auth_jwt_require (410)');

# satisfy any: only 401 and 403 let another access module grant (nginx's rule)
is_rejected(get('/r418-any', $plain), 418, 'FORBIDDEN',
    'satisfy any: error=418 is final');
is(get('/r403-any', $plain)->{status}, 200, 'satisfy any: error=403 is not');

###############################################################################
# auth_jwt_validate_sig on, auth_jwt_validate_exp on

is_ok(get('/validate', $plain), 'validate on: a valid token');
is_rejected(get('/validate', tok(exp => $now - 10)), 401, 'TOKEN_EXPIRED',
    'validate_exp on: expired');
my $forged = $plain =~ s/\.[^.]+$/.AAAA/r;
is_rejected(get('/validate', $forged), 401, 'INVALID_TOKEN',
    'validate_sig on: a bad signature');

###############################################################################
# auth_jwt_allow_nested

my $doc = tok(grants => { access => 'allow' }, 'grants.key' => 'dot');
is_ok(get('/nested', $doc), "DIRECTIVES.md's example");
is_rejected(get('/nested', tok(grants => { access => 'deny' }, 'grants.key' => 'dot')),
    401, 'INVALID_TOKEN', 'nested value differs');
is_rejected(get('/nested', tok(grants => { access => 'allow' })), 401, 'INVALID_TOKEN',
    'the quoted key "grants.key" is one member');
is_rejected(get('/nested', tok('grants.access' => 'allow', 'grants.key' => 'dot')),
    401, 'INVALID_TOKEN', 'a flat "grants.access" is not grants -> access');
is_rejected(get('/flat', $doc), 401, 'INVALID_TOKEN',
    'without auth_jwt_allow_nested the name is one member');
is_ok(get('/flat', tok('grants.access' => 'allow')), 'which a flat claim has');
is_ok(get('/nested-after', $doc), 'auth_jwt_allow_nested after the requirement');

my $svc = tok(grants => { access => 'allow', 'svc:x' => { roles => ['r1', 'r9'] },
    service => { roles => ['r2'] } });
is_ok(get('/nested-colon', $svc), 'delimiter=: quote=\' (and a JQ path)');
is_rejected(get('/nested-colon', tok(grants => { access => 'allow',
    'svc:x' => { roles => ['r3'] } })), 401, 'INVALID_TOKEN', 'quoted key, other roles');
is_ok(get('/nested-arrows', $svc), 'delimiter=<>');
is_rejected(get('/nested-arrows', $doc), 401, 'INVALID_TOKEN', 'delimiter=<>, absent');

my $hdr = mint(claims => { sub => 'alice', exp => $now + 300 },
    header => { roles => { access => ['admin', 'user'] } });
is_ok(get('/nested-header', $hdr), 'auth_jwt_require_header, nested');
is_rejected(get('/nested-header', $plain), 401, 'INVALID_TOKEN',
    'auth_jwt_require_header, nested, absent');

# auth_jwt_claim_set and auth_jwt_header_set (http level) split with the
# location's setting
my $vars = mint(claims => { sub => 'alice', exp => $now + 300,
    grants => { access => ['a1', 'a2'] }, 'grants.access' => 'flat',
    'grants:access' => 'colon-flat' },
    header => { roles => { access => 'r' } });
$res = get('/nested-vars', $vars);
is($res->{headers}{'x-dot'}, '[a1,a2]', 'claim_set grants.access, nested');
is($res->{headers}{'x-colon'}, '[colon-flat]', 'claim_set grants:access, "." nesting');
is($res->{headers}{'x-two'}, '[a1,a2]', 'claim_set grants access (two names)');
is($res->{headers}{'x-role'}, '[r]', 'header_set roles.access, nested');
$res = get('/colon-vars', $vars);
is($res->{headers}{'x-dot'}, '[flat]', 'delimiter=: leaves grants.access whole');
is($res->{headers}{'x-colon'}, '[a1,a2]', 'and splits grants:access');
$res = get('/flat-vars', $vars);
is($res->{headers}{'x-dot'}, '[flat]', 'no nesting: grants.access whole');
is($res->{headers}{'x-colon'}, '[colon-flat]', 'no nesting: grants:access whole');
is($res->{headers}{'x-two'}, '[a1,a2]', 'two names are a path anyway');

###############################################################################
# revocation lists

for my $sub (qw(lockedsub1 lockedsub2 lockedsub3)) {
    is_rejected(get('/rev-sub', tok(sub => $sub)), 401, 'INVALID_TOKEN',
        "revoked sub $sub");
}
is_ok(get('/rev-sub', tok(sub => 'bob')), 'sub not listed');
is_rejected(get('/rev-sub', mint(claims => { exp => $now + 300 })), 401,
    'INVALID_TOKEN', 'no sub: refused');
is_rejected(get('/rev-sub', tok(sub => 12)), 401, 'INVALID_TOKEN',
    'a sub that is not a string: refused');
is_rejected(get('/rev-sub', sign_compact('{"alg":"HS256","kid":"hmac"}',
    qq({"sub":"locked\\u0073ub1","exp":@{[ $now + 300 ]}}))), 401, 'INVALID_TOKEN',
    'compared as decoded text');
is_ok(get('/rev-sub', tok(sub => 'locked_at')), 'values of the file are not listed');

# a level adds its lists to the inherited ones
is_rejected(get('/rev-sub/more', tok(sub => 'mallory')), 401, 'INVALID_TOKEN',
    'the nested level\'s list');
is_rejected(get('/rev-sub/more', tok(sub => 'lockedsub1')), 401, 'INVALID_TOKEN',
    'and the inherited one');
is_rejected(get('/rev-sub/inherited', tok(sub => 'lockedsub2')), 401, 'INVALID_TOKEN',
    'inherited alone');
is_ok(get('/rev-sub/inherited', tok(sub => 'mallory')), 'not the sibling\'s');

is_rejected(get('/rev-kid', mint(kid => 'test2kid')), 401, 'INVALID_TOKEN', 'revoked kid');
is_ok(get('/rev-kid', mint(kid => 'fresh')), 'kid not listed');
is_rejected(get('/rev-kid', mint(kid => undef)), 401, 'INVALID_TOKEN',
    'no kid: refused (the kid list makes it required)');
is_rejected(get('/rev-both', mint(kid => 'k', claims => { sub => 'lockedsub1',
    role => 'user', exp => $now + 300 })), 401, 'INVALID_TOKEN',
    'revocation lists before other requirements (403)');
is_rejected(get('/rev-both', mint(kid => 'k', claims => { sub => 'bob',
    role => 'user', exp => $now + 300 })), 403, 'FORBIDDEN',
    'a token not revoked meets the next requirement');

my $log = error_log();
like($log, qr/auth_jwt_revocation_list_sub: the token's "sub" is listed/,
    'a revoked sub logged, naming the list');
like($log, qr/auth_jwt_revocation_list_kid: the token's "kid" is listed/,
    'a revoked kid logged');
like($log, qr/auth_jwt_revocation_list_kid: the token has no "kid" string/,
    'a token without kid logged');
like($log, qr/\[info\].*INVALID_TOKEN: the token is revoked/, 'the reason at info');
unlike($log, qr/lockedsub|mallory|test2kid/, 'never the value');

# 100,000 names: decisions right and quick, with and without the cache
my ($right, $n) = (0, 0);
$t0 = time();
for (my $i = 0; $i < 2 * $BIG; $i += 2003) {
    my $want = $i < $BIG ? 401 : 200;
    my $tk = tok(sub => "user-$i");
    for my $where (qw(/rev-big /rev-sub /rev-big /rev-big /rev-big-nocache /claims)) {
        my $w = $where =~ m{^/rev-big} ? $want : 200;
        $n++;
        $right++ if get($where, $tk)->{status} == $w;
    }
}
my $took = time() - $t0;
is($right, $n, "$n decisions against $BIG names, each as the list says "
    . '(a cached token replays its own location\'s decision, alternating '
    . 'with another list\'s)');
cmp_ok($took / $n, '<', slow(0.05), sprintf('%.1f ms per request', 1000 * $took / $n));

###############################################################################
# keyval

is_ok(get('/keyval', mint(alg => 'RS256', kid => 'rsa-1')), 'keyval: RS256 by kid');
is_ok(get('/keyval', mint(alg => 'ES256', kid => 'ec-1')), 'keyval: ES256 by kid');
is_rejected(get('/keyval', mint(alg => 'RS256', kid => 'ec-1')), 401, 'INVALID_TOKEN',
    'keyval: the kid names the key (the EC key does not verify RS256)');
is_rejected(get('/keyval', mint(alg => 'RS256', kid => 'rsa-2')), 401, 'INVALID_TOKEN',
    'keyval: unknown kid');
is_ok(get('/keyval', mint(alg => 'RS256', kid => undef)),
    'keyval: a token without kid tries the keys in turn');
is_rejected(get('/keyval', $plain), 401, 'INVALID_TOKEN', 'keyval: no HMAC key');
is_ok(get('/jwks-explicit', $plain), 'auth_jwt_key_file ... jwks');

sub get2 {
    my ($path, $token) = @_;
    return http_request(port => 8081, path => $path,
        headers => [ Authorization => "Bearer $token" ]);
}

is_ok(get2('/keyval-request', mint(alg => 'RS256', kid => 'rsa-1')),
    'auth_jwt_key_request ... keyval');
is_ok(get2('/keyval-request', mint(alg => 'ES256', kid => 'ec-1')),
    'auth_jwt_key_request ... keyval, the other key');
is_rejected(get2('/keyval-request', $plain), 401, 'INVALID_TOKEN',
    'auth_jwt_key_request ... keyval: not a key of it');
is_ok(get2('/jwks-request', $plain), 'auth_jwt_key_request ... jwks');
is_rejected(get2('/keyval-of-jwks', $plain), 503, 'KEYS_UNAVAILABLE',
    'a JWKS read as keyval: no keys');
like(error_log(), qr{key request "/_jwks keyval" failed: key "keys": not a PEM public key},
    'the failure names the source and why');
is_ok(get2('/jwks-request', $plain), 'the same uri as jwks is another source');

is_ok(get2('/pre-keys', mint(alg => 'ES256', kid => 'ec-1')),
    'preaccess: the first request waits for the key request');
is_rejected(get2('/pre-keys', $plain), 401, 'INVALID_TOKEN',
    'preaccess with fetched keys: refused');
is(get2('/sub-pre-keys', mint(alg => 'ES256', kid => 'ec-1'))->{status}, 200,
    'preaccess in a subrequest: waits for its own key request');
is(get2('/sub-pre-keys', $plain)->{status}, 401,
    'preaccess in a subrequest with fetched keys: refused');

###############################################################################
# auth_jwt_phase

is_ok(get('/pre', $plain), 'preaccess: a valid token');
is_rejected(get('/pre', $forged), 401, 'INVALID_TOKEN', 'preaccess: refused');
is_rejected(http_get('/pre'), 401, 'TOKEN_MISSING', 'preaccess: no token');
is_rejected(get('/pre-any', $forged), 401, 'INVALID_TOKEN',
    'preaccess: satisfy any does not apply');
is(get('/access-any', $forged)->{status}, 200, 'access: satisfy any does');

is(get('/sub-pre', tok(role => 'admin'))->{status}, 200,
    'preaccess in an auth_request subrequest: granted');
is(get('/sub-pre', tok(role => 'user'))->{status}, 403,
    'preaccess in an auth_request subrequest: refused (403)');
is(get('/sub-pre', $forged)->{status}, 401, 'and an invalid token: 401');
is(get('/sub-access', $forged)->{status}, 200,
    'access phase: nginx skips it in subrequests');

mc_set('a', 'tid-live', record(last_access_time => now(), session_idle_timeout => 600));
my $live = session_token('tid-live');
my $gone = session_token('tid-gone');
is_ok(get('/pre-session', $live), 'preaccess: a live session');
is_rejected(get('/pre-session', $gone), 401, 'LOGGED_OUT', 'preaccess: no session');
is(get('/sub-session', $live)->{status}, 200, 'preaccess in a subrequest: a live session');
is(get('/sub-session', $gone)->{status}, 401, 'preaccess in a subrequest: no session');

no_log_alerts();

stop_nginx();
done_testing();
