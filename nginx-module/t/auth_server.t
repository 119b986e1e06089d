#!/usr/bin/perl

# End to end: the reference auth server (examples/auth-server) behind nginx,
# as `make run` starts it. A login through nginx writes a session record and
# hands out a token that Crypt::JWT verifies independently; the API answers
# 200 with the user and roles nginx forwarded; another device gets
# FINGERPRINT_MISMATCH; a refresh gives a token for the same session; logout
# and logout-all refuse a token without its session's fingerprint, as nginx
# does; logout ends the session (LOGGED_OUT) and, with --revoke-key, writes
# the token's revocation record until its exp; a short-idle user times out;
# logout-all ends every session of the user; a refresh token used twice ends
# its session, whichever party refreshed first; a second auth server with
# --keys-dir publishes its keys at /.well-known/jwks.json (Crypt::JWT verifies
# its tokens with them) and rotates them on SIGHUP.
#
# The auth server binary comes from TEST_AUTH_SERVER (default
# examples/auth-server/.build/debug/auth-server); when it is missing the test
# fails, as the module's tests do.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep);
use AuthJWTTest;
use SessionTest;
use AuthServerTest;

require_auth_server();
require_module();

my $AUTH_SERVER = auth_server_path();
my $JSON = JSON::PP->new->canonical;

sub decoded {
    my ($text) = @_;
    return eval { $JSON->decode($text) } // {};
}

# Runs the auth server binary with @args and $stdin; returns (exit, stdout).
sub auth_server_cmd {
    my ($stdin, @args) = @_;
    my $in = write_file('auth-cmd.in', $stdin);
    my $out = testdir() . '/auth-cmd.out';
    system("'$AUTH_SERVER' @args <'$in' >'$out' 2>&1");
    return ($? >> 8, slurp($out));
}

###############################################################################
# The users file, with hashes from `auth-server hash-password` (cost 4 keeps
# the test fast), checked against the system crypt(3) too.

my %PASSWORD = (alice => 'alice-secret', bob => 'bob-secret',
    brief => 'brief-secret');
my %HASH;
for my $user (sort keys %PASSWORD) {
    my ($rc, $out) = auth_server_cmd("$PASSWORD{$user}\n", 'hash-password',
        '--cost', '4');
    chomp $out;
    is($rc, 0, "hash-password for $user: exit 0") or diag($out);
    $HASH{$user} = $out;
}
like($HASH{alice}, qr/^\$2b\$04\$[.\/A-Za-z0-9]{53}$/,
    'hash-password prints a $2b$ bcrypt hash');
is(crypt($PASSWORD{alice}, $HASH{alice}), $HASH{alice},
    'the hash verifies with the system crypt(3)');
isnt($HASH{alice}, $HASH{bob}, 'every hash has its own salt');
my ($rc_long) = auth_server_cmd(('x' x 73) . "\n", 'hash-password',
    '--cost', '4');
isnt($rc_long, 0, 'hash-password refuses a password bcrypt would cut');

write_file('users.json', $JSON->encode({ users => [
    { username => 'alice', password_hash => $HASH{alice},
      roles => ['dev', 'admin'], session_idle_timeout => 1800 },
    { username => 'bob', password_hash => $HASH{bob}, roles => ['dev'] },
    { username => 'brief', password_hash => $HASH{brief}, roles => [],
      session_idle_timeout => 1 },
] }));

###############################################################################
# memcached, the auth server (ES256, the key nginx verifies with), nginx

start_memcached('a');
my $MC = '127.0.0.1:' . memcached_port('a');
write_jwks('jwks.json', jwk_public('p256', alg => 'ES256'));

start_auth_server('auth', '--users', testdir() . '/users.json',
    '--signing-key', key_file('p256', 'priv'), '--kid', 'p256',
    '--jwks', testdir() . '/jwks.json', '--memcached', $MC,
    '--revoke-key', 'revoked:jti:{tokenId}');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt "demo" token=$http_x_auth_token;
        auth_jwt_session key=session:$jwt_claim_tokenId
                         fingerprint=$http_finger_print;

        location /auth/ {
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_auth%%/;
        }

        location /api/ {
            proxy_set_header X-User $jwt_claim_sub;
            proxy_set_header X-Roles $jwt_claim_roles;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        # the same token, checked for revocation only (no session)
        location /revocable/ {
            auth_jwt_session off;
            auth_jwt_revocation key=revoked:jti:$jwt_claim_tokenId;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_app%%;
        default_type application/json;
        location / {
            return 200 '{"user":"$http_x_user","roles":"$http_x_roles"}';
        }
    }
EOF

sub post_json {
    my ($path, $body, @headers) = @_;
    return http_request(method => 'POST', path => $path,
        headers => [ 'Content-Type' => 'application/json', @headers ],
        body => ref $body ? $JSON->encode($body) : $body);
}

sub login {
    my ($user, $fingerprint, $password) = @_;
    return post_json('/auth/login', { username => $user,
        password => $password // $PASSWORD{$user},
        fingerprint => $fingerprint });
}

sub api {
    my ($token, $fingerprint) = @_;
    return http_get('/api/hello', 'X-AUTH-TOKEN' => $token,
        defined $fingerprint ? ('FINGER-PRINT' => $fingerprint) : ());
}

sub logout {
    my ($path, $token, $fingerprint) = @_;
    return http_request(method => 'POST', path => $path,
        headers => [ 'X-AUTH-TOKEN' => $token,
            defined $fingerprint ? ('FINGER-PRINT' => $fingerprint) : () ]);
}

sub refresh {
    my ($refresh_token, $fingerprint) = @_;
    return post_json('/auth/refresh', { refresh_token => $refresh_token,
        fingerprint => $fingerprint });
}

sub session_items {
    my ($stats) = mc_raw('a', "stats\r\n") =~ /STAT curr_items (\d+)/;
    return $stats;
}

sub refused {
    my ($res, $status, $code, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest "$name: $status $code" => sub {
        is($res->{status}, $status, 'status');
        like($res->{headers}{'content-type'} // '', qr{^application/json},
            'JSON');
        is(decoded($res->{body})->{status}, $code, "status $code");
    };
}

###############################################################################
# Login -> 200 -> FINGERPRINT_MISMATCH -> refresh -> logout -> LOGGED_OUT

my $t0 = now();
my $res = login('alice', 'laptop-1');
is($res->{status}, 200, 'login through nginx: 200') or diag($res->{body});
my $token = $res->{headers}{'x-auth-token'} // '';
my $body = decoded($res->{body});
is($body->{access_token}, $token, 'login: the token in X-AUTH-TOKEN and the body');
is_deeply($body->{roles}, ['dev', 'admin'], 'login: the roles in the body');

# Verified independently of the module: Crypt::JWT, the public key.
my $claims = eval { decode_jwt(token => $token, key => key('p256')->{pk},
    accepted_alg => 'ES256') } // {};
is($claims->{sub}, 'alice', 'token: sub');
is_deeply($claims->{roles}, ['dev', 'admin'], 'token: roles');
like($claims->{tokenId} // '', qr/^[A-Za-z0-9_-]{22,}$/,
    'token: a random tokenId of at least 128 bits');
ok($claims->{iat} >= $t0 && $claims->{iat} <= now(), 'token: iat is now');
is($claims->{exp} - $claims->{iat}, 900, 'token: exp 15 minutes after iat');
my ($header) = eval { decode_jwt(token => $token, key => key('p256')->{pk},
    accepted_alg => 'ES256', decode_header => 1) };
is($header && $header->{kid}, 'p256', 'token: kid of the JWKS key');

my $tid = $claims->{tokenId} // 'none';
my $record = decoded(mc_get('a', "session:$tid") // '');
is($record->{fingerprint}, 'laptop-1', 'record: fingerprint');
ok($record->{last_access_time} >= $t0, 'record: last_access_time');
is($record->{session_idle_timeout}, 1800, "record: the user's idle timeout");
is($record->{expires_at} - $record->{last_access_time}, 86400,
    'record: expires_at a day after login');
my $meta = mc_meta('a', "session:$tid");
ok($meta && $meta->{ttl} > 86000 && $meta->{ttl} <= 86401,
    'record: the memcached entry expires at expires_at')
    or diag('ttl ' . ($meta ? $meta->{ttl} : 'none'));

$res = api($token, 'laptop-1');
is($res->{status}, 200, 'API with the token: 200') or diag($res->{body});
is_deeply(decoded($res->{body}), { user => 'alice', roles => 'dev,admin' },
    'API: nginx forwarded the user and roles from the token');

refused(api($token, 'stolen'), 401, 'FINGERPRINT_MISMATCH',
    'API from another device');
refused(api($token), 401, 'FINGERPRINT_MISMATCH', 'API without a fingerprint');

$res = post_json('/auth/refresh', { refresh_token => $body->{refresh_token},
    fingerprint => 'laptop-1' });
is($res->{status}, 200, 'refresh: 200') or diag($res->{body});
my $refreshed = $res->{headers}{'x-auth-token'} // '';
my $rclaims = eval { decode_jwt(token => $refreshed, key => key('p256')->{pk},
    accepted_alg => 'ES256') } // {};
is($rclaims->{tokenId}, $tid, 'refresh: the same session');
isnt($refreshed, $token, 'refresh: a new token');
is(api($refreshed, 'laptop-1')->{status}, 200, 'API with the refreshed token: 200');
my $next_refresh = decoded($res->{body})->{refresh_token};

# Logout from another device, or without the fingerprint: refused, as nginx
# refuses such a request; the session lives on.
for my $fp (undef, 'stolen', '') {
    my $name = defined $fp ? "fingerprint '$fp'" : 'no fingerprint';
    refused(logout('/auth/logout', $token, $fp), 401, 'FINGERPRINT_MISMATCH',
        "logout with $name");
    refused(logout('/auth/logout-all', $token, $fp), 401,
        'FINGERPRINT_MISMATCH', "logout-all with $name");
}
ok(defined mc_get('a', "session:$tid"),
    'refused logouts: the record is still there');
ok(!defined mc_get('a', "revoked:jti:$tid"),
    'refused logouts: the token is not revoked');
is(api($refreshed, 'laptop-1')->{status}, 200,
    'refused logouts: the API still answers 200');

is(http_get('/revocable/', 'X-AUTH-TOKEN' => $token)->{status}, 200,
    'before logout: a location with auth_jwt_revocation only answers 200');

$res = logout('/auth/logout', $token, 'laptop-1');
is($res->{status}, 200, 'logout: 200') or diag($res->{body});
is_rejected(http_get('/revocable/', 'X-AUTH-TOKEN' => $token), 401,
    'TOKEN_REVOKED', 'after logout: nginx finds the revocation record',
    realm => 'demo');
is(decoded($res->{body})->{sessions_ended}, 1, 'logout: one session ended');
ok(!defined mc_get('a', "session:$tid"), 'logout: the record is gone');
my $revocation = mc_meta('a', "revoked:jti:$tid");
ok($revocation, 'logout (--revoke-key): a revocation record for the token');
my $left = ($claims->{exp} // 0) - now();
ok($revocation && abs($revocation->{ttl} - $left) <= 2,
    'logout: the revocation expires at the token\'s exp')
    or diag('ttl ' . ($revocation ? $revocation->{ttl} : 'none') . ", exp in $left s");
like($revocation ? $revocation->{value} : '', qr/^\{"revoked_at":\d+\}$/,
    'logout: the revocation record says when');
is_rejected(api($token, 'laptop-1'), 401, 'LOGGED_OUT', 'API after logout',
    realm => 'demo');
is_rejected(api($refreshed, 'laptop-1'), 401, 'LOGGED_OUT',
    'API with the refreshed token after logout', realm => 'demo');
refused(post_json('/auth/refresh', { refresh_token => $next_refresh,
    fingerprint => 'laptop-1' }), 401, 'LOGGED_OUT', 'refresh after logout');

###############################################################################
# Refusals at login: nothing written

my $items = session_items();
refused(login('alice', 'laptop-1', 'wrong'), 401, 'INVALID_CREDENTIALS',
    'wrong password');
refused(login('mallory', 'laptop-1', 'x'), 401, 'INVALID_CREDENTIALS',
    'unknown user');
refused(post_json('/auth/login', '{"username":'), 400, 'MALFORMED_JSON',
    'malformed JSON');
refused(post_json('/auth/login', { username => 'alice',
    password => $PASSWORD{alice} }), 400, 'MISSING_FIELD',
    'no fingerprint');
refused(http_request(method => 'POST', path => '/auth/login',
    headers => [ 'Content-Type' => 'text/plain' ], body => 'x'), 415,
    'UNSUPPORTED_MEDIA_TYPE', 'not JSON');
refused(post_json('/auth/login', '{"username":"' . ('a' x 20000) . '"}'), 413,
    'BODY_TOO_LARGE', 'a huge body');
is(session_items(), $items, 'refused logins wrote nothing to memcached');

###############################################################################
# Idle timeout: brief's sessions allow 1 second of inactivity

$res = login('brief', 'tablet');
my $brief = $res->{headers}{'x-auth-token'} // '';
is(api($brief, 'tablet')->{status}, 200, 'short-idle user: 200 at once');
sleep 3;
is_rejected(api($brief, 'tablet'), 401, 'SESSION_IDLE_TIMEOUT',
    'short-idle user after 3 idle seconds', realm => 'demo');

###############################################################################
# Logout everywhere: two logins of bob, both LOGGED_OUT after

my $bob1 = login('bob', 'phone')->{headers}{'x-auth-token'} // '';
my $bob2 = login('bob', 'desktop')->{headers}{'x-auth-token'} // '';
my $alice = login('alice', 'laptop-2')->{headers}{'x-auth-token'} // '';
is(api($bob1, 'phone')->{status}, 200, 'bob on his phone: 200');
is(api($bob2, 'desktop')->{status}, 200, 'bob on his desktop: 200');

refused(logout('/auth/logout-all', $bob1), 401, 'FINGERPRINT_MISMATCH',
    'logout-all without a fingerprint');
refused(logout('/auth/logout-all', $bob1, 'desktop'), 401,
    'FINGERPRINT_MISMATCH', "logout-all with another session's fingerprint");
is(api($bob1, 'phone')->{status}, 200, 'refused logout-all: the phone stays');
is(api($bob2, 'desktop')->{status}, 200, 'refused logout-all: the desktop stays');

$res = logout('/auth/logout-all', $bob1, 'phone');
is($res->{status}, 200, 'logout-all: 200') or diag($res->{body});
is(decoded($res->{body})->{sessions_ended}, 2, 'logout-all: both sessions ended');
is_rejected(api($bob1, 'phone'), 401, 'LOGGED_OUT',
    'logout-all: the phone', realm => 'demo');
is_rejected(api($bob2, 'desktop'), 401, 'LOGGED_OUT',
    'logout-all: the desktop', realm => 'demo');
is(api($alice, 'laptop-2')->{status}, 200, "logout-all: alice's session stays");
refused(logout('/auth/logout-all', $bob2, 'desktop'), 401, 'LOGGED_OUT',
    'logout-all with a token whose session ended');

###############################################################################
# Refresh token reuse (OAuth 2.0 Security BCP): a refresh token presented after
# it was rotated ends its session. Both orders of the race between the client
# and a thief who copied the device (fingerprint included): afterwards no
# access token or refresh token of either works.

sub tokens_of {
    my ($res) = @_;
    return { access => $res->{headers}{'x-auth-token'} // '',
        refresh => decoded($res->{body})->{refresh_token} // '' };
}

for my $order ('client first', 'thief first') {
    my $login = tokens_of(login('alice', 'laptop-3'));
    my $rtid = eval { decode_jwt(token => $login->{access},
        key => key('p256')->{pk}, accepted_alg => 'ES256') }->{tokenId} // '';
    $res = refresh($login->{refresh}, 'laptop-3');
    is($res->{status}, 200, "$order: the first refresh succeeds")
        or diag($res->{body});
    my $first = tokens_of($res);
    is(api($first->{access}, 'laptop-3')->{status}, 200,
        "$order: its access token works");

    # The second party presents the same, now rotated, refresh token.
    refused(refresh($login->{refresh}, 'laptop-3'), 401,
        'REFRESH_TOKEN_REUSED', "$order: the rotated refresh token reused");
    ok(!defined mc_get('a', "session:$rtid"),
        "$order: the session record is gone");
    for my $held ([ 'login', $login ], [ 'first refresh', $first ]) {
        my ($what, $tokens) = @$held;
        is_rejected(api($tokens->{access}, 'laptop-3'), 401, 'LOGGED_OUT',
            "$order: the access token of the $what", realm => 'demo');
        refused(refresh($tokens->{refresh}, 'laptop-3'), 401, 'LOGGED_OUT',
            "$order: the refresh token of the $what");
    }
}

# A refresh token never issued is only refused: guessing cannot end a session.
my $kept = tokens_of(login('alice', 'laptop-4'));
my ($kept_id) = split /\./, $kept->{refresh};
refused(refresh("$kept_id." . ('A' x 43), 'laptop-4'), 401,
    'INVALID_REFRESH_TOKEN', 'a refresh token never issued');
is(api($kept->{access}, 'laptop-4')->{status}, 200,
    'a wrong refresh token leaves the session alone');
is(refresh($kept->{refresh}, 'laptop-4')->{status}, 200,
    'and its real refresh token still works');

###############################################################################
# Published keys: a second auth server with a keys directory of its own serves
# its JWKS, signs with a key it lists (Crypt::JWT verifies with the JWKS alone),
# and rotates on SIGHUP: the new key is listed max-age (3 s) before it signs,
# the old one until the access token lifetime (3 s) after.

my $KEYS = testdir() . '/auth-server-keys';
my $rotating = start_auth_server('jwks', '--users', testdir() . '/users.json',
    '--keys-dir', $KEYS, '--jwks-max-age', 3, '--access-token-lifetime', 3,
    '--issuer', 'http://127.0.0.1:' . port('jwks'), '--memcached', $MC,
    '--session-prefix', 'rotating:');

sub jwks {
    my $res = http_request(path => '/.well-known/jwks.json', port => 'jwks',
        headers => [ Connection => 'close' ]);
    return ($res, decoded($res->{body}));
}

sub kids { [ map { $_->{kid} } @{ $_[0]{keys} // [] } ] }

sub direct_login {
    my $res = http_request(method => 'POST', path => '/login', port => 'jwks',
        headers => [ 'Content-Type' => 'application/json',
            Connection => 'close' ],
        body => $JSON->encode({ username => 'alice',
            password => $PASSWORD{alice}, fingerprint => 'f' }));
    return $res->{headers}{'x-auth-token'} // '';
}

# The kid of $token's header, if the JWKS $jwks verifies it.
sub verified_kid {
    my ($token, $jwks) = @_;
    my ($header) = eval { decode_jwt(token => $token, kid_keys => $jwks,
        decode_header => 1) };
    return $header && $header->{kid};
}

my ($jres, $jwks) = jwks();
is($jres->{status}, 200, 'JWKS: 200');
like($jres->{headers}{'content-type'} // '', qr{^application/json},
    'JWKS: JSON');
is($jres->{headers}{'cache-control'}, 'max-age=3',
    'JWKS: Cache-Control max-age');
my $old = kids($jwks)->[0] // 'none';
is(scalar @{ kids($jwks) }, 1, 'JWKS: one key at first');
is_deeply([ sort keys %{ $jwks->{keys}[0] // {} } ],
    [ qw(alg crv kid kty use x y) ], 'JWKS: public members only');
ok(-f "$KEYS/$old.json" && ((stat "$KEYS/$old.json")[2] & 07777) == 0600,
    'the key file is mode 0600');
is(verified_kid(direct_login(), $jwks), $old,
    'a token verifies with the JWKS alone, and names its key');
$res = http_request(path => '/.well-known/openid-configuration',
    port => 'jwks', headers => [ Connection => 'close' ]);
is(decoded($res->{body})->{jwks_uri},
    'http://127.0.0.1:' . port('jwks') . '/.well-known/jwks.json',
    'openid-configuration: jwks_uri');

kill 'HUP', $rotating;
ok(wait_for(5, sub { @{ kids((jwks())[1]) } == 2 }),
    'SIGHUP: the new key is published at once');
(undef, $jwks) = jwks();
my ($new) = grep { $_ ne $old } @{ kids($jwks) };
is(verified_kid(direct_login(), $jwks), $old,
    'SIGHUP: the old key still signs, for a max-age');
ok(wait_for(5, sub { (verified_kid(direct_login(), $jwks) // '') eq
    ($new // 'none') }), 'then the new key signs');
is_deeply(kids((jwks())[1]), [ $old, $new ],
    'the old key stays published while its tokens live');
ok(wait_for(6, sub { "@{ kids((jwks())[1]) }" eq ($new // 'none') }),
    'then it is removed');
ok(wait_for(3, sub { !-e "$KEYS/$old.json" }), 'and its file deleted');
unlike(slurp(testdir() . '/jwks.log'), qr/error/i,
    'the rotating auth server logged no error');

no_log_alerts();

done_testing();
