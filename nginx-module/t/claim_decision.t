#!/usr/bin/perl

# A claim policy without variables decides a cached token once: the token
# cache keeps the decision with the token, and later requests replay it.
# The replay must be exactly the decision: the same status and the same log
# line on every request; two locations with different policies never take
# each other's decision for the same token; a policy with variables (whose
# answer changes from request to request) is decided as each request says;
# match with a literal pattern is kept like the rest; and with the cache off
# nothing is kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

start_nginx(<<'EOF');
    map $arg_who $who {
        alice  '"alice"';
        bob    '"bob"';
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        error_log %%TESTDIR%%/error.log info;

        location /admin  { auth_jwt_require_claim roles any json=["admin"]; empty_gif; }
        location /reader { auth_jwt_require_claim roles any json=["reader"]; empty_gif; }
        location /forbid { auth_jwt_require_claim roles any json=["admin"] error=403; empty_gif; }
        location /issuer { auth_jwt_issuer https://a.example; auth_jwt_audience api; empty_gif; }
        location /var    { auth_jwt_require_claim sub eq $who; empty_gif; }
        location /match  { auth_jwt_require_claim sub match '\Aal'; empty_gif; }
        location /nocache {
            auth_jwt_cache off;
            auth_jwt_require_claim roles any json=["admin"];
            empty_gif;
        }
    }
EOF

my $token = mint(claims => { sub => 'alice', exp => now() + 300,
    roles => ['reader'], iss => 'https://a.example', aud => ['web', 'api'] });
my $other = mint(claims => { sub => 'bob', exp => now() + 300,
    roles => ['admin'], iss => 'https://b.example', aud => 'api' });

sub status_of { http_get_token($_[0], $_[1])->{status} }

sub refusals_logged {
    my @lines = grep { /auth_jwt_require_claim "roles" does not hold/ }
        split /\n/, error_log();
    return scalar @lines;
}

# the same token, alternating between locations with different policies:
# each answer is its own location's, on every round
my @seen;
for my $round (1 .. 3) {
    push @seen, join ' ', map { status_of($_, $token) }
        qw(/admin /reader /forbid /issuer);
}
is_deeply(\@seen, [('401 200 403 200') x 3],
    'alternating policies on one cached token keep their own decisions');
is(status_of('/issuer', $other), 401, 'another issuer refused');
is(status_of('/admin', $other), 200, 'another token, its own decision');
is(status_of('/reader', $other), 401, 'and refused where it lacks the role');

# a replayed refusal is logged as the first one was: 3 rounds at /admin
# and /forbid for $token, one /reader for $other
is(refusals_logged(), 7, 'every replayed refusal logged, naming the check');

# variables decide per request, not per token
is(status_of('/var?who=alice', $token), 200, 'variable: holds for alice');
is(status_of('/var?who=bob', $token), 401, 'variable: same token, fails');
is(status_of('/var?who=alice', $token), 200, 'variable: holds again');

# match with a literal pattern: the token decides, kept like the rest
is(status_of('/match', $token), 200, 'match holds');
is(status_of('/match', $token), 200, 'match holds when replayed');
is(status_of('/match', $other), 401, 'match fails for another token');
is(status_of('/match', $other), 401, 'and when replayed');

# without the cache, every request decides
is(status_of('/nocache', $other), 200, 'no cache: holds');
is(status_of('/nocache', $token), 401, 'no cache: fails');
is(status_of('/nocache', $other), 200, 'no cache: holds again');

stop_nginx();
done_testing();
