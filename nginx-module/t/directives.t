#!/usr/bin/perl

# Token sources (Authorization Bearer, token=$variable), auth_jwt off,
# inheritance http -> server -> location of every directive,
# auth_jwt_require, limit_except.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac rsa));

start_nginx(<<'EOF');
    auth_jwt "http-realm";
    auth_jwt_key_file %%TESTDIR%%/jwks.json;
    auth_jwt_leeway 60s;

    map $jwt_claim_role $is_admin {
        admin    1;
        default  0;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location / { empty_gif; }

        location /off {
            auth_jwt off;
            empty_gif;

            location /off/on { auth_jwt "nested"; empty_gif; }
        }

        location /protected {
            empty_gif;

            location /protected/public { auth_jwt off; empty_gif; }
        }

        location /header {
            auth_jwt "h" token=$http_x_auth_token;
            empty_gif;

            location /header/nested { empty_gif; }
        }
        location /cookie { auth_jwt "c" token=$cookie_jwt; empty_gif; }
        location /arg { auth_jwt "a" token=$arg_access_token; empty_gif; }

        location /leeway-0 { auth_jwt_leeway 0; empty_gif; }
        location /rsa-only { auth_jwt_key_file %%KEY_rsa%%; empty_gif; }

        location /require-all {
            auth_jwt_require $jwt_claim_a $jwt_claim_b error=403;
            empty_gif;
        }
        location /require-two {
            auth_jwt_require $jwt_claim_a;
            auth_jwt_require $jwt_claim_b error=403;
            empty_gif;
        }
        location /require-map {
            auth_jwt_require $is_admin error=403;
            empty_gif;
        }

        location /limit {
            auth_jwt off;
            limit_except GET { auth_jwt "writers"; }
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
        location /limit-keys {
            auth_jwt off;
            limit_except GET {
                auth_jwt "writers";
                auth_jwt_key_file %%KEY_rsa%%;
                auth_jwt_require $jwt_claim_writer;
            }
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt off;
        location / { return 200 "upstream $request_method\n"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8082%%;
        auth_jwt "server-realm";
        auth_jwt_leeway 0s;
        auth_jwt_require $jwt_claim_scope;

        location / { empty_gif; }
        location /leeway { auth_jwt_leeway 60s; empty_gif; }
    }

    server {
        listen 127.0.0.1:%%PORT_8083%%;
        auth_jwt_key_file %%KEY_rsa%%;

        location / { empty_gif; }
        location /nested { location /nested/deeper { empty_gif; } }
    }
EOF

my $now = now();
my $valid = mint();
my $rsa = mint(alg => 'RS256');
my $late = mint(claims => { sub => 'alice', exp => $now - 30 });

sub get {
    my ($path, @headers) = @_;
    return http_get($path, @headers);
}

# Defaults and inheritance from http.
is_rejected(get('/'), 401, 'TOKEN_MISSING', 'http-level auth_jwt inherited',
    realm => 'http-realm');
is_ok(get('/', Authorization => "Bearer $valid"), 'http-level key file inherited');
is_ok(get('/', Authorization => "Bearer $late"), 'http-level leeway 60s inherited');
is_rejected(get('/leeway-0', Authorization => "Bearer $late"), 401,
    'TOKEN_EXPIRED', 'location leeway 0 overrides http', realm => 'http-realm');

# The Bearer scheme.
for my $scheme (qw(Bearer bearer BEARER bEaReR)) {
    is_ok(get('/', Authorization => "$scheme $valid"), "scheme spelled $scheme");
}
for my $case (
    [ "Bearer$valid", 'no space after Bearer' ],
    [ "Token $valid", 'another scheme' ],
    [ "Basic $valid", 'Basic scheme' ],
    [ 'Bearer', 'Bearer alone' ],
    [ "$valid", 'token without a scheme' ],
) {
    is_rejected(get('/', Authorization => $case->[0]), 401, 'TOKEN_MISSING',
        $case->[1], realm => 'http-realm');
}

# auth_jwt off, and on again, in nested locations.
is_ok(get('/off'), 'auth_jwt off: no token needed');
is_rejected(get('/off/on'), 401, 'TOKEN_MISSING', 'auth_jwt on nested in off',
    realm => 'nested');
is_ok(get('/off/on', Authorization => "Bearer $valid"),
    'nested auth_jwt inherits the key file');
is_rejected(get('/protected'), 401, 'TOKEN_MISSING', 'protected parent',
    realm => 'http-realm');
is_ok(get('/protected/public'), 'auth_jwt off nested in a protected location');

# token=$variable sources.
is_ok(get('/header', 'X-Auth-Token' => $valid), 'token=$http_x_auth_token');
is_ok(get('/header/nested', 'X-Auth-Token' => $valid),
    'token= source inherited by a nested location');
is_rejected(get('/header', Authorization => "Bearer $valid"), 401,
    'TOKEN_MISSING', 'token= source ignores Authorization', realm => 'h');
is_rejected(get('/header', 'X-Auth-Token' => 'a.b.c'), 401, 'INVALID_TOKEN',
    'invalid token from X-Auth-Token', realm => 'h');
is_ok(get('/cookie', Cookie => "jwt=$valid"), 'token=$cookie_jwt');
is_ok(get('/cookie', Cookie => "theme=dark; jwt=$valid; lang=en"),
    'token=$cookie_jwt among other cookies');
is_rejected(get('/cookie', Cookie => "notjwt=$valid"), 401, 'TOKEN_MISSING',
    'other cookie only', realm => 'c');
is_ok(get("/arg?access_token=$valid"), 'token=$arg_access_token');
is_ok(get("/arg?x=1&access_token=$valid&y=2"), 'token=$arg_access_token among others');
is_rejected(get('/arg?token=x'), 401, 'TOKEN_MISSING', 'other argument only',
    realm => 'a');

# Key files: a location's own replace the inherited ones.
is_ok(get('/rsa-only', Authorization => "Bearer $rsa"), 'location key file: RS256');
is_rejected(get('/rsa-only', Authorization => "Bearer $valid"), 401,
    'INVALID_TOKEN', 'location key file replaces inherited (HS256 refused)',
    realm => 'http-realm');

# auth_jwt_require: every value non-empty and not "0".
sub claims_token { mint(claims => { sub => 'alice', exp => $now + 300, @_ }) }
is_ok(get('/require-all', Authorization => 'Bearer ' . claims_token(a => 1, b => 'x')),
    'require: all values set');
for my $case (
    [ [ a => 1 ], 'second value missing' ],
    [ [ b => 1 ], 'first value missing' ],
    [ [ a => 0, b => 1 ], 'value "0"' ],
    [ [ a => '0', b => 1 ], 'value "0" as a string' ],
    [ [ a => '', b => 1 ], 'empty string' ],
) {
    is_rejected(get('/require-all', Authorization => 'Bearer '
        . claims_token(@{ $case->[0] })), 403, 'FORBIDDEN', "require: $case->[1]");
}
is_ok(get('/require-all', Authorization => 'Bearer ' . claims_token(a => '00', b => 'x')),
    'require: "00" is not "0"');
is_rejected(get('/require-two', Authorization => 'Bearer ' . claims_token(b => 1)),
    401, 'INVALID_TOKEN', 'two require directives: first (default 401) fails',
    realm => 'http-realm');
is_rejected(get('/require-two', Authorization => 'Bearer ' . claims_token(a => 1)),
    403, 'FORBIDDEN', 'two require directives: second (403) fails');
is_ok(get('/require-two', Authorization => 'Bearer ' . claims_token(a => 1, b => 1)),
    'two require directives: both met');
is_ok(get('/require-map', Authorization => 'Bearer ' . claims_token(role => 'admin')),
    'require on a map of a claim: admin');
is_rejected(get('/require-map', Authorization => 'Bearer ' . claims_token(role => 'user')),
    403, 'FORBIDDEN', 'require on a map of a claim: user');

# Server level: realm, leeway and require inherited by locations.
sub get_8082 {
    my ($path, $token) = @_;
    return http_request(port => 8082, path => $path,
        headers => [ $token ? (Authorization => "Bearer $token") : () ]);
}
is_rejected(get_8082('/'), 401, 'TOKEN_MISSING', 'server realm',
    realm => 'server-realm');
is_rejected(get_8082('/', $valid), 401, 'INVALID_TOKEN',
    'server-level require inherited (no scope)', realm => 'server-realm');
my $scoped = claims_token(scope => 'read');
is_ok(get_8082('/', $scoped), 'server-level require met');
my $scoped_late = mint(claims => { sub => 'a', scope => 'read', exp => $now - 30 });
is_rejected(get_8082('/', $scoped_late), 401, 'TOKEN_EXPIRED',
    'server leeway 0s overrides http 60s', realm => 'server-realm');
is_ok(get_8082('/leeway', $scoped_late), 'location leeway overrides server');

# Server-level key file: replaces http's, inherited by (nested) locations.
for my $path (qw(/ /nested/deeper)) {
    my %h = (port => 8083, path => $path);
    is_ok(http_request(%h, headers => [ Authorization => "Bearer $rsa" ]),
        "server key file inherited by $path: RS256");
    is_rejected(http_request(%h, headers => [ Authorization => "Bearer $valid" ]),
        401, 'INVALID_TOKEN', "server key file replaces http's at $path (HS256)",
        realm => 'http-realm');
}

# limit_except: only the listed methods are exempt.
sub request {
    my ($method, $path, $token) = @_;
    return http_request(method => $method, path => $path, body => '',
        headers => [ $token ? (Authorization => "Bearer $token") : () ]);
}
my $res = request('GET', '/limit');
is_ok($res, 'limit_except GET: GET without token');
is($res->{body}, "upstream GET\n", 'limit_except GET: proxied');
is_ok(request('HEAD', '/limit'), 'limit_except GET: HEAD without token');
is_rejected(request('POST', '/limit'), 401, 'TOKEN_MISSING',
    'limit_except GET: POST without token', realm => 'writers');
is_rejected(request('DELETE', '/limit', 'x.y.z'), 401, 'INVALID_TOKEN',
    'limit_except GET: DELETE with an invalid token', realm => 'writers');
$res = request('POST', '/limit', $valid);
is_ok($res, 'limit_except GET: POST with a valid token');
is($res->{body}, "upstream POST\n", 'limit_except GET: POST proxied');

my $writer = mint(alg => 'RS256', claims => { sub => 'w', writer => 1,
    exp => $now + 300 });
is_ok(request('PUT', '/limit-keys', $writer),
    'key file and require inside limit_except: met');
is_rejected(request('PUT', '/limit-keys', mint(alg => 'RS256')), 401,
    'INVALID_TOKEN', 'require inside limit_except: not met', realm => 'writers');
is_rejected(request('PUT', '/limit-keys', $valid), 401, 'INVALID_TOKEN',
    'key file inside limit_except replaces inherited', realm => 'writers');
is_ok(request('GET', '/limit-keys'), 'limit_except block does not apply to GET');

no_log_alerts();

done_testing();
