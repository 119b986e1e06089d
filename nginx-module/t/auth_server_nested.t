#!/usr/bin/perl

# End to end: the reference auth server with --encrypt-key issues nested
# tokens (a JWS encrypted to nginx's key). Crypt::JWT decrypts one with the
# shared secret and verifies the JWS inside with the auth server's public
# key; nginx with auth_jwt_type nested accepts the tokens of a login and of
# a refresh and forwards their claims; a location of plain signed tokens
# refuses them, and the nested location refuses the JWS inside when it
# comes bare; logout reads a nested token back and ends its session. The
# auth server refuses to start with an encryption key it could not read its
# tokens back with (a public key), or an alg that does not fit the key.
#
# The auth server binary comes from TEST_AUTH_SERVER (default
# examples/auth-server/.build/debug/auth-server), as in auth_server.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use Test::More;
use AuthJWTTest;
use SessionTest;
use AuthServerTest;

require_auth_server();
require_module();

my $AUTH_SERVER = auth_server_path();
my $JSON = JSON::PP->new->canonical;

# Runs `auth-server serve` with @args, which must refuse to start: returns
# (exit status, output). A server that starts after all is stopped after
# 20 s (timeout(1)), and the test fails.
sub refused_start {
    my (@args) = @_;
    my $out = testdir() . '/refused.out';
    my $listen = '127.0.0.1:' . port('refused');
    system("timeout -s KILL 20 '$AUTH_SERVER' serve --listen $listen "
        . join(' ', map { "'$_'" } @args) . " >'$out' 2>&1 </dev/null");
    return ($? >> 8, slurp($out));
}

sub decoded {
    my ($text) = @_;
    return eval { $JSON->decode($text) } // {};
}

sub segment_json {
    my ($segment) = @_;
    return eval { $JSON->decode(b64u_decode($segment)) };
}

###############################################################################
# Keys: the auth server signs with ES256 (nginx verifies with jwks.json) and
# encrypts to a 256-bit secret it shares with nginx (enc.jwk).

my $hash = `printf 'alice-secret\\n' | '$AUTH_SERVER' hash-password --cost 4`;
chomp $hash;
like($hash, qr/^\$2b\$04\$/, 'hash-password for the users file');
write_file('users.json', $JSON->encode({ users => [
    { username => 'alice', password_hash => $hash,
      roles => ['dev', 'admin'], session_idle_timeout => 1800 },
] }));

my $SECRET = join '', map { chr(($_ * 29 + 7) % 256) } 1 .. 32;
write_file('enc.jwk', $JSON->encode({ kty => 'oct', kid => 'enc-1',
    use => 'enc', k => b64u($SECRET) }));
chmod 0600, testdir() . '/enc.jwk';
write_jwks('jwks.json', jwk_public('p256', alg => 'ES256'));

start_memcached('a');
my $MC = '127.0.0.1:' . memcached_port('a');
my @USERS = ('--users', testdir() . '/users.json', '--memcached', $MC);
my @SIGNING = ('--signing-key', key_file('p256', 'priv'), '--kid', 'p256',
    '--jwks', testdir() . '/jwks.json');

start_auth_server('auth', @USERS, @SIGNING,
    '--encrypt-key', testdir() . '/enc.jwk');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "demo" token=$http_x_auth_token;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=session:$jwt_claim_tokenId
                         fingerprint=$http_finger_print;

        location /auth/ {
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_auth%%/;
        }

        location /nested/ {
            auth_jwt_type nested;
            auth_jwt_key_file %%TESTDIR%%/enc.jwk;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            proxy_set_header X-User $jwt_claim_sub;
            proxy_set_header X-Roles $jwt_claim_roles;
            proxy_set_header X-Alg $jwt_header_alg;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }

        location /signed/ {
            proxy_set_header X-User $jwt_claim_sub;
            proxy_pass http://127.0.0.1:%%PORT_app%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_app%%;
        default_type application/json;
        location / {
            return 200 '{"user":"$http_x_user","roles":"$http_x_roles","alg":"$http_x_alg"}';
        }
    }
EOF

sub post_json {
    my ($path, $body) = @_;
    return http_request(method => 'POST', path => $path,
        headers => [ 'Content-Type' => 'application/json' ],
        body => $JSON->encode($body));
}

sub call {
    my ($path, $token, $fingerprint) = @_;
    return http_get($path, 'X-AUTH-TOKEN' => $token,
        'FINGER-PRINT' => $fingerprint // 'laptop-1');
}

###############################################################################
# Login: a nested token

my $res = post_json('/auth/login', { username => 'alice',
    password => 'alice-secret', fingerprint => 'laptop-1' });
is($res->{status}, 200, 'login through nginx: 200') or diag($res->{body});
my $token = $res->{headers}{'x-auth-token'} // '';
my @segments = split /\./, $token, -1;
is(scalar @segments, 5, 'login: a JWE, five segments');
my $header = segment_json($segments[0]) // {};
is_deeply([ @$header{qw(alg enc cty kid)} ], [ 'A256KW', 'A256GCM', 'JWT', 'enc-1' ],
    'login: header alg A256KW, enc A256GCM, cty JWT, the key\'s kid');
ok(!defined segment_json($segments[3]), 'login: the claims are not readable');
unlike(b64u_decode($segments[3] // ''), qr/alice/, 'login: no sub in the clear');

# Independently of the module: Crypt::JWT decrypts with the secret, then
# verifies the JWS inside with the auth server's public key.
my $inner = eval { decode_jwt(token => $token, key => $SECRET,
    accepted_alg => 'A256KW', accepted_enc => 'A256GCM',
    decode_payload => 0) } // '';
is(scalar(split /\./, $inner), 3, 'Crypt::JWT: the plaintext is a JWS')
    or diag($@);
my $claims = eval { decode_jwt(token => $inner, key => key('p256')->{pk},
    accepted_alg => 'ES256') } // {};
is($claims->{sub}, 'alice', 'Crypt::JWT: the JWS inside verifies: sub');
is_deeply($claims->{roles}, ['dev', 'admin'], 'Crypt::JWT: roles');
my $tid = $claims->{tokenId} // 'none';
is(decoded(mc_get('a', "session:$tid") // '')->{fingerprint}, 'laptop-1',
    'the session record of the token\'s tokenId');

###############################################################################
# nginx: nested accepted, claims forwarded; refused where signed is configured

$res = call('/nested/hello', $token);
is($res->{status}, 200, 'auth_jwt_type nested: 200') or diag($res->{body});
is_deeply(decoded($res->{body}),
    { user => 'alice', roles => 'dev,admin', alg => 'ES256' },
    'auth_jwt_type nested: the claims and the inner header forwarded');
is(call('/signed/hello', $token)->{status}, 401,
    'auth_jwt_type signed: the nested token refused');
is(call('/signed/hello', $inner)->{status}, 200,
    'auth_jwt_type signed: the JWS inside, bare, passes there');
is(call('/nested/hello', $inner)->{status}, 401,
    'auth_jwt_type nested: the JWS inside, bare, refused');
is(call('/nested/hello', $token, 'stolen')->{status}, 401,
    'auth_jwt_type nested: the session still checked (another device)');

###############################################################################
# Refresh: nested too; logout reads a nested token back

my $second = decoded(post_json('/auth/login', { username => 'alice',
    password => 'alice-secret', fingerprint => 'laptop-1' })->{body});
$res = post_json('/auth/refresh', {
    refresh_token => $second->{refresh_token} // '',
    fingerprint => 'laptop-1' });
is($res->{status}, 200, 'refresh: 200') or diag($res->{body});
my $refreshed = $res->{headers}{'x-auth-token'} // '';
is(scalar(split /\./, $refreshed, -1), 5, 'refresh: a nested token');
is(decoded(call('/nested/hello', $refreshed)->{body})->{user}, 'alice',
    'refresh: nginx opens it');
is(call('/signed/hello', $refreshed)->{status}, 401,
    'refresh: refused where signed tokens are configured');

$res = http_request(method => 'POST', path => '/auth/logout',
    headers => [ 'X-AUTH-TOKEN' => $token, 'FINGER-PRINT' => 'laptop-1' ]);
is($res->{status}, 200, 'logout with a nested token: 200')
    or diag($res->{body});
is(decoded($res->{body})->{sessions_ended}, 1, 'logout: its session ended');
is(mc_get('a', "session:$tid"), undef, 'logout: the record is gone');
is(call('/nested/hello', $token)->{status}, 401,
    'after logout: the nested token refused');
is(call('/nested/hello', $refreshed)->{status}, 200,
    'after logout: the other session\'s token still passes');

$res = http_request(method => 'POST', path => '/auth/logout',
    headers => [ 'X-AUTH-TOKEN' => $inner, 'FINGER-PRINT' => 'laptop-1' ]);
is($res->{status}, 401, 'logout: a bare JWS refused (the server issues nested tokens)');

###############################################################################
# Refused at start

my ($rc, $out) = refused_start(@USERS, @SIGNING,
    '--encrypt-key', key_file('p256', 'pub'));
isnt($rc, 0, 'a public encryption key: the server does not start');
like($out, qr/could not read its own tokens back/, 'and says why')
    or diag($out);

($rc, $out) = refused_start(@USERS, @SIGNING,
    '--encrypt-key', testdir() . '/enc.jwk', '--encrypt-alg', 'RSA-OAEP-256');
isnt($rc, 0, 'an alg the key cannot serve: the server does not start');
like($out, qr/RSA-OAEP-256 cannot be used with this key/, 'and says why')
    or diag($out);

($rc, $out) = refused_start(@USERS, @SIGNING, '--encrypt-enc', 'A128GCM');
isnt($rc, 0, '--encrypt-enc without --encrypt-key: refused');
like($out, qr/need --encrypt-key/, 'and says why') or diag($out);

no_log_alerts();

done_testing();
