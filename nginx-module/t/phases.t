#!/usr/bin/perl

# The verdict and the variables across request phases: claims read in the
# rewrite phase (if, set) before the access check, and a location change
# (rewrite ... last) that must be decided again under the new location's
# keys.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('a.json', 'hmac');
write_jwks('b.json', 'hmac2');

start_nginx(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/a.json;

        location /if {
            auth_jwt "test";
            set $who "anonymous";
            if ($jwt_claim_role = "admin") {
                set $who "admin:$jwt_claim_sub";
            }
            proxy_set_header X-Who $who;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /a/ {
            auth_jwt "a";
            set $early "[$jwt_claim_sub]";
            rewrite ^/a/(.*)$ /b/$1 last;
        }

        location /b/ {
            auth_jwt "b";
            auth_jwt_key_file %%TESTDIR%%/b.json;
            proxy_set_header X-Early $early;
            proxy_set_header X-Sub $jwt_claim_sub;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / {
            default_type text/plain;
            return 200 "who=$http_x_who early=$http_x_early sub=$http_x_sub\n";
        }
    }
EOF

my $exp = now() + 300;
my $admin = mint(claims => { sub => 'alice', role => 'admin', exp => $exp });
my $user = mint(claims => { sub => 'bob', role => 'user', exp => $exp });

# Claims in "if" and "set": read in the rewrite phase, before access.
my $res = http_get_token('/if', $admin);
is_ok($res, 'if on a claim: admin token');
like($res->{body}, qr/^who=admin:alice /, 'if ($jwt_claim_role = admin) matched in the rewrite phase');

$res = http_get_token('/if', $user);
is_ok($res, 'if on a claim: user token');
like($res->{body}, qr/^who=anonymous /, 'if on a claim: no match for another role');

# Reading claims early never lets a bad token through, nor changes its code.
is_rejected(http_get_token('/if', "${admin}x"), 401, 'INVALID_TOKEN', 'tampered token read by if');
is_rejected(http_get('/if'), 401, 'TOKEN_MISSING', 'no token read by if');
is_rejected(http_get_token('/if', mint(claims => { sub => 'c', role => 'admin', exp => now() - 10 })),
    401, 'TOKEN_EXPIRED', 'expired token read by if');

# rewrite ... last: /a/ reads the claims under a.json; /b/ decides again
# under b.json, so a token only a.json accepts is refused there.
$res = http_get_token('/a/x', $admin);
is_rejected($res, 401, 'INVALID_TOKEN', 'token for /a/ keys refused after rewrite to /b/', realm => 'b');

my $for_b = mint(key => 'hmac2', claims => { sub => 'carol', exp => $exp });
$res = http_get_token('/a/x', $for_b);
is_ok($res, 'token for /b/ keys accepted after the rewrite');
like($res->{body}, qr/early=\[\] sub=carol$/m, 'claims: empty under /a/ keys, set under /b/ keys');

my $log = error_log();
my $count = () = $log =~ /auth_jwt: INVALID_TOKEN: signature verification failed/g;
is($count, 1, 'the tampered token is logged once, by the access check');

no_log_alerts();

done_testing();
