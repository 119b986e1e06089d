#!/usr/bin/perl

# auth_jwt_issuer and auth_jwt_audience; how the four policy directives
# (those two, auth_jwt_require_claim, auth_jwt_require_header) inherit: each
# on its own, so that a level setting one never drops the others; the
# [warn] of `nginx -t` when a level's require_claim/require_header replaces
# inherited ones; the contexts; and `nginx -t` failing, naming the directive
# and the reason, on every malformed directive.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

my $BASE = <<'EOF';
    auth_jwt "test";
    auth_jwt_key_file %%TESTDIR%%/jwks.json;
EOF

###############################################################################
# nginx -t: contexts, warnings, failures. Each configuration is $BASE plus
# the text given, in a server on 8080.

sub conf_t {
    my ($server, $http) = @_;
    return nginx_t($BASE . ($http // '') . <<"EOF");
    server {
        listen 127.0.0.1:%%PORT_8080%%;
$server
    }
EOF
}

# Every directive in every context: http, server, location, limit_except.
my ($rc, $out) = conf_t(<<'EOF', <<'EOF');
        auth_jwt_require_claim sv eq json=1;
        auth_jwt_require_header typ eq JWT;
        auth_jwt_issuer https://server.example;
        auth_jwt_audience server;
        location / {
            auth_jwt_require_claim lv eq json=1;
            auth_jwt_require_header kid eq k;
            auth_jwt_issuer https://location.example;
            auth_jwt_audience location;
            limit_except GET {
                auth_jwt_require_claim xv eq json=1 error=403;
                auth_jwt_require_header alg eq HS256 error=401;
                auth_jwt_issuer https://limit.example;
                auth_jwt_audience limit;
            }
            empty_gif;
        }
EOF
    auth_jwt_require_claim hv eq json=1;
    auth_jwt_require_header alg ne none;
    auth_jwt_issuer https://http.example https://other.example;
    auth_jwt_audience http other;
EOF
is($rc, 0, 'nginx -t: all four directives in http, server, location, limit_except')
    or diag($out);

# A valid configuration with every operator spelling: the failures below are
# the directive's, not the rest of the file's.
($rc, $out) = conf_t(<<'EOF');
        location / {
            auth_jwt_require_claim a eq x;
            auth_jwt_require_claim a ne x;
            auth_jwt_require_claim a !eq x;
            auth_jwt_require_claim a gt json=1;
            auth_jwt_require_claim a !gt json=1;
            auth_jwt_require_claim a ge json=1;
            auth_jwt_require_claim a lt json=1;
            auth_jwt_require_claim a le json=1;
            auth_jwt_require_claim a !le json=1;
            auth_jwt_require_claim a in 'json=["x"]';
            auth_jwt_require_claim a nin 'json=["x"]';
            auth_jwt_require_claim a !in 'json=["x"]';
            auth_jwt_require_claim a any 'json=["x"]';
            auth_jwt_require_claim a !any 'json=["x"]';
            auth_jwt_require_claim a intersect 'json=["x"]';
            auth_jwt_require_claim a nintersect 'json=["x"]';
            auth_jwt_require_claim a match '\A[a-z]+\z';
            auth_jwt_require_claim a !match x;
            auth_jwt_require_claim .a.b[0][12]."c.d" eq x;
            auth_jwt_require_header .x[0] eq y error=403;
            empty_gif;
        }
EOF
is($rc, 0, 'nginx -t: every operator, alias and negation accepted') or diag($out);
unlike($out, qr/\[warn\]/, 'nginx -t: no warning without inherited requirements')
    or diag($out);

# Replacing inherited requirements warns, naming the directive; the
# configuration still loads.
($rc, $out) = conf_t(<<'EOF');
        auth_jwt_require_claim scope any 'json=["read"]';
        location / {
            auth_jwt_require_claim role eq admin;
            empty_gif;
        }
EOF
is($rc, 0, 'nginx -t: a location replacing server require_claim still loads')
    or diag($out);
like($out, qr/\[warn\][^\n]*auth_jwt_require_claim/,
    'nginx -t: [warn] naming auth_jwt_require_claim when it replaces inherited ones');

($rc, $out) = conf_t(<<'EOF', <<'EOF');
        location / {
            auth_jwt_require_header kid eq k;
            empty_gif;
        }
EOF
    auth_jwt_require_header typ eq JWT;
EOF
is($rc, 0, 'nginx -t: a location replacing http require_header still loads')
    or diag($out);
like($out, qr/\[warn\][^\n]*auth_jwt_require_header/,
    'nginx -t: [warn] naming auth_jwt_require_header when it replaces inherited ones');

# No warning when nothing is replaced: other directives at the lower level,
# or requirements only at one level.
($rc, $out) = conf_t(<<'EOF');
        auth_jwt_require_claim scope any 'json=["read"]';
        auth_jwt_require_header typ eq JWT;
        location / {
            auth_jwt_issuer https://idp.example;
            auth_jwt_audience api;
            empty_gif;
        }
        location /own {
            auth_jwt_require_claim role eq admin;
            auth_jwt_require_header typ eq JWT;
            empty_gif;
        }
        location /other {
            empty_gif;
        }
EOF
is($rc, 0, 'nginx -t: issuer/audience under server requirements') or diag($out);
my @warns = $out =~ /^.*\[warn\].*$/mg;
is(scalar(grep { /auth_jwt_require_claim/ } @warns), 1,
    'nginx -t: one require_claim warning (only /own replaces)') or diag($out);
is(scalar(grep { /auth_jwt_require_header/ } @warns), 1,
    'nginx -t: one require_header warning (only /own replaces)') or diag($out);

($rc, $out) = conf_t(<<'EOF');
        location / {
            auth_jwt_require_claim role eq admin;
            auth_jwt_require_header typ eq JWT;
            empty_gif;
        }
EOF
is($rc, 0, 'nginx -t: location-only requirements');
unlike($out, qr/\[warn\]/, 'nginx -t: no warning when nothing is inherited')
    or diag($out);

# Malformed directives: nginx -t fails with [emerg] naming the directive,
# and says why.
for my $case (
    [ 'auth_jwt_require_claim sub equals alice;', 'auth_jwt_require_claim',
        qr/operator/i, 'unknown operator' ],
    [ 'auth_jwt_require_claim sub eqq alice;', 'auth_jwt_require_claim',
        qr/operator/i, 'unknown operator (eqq)' ],
    [ 'auth_jwt_require_claim sub !! alice;', 'auth_jwt_require_claim',
        qr/operator/i, 'operator "!!"' ],
    [ 'auth_jwt_require_header kid EQ x;', 'auth_jwt_require_header',
        qr/operator/i, 'operators are case-sensitive' ],
    [ 'auth_jwt_require_claim .a..b eq x;', 'auth_jwt_require_claim',
        qr/path|key/i, 'invalid path .a..b' ],
    [ q{auth_jwt_require_claim .["x"] eq x;}, 'auth_jwt_require_claim',
        qr/path|key/i, 'invalid path .["x"]' ],
    [ 'auth_jwt_require_claim [01] eq x;', 'auth_jwt_require_claim',
        qr/path|index/i, 'invalid path [01]' ],
    [ 'auth_jwt_require_claim .a[x] eq x;', 'auth_jwt_require_claim',
        qr/path|index/i, 'invalid path .a[x]' ],
    [ 'auth_jwt_require_claim .a. eq x;', 'auth_jwt_require_claim',
        qr/path|key/i, 'invalid path .a.' ],
    [ q{auth_jwt_require_claim '.a."b' eq x;}, 'auth_jwt_require_claim',
        qr/path|quote/i, 'invalid path: unterminated quote' ],
    [ 'auth_jwt_require_header .a[-1] eq x;', 'auth_jwt_require_header',
        qr/path|index/i, 'invalid header path .a[-1]' ],
    [ 'auth_jwt_require_claim roles any json=[1,;', 'auth_jwt_require_claim',
        qr/invalid JSON value/i, 'malformed json= literal' ],
    [ q{auth_jwt_require_claim a eq 'json={"k":1,"k":2}';}, 'auth_jwt_require_claim',
        qr/invalid JSON value/i, 'json= literal with a duplicate member' ],
    [ 'auth_jwt_require_claim sub eq alice error=444;', 'auth_jwt_require_claim',
        qr/400 to 599 other than 444 and 499/, 'error=444' ],
    [ 'auth_jwt_require_claim sub eq alice error=499;', 'auth_jwt_require_claim',
        qr/400 to 599 other than 444 and 499/, 'error=499' ],
    [ 'auth_jwt_require_claim sub eq alice error=399;', 'auth_jwt_require_claim',
        qr/error/i, 'error=399' ],
    [ 'auth_jwt_require_claim sub eq alice code=403;', 'auth_jwt_require_claim',
        qr/invalid parameter "code=403"/, 'code=403' ],
    [ 'auth_jwt_require_claim sub eq alice error=;', 'auth_jwt_require_claim',
        qr/error/i, 'error= empty' ],
    [ 'auth_jwt_require_header kid eq x error=600;', 'auth_jwt_require_header',
        qr/error/i, 'header error=600' ],
    [ 'auth_jwt_require_claim sub eq;', 'auth_jwt_require_claim',
        qr/argument/i, 'two arguments' ],
    [ 'auth_jwt_require_claim sub;', 'auth_jwt_require_claim',
        qr/argument/i, 'one argument' ],
    [ 'auth_jwt_require_header kid;', 'auth_jwt_require_header',
        qr/argument/i, 'header, one argument' ],
    [ q{auth_jwt_require_claim sub match '(unclosed';}, 'auth_jwt_require_claim',
        qr/regex|pattern|pcre|parenthes/i, 'invalid literal regex' ],
    [ q{auth_jwt_require_claim sub match 'a{2,1}';}, 'auth_jwt_require_claim',
        qr/regex|pattern|pcre|quantifier|order/i, 'invalid literal regex a{2,1}' ],
    [ q{auth_jwt_require_header kid !match '[z-a]';}, 'auth_jwt_require_header',
        qr/regex|pattern|pcre|range/i, 'invalid literal regex in require_header' ],
    [ 'auth_jwt_issuer;', 'auth_jwt_issuer', qr/argument/i, 'issuer without a value' ],
    [ 'auth_jwt_audience;', 'auth_jwt_audience', qr/argument/i,
        'audience without a value' ],
) {
    my ($directive, $name, $why, $what) = @$case;
    ($rc, $out) = conf_t("        location / { $directive empty_gif; }\n");
    isnt($rc, 0, "nginx -t fails: $what");
    like($out, qr/\[emerg\][^\n]*\Q$name\E/, "nginx -t: $what: [emerg] names $name")
        or diag($out);
    like($out, qr/\[emerg\][^\n]*$why/, "nginx -t: $what: says why") or diag($out);
}

###############################################################################
# Behaviour.

start_nginx($BASE . <<'EOF');
    auth_jwt_issuer https://idp.example;
    auth_jwt_require_header typ eq JWT;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /iss { empty_gif; }
        location /iss-many {
            auth_jwt_issuer https://a.example "https://b.example/";
            empty_gif;
        }
        location /aud { auth_jwt_audience api; empty_gif; }
        location /aud-many { auth_jwt_audience api web; empty_gif; }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt_issuer https://b.example;
        auth_jwt_audience api;
        auth_jwt_require_claim scope any 'json=["read"]';

        location / { empty_gif; }
        location /claim { auth_jwt_require_claim role eq admin; empty_gif; }
        location /issuer { auth_jwt_issuer https://c.example; empty_gif; }
        location /audience { auth_jwt_audience web; empty_gif; }
        location /hdr { auth_jwt_require_header kid eq hmac; empty_gif; }
        location /nest {
            auth_jwt_audience web;
            empty_gif;
            location /nest/inner {
                auth_jwt_require_claim role eq admin;
                empty_gif;
            }
        }
        location /limit {
            limit_except GET {
                auth_jwt_audience writers;
                auth_jwt_issuer https://w.example;
            }
            proxy_pass http://127.0.0.1:%%PORT_8082%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8082%%;
        auth_jwt off;
        location / { return 200 "upstream $request_method\n"; }
    }
EOF

my $HEADER = '{"alg":"HS256","typ":"JWT"}';

# check($port, $path, $payload, $want, $name, header => ..., method => ...)
sub check {
    my ($port, $path, $payload, $want, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $token = sign_compact($o{header} // $HEADER, $payload);
    my $res = http_request(port => $port, path => $path,
        method => $o{method} || 'GET',
        ($o{method} ? (body => '') : ()),
        headers => [ Authorization => "Bearer $token" ]);
    my $label = "$port $path $payload: $name";
    return is_ok($res, $label) if $want == 200;
    is_rejected($res, 401, 'INVALID_TOKEN', $label);
}

sub table {
    my ($port, $path, @cases) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    check($port, $path, @$_) for @cases;
}

# auth_jwt_issuer: a string equal to one of the values.
table(8080, '/iss',
    [ '{"iss":"https://idp.example"}', 200, 'issuer equal' ],
    [ '{"iss":"https:\/\/idp.example"}', 200, 'issuer equal after unescaping' ],
    [ '{"iss":"https://idp.example/"}', 401, 'trailing slash' ],
    [ '{"iss":"https://IDP.example"}', 401, 'case differs' ],
    [ '{"iss":"https://idp.example.evil"}', 401, 'longer' ],
    [ '{"iss":"https://idp.exampl"}', 401, 'prefix' ],
    [ '{"iss":["https://idp.example"]}', 401, 'an array is not a string' ],
    [ '{"iss":5}', 401, 'a number' ],
    [ '{"iss":null}', 401, 'null' ],
    [ '{"sub":"alice"}', 401, 'iss absent' ],
    [ '{"iss":"https://idp.example"}', 401, 'http-level require_header inherited (no typ)',
        header => '{"alg":"HS256"}' ]);
table(8080, '/iss-many',
    [ '{"iss":"https://a.example"}', 200, 'first of two issuers' ],
    [ '{"iss":"https://b.example/"}', 200, 'second of two issuers' ],
    [ '{"iss":"https://idp.example"}', 401, 'the http-level issuer is replaced' ],
    [ '{"sub":"x"}', 401, 'iss absent' ]);

# auth_jwt_audience: aud a string or an array of strings holding one.
table(8080, '/aud',
    [ '{"iss":"https://idp.example","aud":"api"}', 200, 'aud string' ],
    [ '{"iss":"https://idp.example","aud":["web","api"]}', 200, 'aud array' ],
    [ '{"iss":"https://idp.example","aud":["api"]}', 200, 'aud array of one' ],
    [ '{"iss":"https://idp.example","aud":"\u0061pi"}', 200, 'aud escaped' ],
    [ '{"iss":"https://idp.example","aud":["web"]}', 401, 'aud array without api' ],
    [ '{"iss":"https://idp.example","aud":[]}', 401, 'aud empty array' ],
    [ '{"iss":"https://idp.example","aud":"API"}', 401, 'aud case differs' ],
    [ '{"iss":"https://idp.example","aud":"api,web"}', 401, 'a string is not split on commas' ],
    [ '{"iss":"https://idp.example","aud":"apix"}', 401, 'aud longer' ],
    [ '{"iss":"https://idp.example","aud":[["api"]]}', 401, 'aud nested array' ],
    [ '{"iss":"https://idp.example","aud":{"api":1}}', 401, 'aud object' ],
    [ '{"iss":"https://idp.example","aud":5}', 401, 'aud number' ],
    [ '{"iss":"https://idp.example"}', 401, 'aud absent' ],
    [ '{"aud":"api"}', 401, 'the http-level issuer still applies' ]);
table(8080, '/aud-many',
    [ '{"iss":"https://idp.example","aud":"web"}', 200, 'second audience' ],
    [ '{"iss":"https://idp.example","aud":["x","web"]}', 200, 'second audience in an array' ],
    [ '{"iss":"https://idp.example","aud":["x","y"]}', 401, 'neither' ]);

# Server 8081: issuer b, audience api, scope read, and http's typ JWT.
my $B = '"iss":"https://b.example","aud":"api"';
table(8081, '/',
    [ qq({$B,"scope":["read"]}), 200, 'all server checks met' ],
    [ qq({$B}), 401, 'server require_claim: scope missing' ],
    [ '{"iss":"https://b.example","aud":"web","scope":["read"]}', 401, 'server audience' ],
    [ '{"iss":"https://idp.example","aud":"api","scope":["read"]}', 401, 'server issuer replaces http issuer' ],
    [ qq({$B,"scope":["read"]}), 401, 'http require_header through the server',
        header => '{"alg":"HS256"}' ]);

# A location's require_claim replaces the server's claims only: issuer,
# audience and the http-level header requirement still hold.
table(8081, '/claim',
    [ qq({$B,"role":"admin"}), 200, 'role admin, no scope needed' ],
    [ '{"iss":"https://x.example","aud":"api","role":"admin"}', 401, 'issuer kept' ],
    [ '{"iss":"https://b.example","aud":"web","role":"admin"}', 401, 'audience kept' ],
    [ '{"aud":"api","role":"admin"}', 401, 'iss absent' ],
    [ '{"iss":"https://b.example","role":"admin"}', 401, 'aud absent' ],
    [ qq({$B,"role":"admin"}), 401, 'header requirement kept',
        header => '{"alg":"HS256"}' ],
    [ qq({$B,"scope":["read"]}), 401, 'server claim replaced: role needed' ]);
table(8081, '/issuer',
    [ '{"iss":"https://c.example","aud":"api","scope":["read"]}', 200, 'location issuer' ],
    [ qq({$B,"scope":["read"]}), 401, 'server issuer replaced' ],
    [ '{"iss":"https://c.example","aud":"web","scope":["read"]}', 401, 'audience kept' ],
    [ '{"iss":"https://c.example","aud":"api"}', 401, 'require_claim kept' ]);
table(8081, '/audience',
    [ '{"iss":"https://b.example","aud":["web"],"scope":["read"]}', 200, 'location audience' ],
    [ qq({$B,"scope":["read"]}), 401, 'server audience replaced' ],
    [ '{"iss":"https://x.example","aud":"web","scope":["read"]}', 401, 'issuer kept' ],
    [ '{"iss":"https://b.example","aud":"web"}', 401, 'require_claim kept' ]);
table(8081, '/hdr',
    [ qq({$B,"scope":["read"]}), 200, 'location require_header replaces http typ',
        header => '{"alg":"HS256","kid":"hmac"}' ],
    [ qq({$B,"scope":["read"]}), 401, 'kid needed', header => $HEADER ],
    [ qq({$B}), 401, 'require_claim kept',
        header => '{"alg":"HS256","kid":"hmac"}' ],
    [ '{"iss":"https://b.example","aud":"web","scope":["read"]}', 401, 'audience kept',
        header => '{"alg":"HS256","kid":"hmac"}' ]);
table(8081, '/nest/inner',
    [ '{"iss":"https://b.example","aud":"web","role":"admin"}', 200, 'nested: audience from /nest, own claim' ],
    [ '{"iss":"https://b.example","aud":"api","role":"admin"}', 401, 'nested: /nest audience kept' ],
    [ '{"iss":"https://x.example","aud":"web","role":"admin"}', 401, 'nested: server issuer kept' ],
    [ '{"iss":"https://b.example","aud":"web","scope":["read"]}', 401, 'nested: own claim replaces' ]);
table(8081, '/limit',
    [ qq({$B,"scope":["read"]}), 200, 'limit_except: GET uses the location checks' ],
    [ '{"iss":"https://w.example","aud":"writers","scope":["read"]}', 401,
        'limit_except: GET does not use the limit_except checks' ],
    [ '{"iss":"https://w.example","aud":"writers","scope":["read"]}', 200,
        'limit_except: POST, its issuer and audience', method => 'POST' ],
    [ qq({$B,"scope":["read"]}), 401, 'limit_except: POST, location issuer replaced',
        method => 'POST' ],
    [ '{"iss":"https://w.example","aud":"writers"}', 401,
        'limit_except: POST, server require_claim kept', method => 'POST' ]);

like(error_log(), qr/\[info\][^\n]*auth_jwt[^\n]*(iss|issuer)/i,
    'an issuer failure is logged at info');
like(error_log(), qr/\[info\][^\n]*auth_jwt[^\n]*(aud|audience)/i,
    'an audience failure is logged at info');

no_log_alerts();

done_testing();
