#!/usr/bin/perl

# "satisfy any" with our challenge among others. When
# another access module grants, nginx clears the challenges already set;
# 1.23+ finds them by following WWW-Authenticate's h->next from
# r->headers_out.www_authenticate, so a challenge pushed without h->next set
# sends the worker through uninitialised memory. MALLOC_PERTURB_ makes that
# memory non-zero, so the missing link crashes the worker every time
# instead of now and then. When nobody grants, every challenge is sent.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));
write_file('htpasswd', "alice:{PLAIN}secret\n");

start_nginx(<<'EOF', env => { MALLOC_PERTURB_ => 165 });
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /allow {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt "test";
            empty_gif;
        }

        location /allow-basic {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_basic "basic";
            auth_basic_user_file %%TESTDIR%%/htpasswd;
            auth_jwt "test";
            empty_gif;
        }

        location /basic {
            satisfy any;
            deny all;
            auth_basic "basic";
            auth_basic_user_file %%TESTDIR%%/htpasswd;
            auth_jwt "test";
            empty_gif;
        }
    }
EOF

my @workers = nginx_workers();
my $valid = mint();
my $bad = mint(key => 'hmac2', kid => undef);
my $garbage = 'not.a.token';

# Granted by the access module after our 401: the challenge is cleared.
for my $path ('/allow', '/allow-basic') {
    for my $case ([ 'no token', [] ],
        [ 'a token with the wrong key', [ Authorization => "Bearer $bad" ] ],
        [ 'a malformed token', [ Authorization => "Bearer $garbage" ] ])
    {
        my ($what, $headers) = @$case;
        my $res = http_get($path, @$headers);
        is_ok($res, "$path, $what");
        ok(!exists $res->{headers}{'www-authenticate'},
            "$path, $what: no WWW-Authenticate")
            or diag($res->{headers}{'www-authenticate'});
    }
}

# Granted by auth_basic after our 401 and the access module's 403: the
# Basic credentials are no bearer token, so ours is TOKEN_MISSING.
my $res = http_get('/basic', Authorization => 'Basic YWxpY2U6c2VjcmV0');
is_ok($res, '/basic, right Basic credentials');
ok(!exists $res->{headers}{'www-authenticate'},
    '/basic, right Basic credentials: no WWW-Authenticate');

# Nobody grants: 401 with both challenges.
for my $case ([ 'no credentials', [] ],
    [ 'a token with the wrong key', [ Authorization => "Bearer $bad" ] ],
    [ 'wrong Basic credentials',
        [ Authorization => 'Basic YWxpY2U6d3Jvbmc=' ] ])
{
    my ($what, $headers) = @$case;
    $res = http_get('/basic', @$headers);
    is($res->{status}, 401, "/basic, $what: 401");
    my @www = $res->{raw} =~ /^WWW-Authenticate: *([^\r\n]*)\r$/mgi;
    my $bearer = $what =~ /token/
        ? 'Bearer realm="test", error="invalid_token"'
        : 'Bearer realm="test"';
    is_deeply([ sort @www ], [ 'Basic realm="basic"', $bearer ],
        "/basic, $what: both challenges");
}

# A valid token still passes on its own.
is_ok(http_get_token('/basic', $valid), '/basic, valid token');

# No worker died: the same worker served every request.
is_deeply([ sort { $a <=> $b } nginx_workers() ],
    [ sort { $a <=> $b } @workers ], 'the worker is the one started');
unlike(error_log(), qr/exited on signal/, 'no worker exited on a signal');
no_log_alerts();

done_testing();
