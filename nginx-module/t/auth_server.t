#!/usr/bin/perl

# End to end: the reference auth server (examples/auth-server) behind nginx,
# as `make run` starts it. A login through nginx writes a session record and
# hands out a token that Crypt::JWT verifies independently; the API answers
# 200 with the user and roles nginx forwarded; another device gets
# FINGERPRINT_MISMATCH; a refresh gives a token for the same session; logout
# ends it (LOGGED_OUT); a short-idle user times out; logout-all ends every
# session of the user.
#
# The auth server binary comes from TEST_AUTH_SERVER (default
# examples/auth-server/.build/debug/auth-server); when it is missing the test
# fails, as the module's tests do.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw(abs_path);
use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);
use AuthJWTTest;
use SessionTest;

my $AUTH_SERVER = abs_path("$FindBin::Bin/../..")
    . '/examples/auth-server/.build/debug/auth-server';
$AUTH_SERVER = $ENV{TEST_AUTH_SERVER} if $ENV{TEST_AUTH_SERVER};

unless (-x $AUTH_SERVER) {
    my $msg = "auth server not found at $AUTH_SERVER"
        . " (build it with 'make auth-server')";
    plan(skip_all => $msg) if $ENV{TEST_AUTH_JWT_SKIP_MISSING};
    BAIL_OUT($msg);
}
require_module();

my $JSON = JSON::PP->new->canonical;
my $AUTH_PID;
my $OWNER = $$;

END {
    local $?;
    if ($AUTH_PID && $$ == $OWNER) {
        kill 'TERM', $AUTH_PID;
        kill 'KILL', $AUTH_PID
            unless wait_for(5, sub { waitpid($AUTH_PID, WNOHANG) != 0 });
    }
}

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

my $listen = '127.0.0.1:' . port('auth');    # chosen before the fork
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', testdir() . '/auth-server.log';
    open STDERR, '>&', \*STDOUT;
    exec($AUTH_SERVER, 'serve', '--listen', $listen,
        '--users', testdir() . '/users.json',
        '--signing-key', key_file('p256', 'priv'), '--kid', 'p256',
        '--jwks', testdir() . '/jwks.json', '--memcached', $MC)
        or POSIX::_exit(127);
}
$AUTH_PID = $pid;
my $up = wait_for(30, sub {
    die "auth server exited:\n" . slurp(testdir() . '/auth-server.log')
        if waitpid($AUTH_PID, WNOHANG) == $AUTH_PID;
    # Connection: close, as nginx sends it: Hummingbird keeps an HTTP/1.0
    # connection open without it.
    http_request(path => '/health', port => 'auth',
        headers => [ Connection => 'close' ])->{status} == 200;
});
ok($up, 'the auth server answers /health')
    or BAIL_OUT('auth server did not start: '
        . slurp(testdir() . '/auth-server.log'));

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
    }

    server {
        listen 127.0.0.1:%%PORT_app%%;
        default_type application/json;
        location / {
            return 200 '{"user":"$http_x_user","roles":$http_x_roles}';
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
    my ($path, $token) = @_;
    return http_request(method => 'POST', path => $path,
        headers => [ 'X-AUTH-TOKEN' => $token ]);
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
is_deeply(decoded($res->{body}), { user => 'alice', roles => ['dev', 'admin'] },
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
refused(post_json('/auth/refresh', { refresh_token => $body->{refresh_token},
    fingerprint => 'laptop-1' }), 401, 'INVALID_REFRESH_TOKEN',
    'refresh token used twice');
my $next_refresh = decoded($res->{body})->{refresh_token};

$res = logout('/auth/logout', $token);
is($res->{status}, 200, 'logout: 200') or diag($res->{body});
is(decoded($res->{body})->{sessions_ended}, 1, 'logout: one session ended');
ok(!defined mc_get('a', "session:$tid"), 'logout: the record is gone');
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

$res = logout('/auth/logout-all', $bob1);
is($res->{status}, 200, 'logout-all: 200') or diag($res->{body});
is(decoded($res->{body})->{sessions_ended}, 2, 'logout-all: both sessions ended');
is_rejected(api($bob1, 'phone'), 401, 'LOGGED_OUT',
    'logout-all: the phone', realm => 'demo');
is_rejected(api($bob2, 'desktop'), 401, 'LOGGED_OUT',
    'logout-all: the desktop', realm => 'demo');
is(api($alice, 'laptop-2')->{status}, 200, "logout-all: alice's session stays");
refused(logout('/auth/logout-all', $bob2), 401, 'LOGGED_OUT',
    'logout-all with a token whose session ended');

no_log_alerts();

done_testing();
