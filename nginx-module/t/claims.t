#!/usr/bin/perl

# exp and nbf, with and without auth_jwt_leeway, at their boundaries and
# with values of the wrong type.
#
# Boundaries follow RFC 7519: a token is expired when now >= exp (+ leeway)
# and not yet valid when now < nbf (- leeway). nginx's clock is never behind
# the one read here before the request, so "exp = now" is reliably expired.

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

        location /strict { empty_gif; }
        location /leeway { auth_jwt_leeway 60s; empty_gif; }
        location /leeway-minutes { auth_jwt_leeway 2m; empty_gif; }
    }
EOF

# check($path, \%claims, $status, $code, $name): 200 when $status is 200,
# else the rejection.
sub check {
    my ($path, $claims, $status, $code, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = http_get_token($path, mint(claims => { sub => 'alice', %$claims }));
    return is_ok($res, $name) if $status == 200;
    is_rejected($res, $status, $code, $name);
}

# Each token's times are computed from now() just before its request, so
# that the margins hold however slow the run (valgrind).

# exp
check('/strict', {}, 200, '', 'no exp: accepted');
check('/strict', { exp => now() + 30 }, 200, '', 'exp 30s ahead');
check('/strict', { exp => now() + 3 }, 200, '', 'exp 3s ahead');
check('/strict', { exp => now() }, 401, 'TOKEN_EXPIRED', 'exp = now');
check('/strict', { exp => now() - 1 }, 401, 'TOKEN_EXPIRED', 'exp 1s ago');
check('/strict', { exp => 1 }, 401, 'TOKEN_EXPIRED', 'exp = 1 (1970)');
check('/strict', { exp => 0 }, 401, 'TOKEN_EXPIRED', 'exp = 0');
check('/strict', { exp => -1 }, 401, 'TOKEN_EXPIRED', 'exp negative');
check('/strict', { exp => now() + 300.5 }, 200, '',
    'exp fractional NumericDate ahead');
check('/strict', { exp => now() - 9.5 }, 401, 'TOKEN_EXPIRED',
    'exp fractional NumericDate past');
check('/strict', { exp => 4102444800 }, 200, '', 'exp in 2100');

# exp with leeway
check('/leeway', { exp => now() - 30 }, 200, '', 'exp 30s ago within 60s leeway');
check('/leeway', { exp => now() - 57 }, 200, '', 'exp 57s ago within 60s leeway');
check('/leeway', { exp => now() - 60 }, 401, 'TOKEN_EXPIRED',
    'exp exactly 60s ago with 60s leeway');
check('/leeway', { exp => now() - 120 }, 401, 'TOKEN_EXPIRED',
    'exp 120s ago beyond 60s leeway');
check('/leeway-minutes', { exp => now() - 100 }, 200, '',
    'exp 100s ago within "2m" leeway');
check('/leeway-minutes', { exp => now() - 130 }, 401, 'TOKEN_EXPIRED',
    'exp 130s ago beyond "2m" leeway');

# nbf
check('/strict', { nbf => now() - 10, exp => now() + 300 }, 200, '', 'nbf 10s ago');
check('/strict', { nbf => now(), exp => now() + 300 }, 200, '', 'nbf = now');
check('/strict', { nbf => now() + 30 }, 401, 'INVALID_TOKEN', 'nbf 30s ahead');
check('/leeway', { nbf => now() + 30 }, 200, '', 'nbf 30s ahead within 60s leeway');
check('/leeway', { nbf => now() + 60 }, 200, '',
    'nbf exactly 60s ahead with 60s leeway');
check('/leeway', { nbf => now() + 65 }, 401, 'INVALID_TOKEN',
    'nbf 65s ahead beyond 60s leeway');

# iat is informational: a future iat alone does not reject.
check('/strict', { iat => now() + 3600, exp => now() + 7200 }, 200, '',
    'iat in the future is not checked');

# Wrong types: a NumericDate is a JSON number.
for my $case (
    [ exp => "@{[ now() + 300 ]}", 'exp as a string' ],
    [ exp => '', 'exp as an empty string' ],
    [ exp => JSON::PP::true, 'exp as true' ],
    [ exp => [ now() + 300 ], 'exp as an array' ],
    [ exp => { t => now() + 300 }, 'exp as an object' ],
    [ nbf => "@{[ now() - 10 ]}", 'nbf as a string' ],
    [ nbf => JSON::PP::false, 'nbf as false' ],
) {
    my ($claim, $value, $name) = @$case;
    check('/strict', { $claim => $value, ($claim eq 'nbf' ? (exp => now() + 300) : ()) },
        401, 'INVALID_TOKEN', $name);
}

# The signature is checked before the claims: an expired token with a bad
# signature is INVALID_TOKEN, not TOKEN_EXPIRED.
my ($h, $p, $s) = split /\./, mint(claims => { sub => 'alice', exp => now() - 100 });
my $expired = "$h.$p." . (substr($s, 0, 1) eq 'A' ? 'B' : 'A') . substr($s, 1);
is_rejected(http_get_token('/strict', $expired), 401, 'INVALID_TOKEN',
    'expired token with a bad signature');

like(error_log(), qr/auth_jwt: TOKEN_EXPIRED: /,
    'expiry logged as "auth_jwt: TOKEN_EXPIRED: <reason>"');
like(error_log(), qr/\[info\].*auth_jwt: INVALID_TOKEN: /,
    'invalid token logged at info level');

no_log_alerts();

done_testing();
