#!/usr/bin/perl

# Every status the JWT check produces, with its JSON body, Content-Type and
# WWW-Authenticate; error_page replacing the body; satisfy.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

start_nginx(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location / { auth_jwt "test"; empty_gif; }

        location /realm { auth_jwt "Admin \"area\" 1"; empty_gif; }
        location /realm-var { auth_jwt "realm-$arg_r"; empty_gif; }

        location /require-403 {
            auth_jwt "test";
            auth_jwt_require $jwt_claim_admin error=403;
            empty_gif;
        }
        location /require-401 {
            auth_jwt "test";
            auth_jwt_require $jwt_claim_admin error=401;
            empty_gif;
        }

        location /custom {
            auth_jwt "test";
            auth_jwt_require $jwt_claim_admin error=403;
            error_page 401 /denied;
            error_page 403 /forbidden;
            empty_gif;
        }
        location = /denied {
            internal;
            default_type text/plain;
            return 200 "custom denied: $jwt_auth_status\n";
        }
        location = /forbidden {
            internal;
            default_type text/plain;
            return 200 "custom forbidden: $jwt_auth_status\n";
        }

        location /proxied {
            auth_jwt "test";
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /satisfy-allow {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt "test";
            empty_gif;
        }
        location /satisfy-deny {
            satisfy any;
            deny all;
            auth_jwt "test";
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / { return 200 "upstream reached\n"; }
    }
EOF

my $now = now();
my $valid   = mint();
my $admin   = mint(claims => { sub => 'root', admin => JSON::PP::true, exp => $now + 300 });
my $expired = mint(claims => { sub => 'alice', exp => $now - 60 });
my $garbage = 'not.a.token';

# 200
my $res = http_get_token('/', $valid);
is_ok($res, 'valid token');
is($res->{headers}{'content-type'}, 'image/gif', 'valid token: content handler ran');
ok(!exists $res->{headers}{'www-authenticate'}, 'valid token: no WWW-Authenticate');

# 401 TOKEN_MISSING, INVALID_TOKEN, TOKEN_EXPIRED
is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no Authorization header');
is_rejected(http_get('/', Authorization => 'Basic YWxpY2U6c2VjcmV0'), 401,
    'TOKEN_MISSING', 'Basic credentials only');
is_rejected(http_get_token('/', $garbage), 401, 'INVALID_TOKEN', 'malformed token');
is_rejected(http_get_token('/', $expired), 401, 'TOKEN_EXPIRED', 'expired token');

# The realm, quoted-string escaped, and from variables.
is_rejected(http_get('/realm'), 401, 'TOKEN_MISSING', 'realm with quotes',
    realm => 'Admin \"area\" 1');
is_rejected(http_get_token('/realm-var?r=x1', $garbage), 401, 'INVALID_TOKEN',
    'realm with a variable', realm => 'realm-x1');

# auth_jwt_require: 403 FORBIDDEN (no WWW-Authenticate) or 401 INVALID_TOKEN.
is_rejected(http_get_token('/require-403', $valid), 403, 'FORBIDDEN',
    'require error=403 failed');
is_ok(http_get_token('/require-403', $admin), 'require error=403 met');
is_rejected(http_get_token('/require-401', $valid), 401, 'INVALID_TOKEN',
    'require error=401 failed');
is_ok(http_get_token('/require-401', $admin), 'require error=401 met');
is_rejected(http_get_token('/require-403', $expired), 401, 'TOKEN_EXPIRED',
    'require error=403 with an expired token: expiry first');

# error_page replaces the body; the status stays; $jwt_auth_status survives
# the internal redirect.
$res = http_get('/custom');
is($res->{status}, 401, 'error_page 401: status 401');
is($res->{body}, "custom denied: TOKEN_MISSING\n",
    'error_page 401: custom body with $jwt_auth_status');
like($res->{headers}{'content-type'}, qr{^text/plain}, 'error_page 401: its Content-Type');
$res = http_get_token('/custom', $expired);
is($res->{body}, "custom denied: TOKEN_EXPIRED\n", 'error_page 401 for an expired token');
$res = http_get_token('/custom', $valid);
is($res->{status}, 403, 'error_page 403: status 403');
is($res->{body}, "custom forbidden: FORBIDDEN\n", 'error_page 403: custom body');
is_ok(http_get_token('/custom', $admin), 'error_page location with a valid admin token');

# The content handler is not reached on rejection.
$res = http_get('/proxied');
is_rejected($res, 401, 'TOKEN_MISSING', 'proxied location, no token');
unlike($res->{body}, qr/upstream reached/, 'proxied location: upstream not reached');
$res = http_get_token('/proxied', $valid);
is_ok($res, 'proxied location, valid token');
is($res->{body}, "upstream reached\n", 'proxied location: upstream reached');

# HEAD gets the status and headers.
$res = http_request(method => 'HEAD', path => '/');
is($res->{status}, 401, 'HEAD without token: 401');
like($res->{headers}{'content-type'} // '', qr{^application/json}, 'HEAD: JSON type');

# satisfy any: another access module can grant; if none does, our JSON.
is_ok(http_get('/satisfy-allow'), 'satisfy any with allow 127.0.0.1, no token');
is_rejected(http_get('/satisfy-deny'), 401, 'TOKEN_MISSING',
    'satisfy any with deny all, no token');
is_ok(http_get_token('/satisfy-deny', $valid),
    'satisfy any with deny all, valid token');

# Keep-alive: a rejection leaves the connection usable.
my $two = http_request(raw => "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    . "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer $valid\r\n"
    . "Connection: close\r\n\r\n");
like($two->{raw}, qr{^HTTP/1\.1 401 .*\r\n\r\n\{"status":"TOKEN_MISSING"\}HTTP/1\.1 200 }s,
    'pipelined: 401 then 200 on one connection');

like(error_log(), qr/\[info\].*auth_jwt: TOKEN_MISSING: /, 'TOKEN_MISSING logged at info');
like(error_log(), qr/\[info\].*auth_jwt: FORBIDDEN: /, 'FORBIDDEN logged at info');
my $signature = (split /\./, $expired)[2];
unlike(error_log(), qr/\Q$valid\E|\Q$signature\E/,
    'no token or signature in the error log');

no_log_alerts();

done_testing();
