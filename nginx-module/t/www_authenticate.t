#!/usr/bin/perl

# auth_jwt_www_authenticate on | off | string (kjdev/nginx-auth-jwt's): the
# challenge of a 401. "on" (the default) is Bearer with the realm, and
# error="invalid_token" when a token was presented; "off" sends none (an
# error_page can add its own); a string, variables included, is sent as it
# is. A refusal other than 401 never carries a challenge; the level below
# inherits the setting; nginx -t refuses a duplicate.

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
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /on { empty_gif; }
        location /off { auth_jwt_www_authenticate off; empty_gif; }
        location /custom {
            auth_jwt_www_authenticate 'Bearer resource_metadata="https://$host/meta", scope="$arg_scope"';
            empty_gif;
        }
        location /forbid {
            auth_jwt_www_authenticate 'Bearer scope="x"';
            auth_jwt_require_claim role eq admin error=403;
            empty_gif;
        }
        location /parent/ {
            auth_jwt_www_authenticate off;
            location /parent/child { empty_gif; }
        }
    }
EOF

my $bad = mint(claims => { sub => 'alice', exp => now() - 600 });
my $good = mint(claims => { sub => 'alice', role => 'user', exp => now() + 300 });

sub challenge {
    my ($r) = @_;
    return $r->{headers}{'www-authenticate'} // '(none)';
}

my $r = http_get('/on');
is("$r->{status} " . challenge($r), '401 Bearer realm="test"', 'on: no token');
$r = http_get_token('/on', $bad);
is("$r->{status} " . challenge($r), '401 Bearer realm="test", error="invalid_token"',
    'on: a refused token');

$r = http_get_token('/off', $bad);
is("$r->{status} " . challenge($r), '401 (none)', 'off: no challenge');
like($r->{body}, qr/TOKEN_EXPIRED/, 'off: the JSON body stays');

$r = http_get_token('/custom?scope=read', $bad);
is("$r->{status} " . challenge($r),
    '401 Bearer resource_metadata="https://localhost/meta", scope="read"',
    'a string, with its variables');

$r = http_get_token('/forbid', $good);
is("$r->{status} " . challenge($r), '403 (none)', 'no challenge on a 403');

$r = http_get_token('/parent/child', $bad);
is("$r->{status} " . challenge($r), '401 (none)', 'inherited');

my ($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt "t";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_www_authenticate off;
        auth_jwt_www_authenticate on;
    }
EOF
isnt($rc, 0, 'nginx -t fails: duplicate');
like($out, qr/"auth_jwt_www_authenticate" directive is duplicate/, 'and names it');

stop_nginx();
done_testing();
