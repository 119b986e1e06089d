#!/usr/bin/perl

# kjdev/nginx-auth-jwt's documented examples (docs/DIRECTIVES.md and
# docs/EXAMPLES.md), copied as configurations, behave as kjdev documents
# them. Only the key file paths are ours, and a content handler (a proxy to
# a local upstream) is added where the example has none. Each example's
# directives are kept together in one location; where an example's lines
# contradict each other (iat eq 1697461112 and iat lt 1697461110), each line
# also gets a location of its own.
#
# Not copied: lines of kjdev's other directives (auth_jwt_validate_exp,
# auth_jwt_allow_nested, auth_jwt_revocation_list_*, keyval key files:
# kjdev_surface.t), and EXAMPLES.md's "auth_jwt_require iat lt $v", a typo
# of kjdev's for auth_jwt_require_claim (DIRECTIVES.md has it right).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

start_nginx(<<'EOF');
    map $request_method $required_jwt_roles {
        "GET" '["SERVICE", "ADMINISTRATORS"]';
    }

    map $jwt_claim_iss $valid_jwt_iss {
        "https://trusted-idp.example.com" 1;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        # DIRECTIVES.md, auth_jwt_require_claim, as documented.
        location = /verify {
            auth_jwt          "closed site";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;

            set $expected_iat 1697461110;

            auth_jwt_require_claim jti        eq 3949117906;
            auth_jwt_require_claim iat        eq json=1697461112;
            auth_jwt_require_claim iat        lt $expected_iat;
            auth_jwt_require_claim roles any $required_jwt_roles;

            # Regular expression match
            set $email_pattern '"@example\.com"';
            auth_jwt_require_claim email match $email_pattern;

            # Use \z for end-of-string anchor ($ conflicts with nginx variables)
            auth_jwt_require_claim sub match '\A[a-f0-9-]+\z';

            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # The same lines, one per location.
        location /doc/ {
            auth_jwt          "closed site";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;

            location /doc/jti { auth_jwt_require_claim jti eq 3949117906;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/iat-eq { auth_jwt_require_claim iat eq json=1697461112;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/iat-lt { set $expected_iat 1697461110;
                auth_jwt_require_claim iat lt $expected_iat;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/roles { auth_jwt_require_claim roles any $required_jwt_roles;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/roles-intersect {
                auth_jwt_require_claim roles intersect $required_jwt_roles;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/email { set $email_pattern '"@example\.com"';
                auth_jwt_require_claim email match $email_pattern;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/email-json { set $email_pattern '"@example\\\\.com"';
                auth_jwt_require_claim email match $email_pattern;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /doc/sub { auth_jwt_require_claim sub match '\A[a-f0-9-]+\z';
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
        }

        # EXAMPLES.md, "JWT Required Claims Validation Template" (without
        # auth_jwt_validate_exp on: exp is always checked here).
        location /template {
            auth_jwt          "closed site";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;

            # Require specific issuer
            auth_jwt_require_claim iss eq "https://idp.example.com";

            # Require non-empty subject
            auth_jwt_require $jwt_claim_sub;

            # Require specific audience
            auth_jwt_require_claim aud eq "myapp";

            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # EXAMPLES.md, "nginx map with auth_jwt_require".
        location /map {
            auth_jwt          "closed site";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require  $valid_jwt_iss;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # EXAMPLES.md, JQ-like Field Paths.
        # JWT payload: {"address": {"city": "Tokyo", "zip": "100-0001"}}
        location /api {
            auth_jwt "" token=$cookie_token;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require_claim .address.city eq Tokyo;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # JWT payload: {"roles": ["admin", "user"], "groups": [{"name": "engineering"}]}
        location /admin {
            auth_jwt "" token=$cookie_token;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require_claim .roles[0] eq admin;
            auth_jwt_require_claim .groups[0].name eq engineering;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # JWT payload: {"dotted.key": "value", "nested": {"dotted.child": "nested_value"}}
        location /dotted {
            auth_jwt "" token=$cookie_token;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require_claim ."dotted.key" eq value;
            auth_jwt_require_claim .nested."dotted.child" eq nested_value;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # JWT header: {"meta": {"version": "2.0"}}
        location /versioned {
            auth_jwt "" token=$cookie_token;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require_header .meta.version eq 2.0;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        # DIRECTIVES.md, JQ-like Field Paths: nested array.
        location /matrix {
            auth_jwt "" token=$cookie_token;
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require_claim .matrix[0][1] eq json=2;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / { return 200 "upstream $request_method\n"; }
    }
EOF

# send($path, $payload, method => ..., header => ..., cookie => 1)
sub send_token {
    my ($path, $payload, %o) = @_;
    my $token = sign_compact($o{header} // '{"alg":"HS256","typ":"JWT"}', $payload);
    return http_request(path => $path, method => $o{method} || 'GET',
        ($o{method} ? (body => '') : ()),
        headers => [ $o{cookie} ? (Cookie => "token=$token")
            : (Authorization => "Bearer $token") ]);
}

# check($path, $payload, $want, $name, %o): 200 through to the upstream, or
# 401 INVALID_TOKEN.
sub check {
    my ($path, $payload, $want, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = send_token($path, $payload, %o);
    my $label = "$path $payload: $name";
    if ($want == 200) {
        is_ok($res, $label);
        like($res->{body}, qr/^upstream /, "$label: proxied");
        return;
    }
    if ($o{cookie}) {
        # token= from a cookie, realm "": the status and the body.
        is($res->{status}, 401, "$label: 401");
        like($res->{body}, qr/"INVALID_TOKEN"/, "$label: INVALID_TOKEN");
        return;
    }
    is_rejected($res, 401, 'INVALID_TOKEN', $label, realm => $o{realm} // 'closed site');
}

# The documented lines one by one.
# jti eq 3949117906: a plain string, so the string "3949117906" only.
check('/doc/jti', '{"jti":"3949117906"}', 200, 'jti the string');
check('/doc/jti', '{"jti":3949117906}', 401, 'jti the number is not the plain string');
check('/doc/jti', '{"jti":"3949117907"}', 401, 'other jti');
check('/doc/jti', '{"sub":"x"}', 401, 'no jti');
# iat eq json=1697461112: the number.
check('/doc/iat-eq', '{"iat":1697461112}', 200, 'iat equal');
check('/doc/iat-eq', '{"iat":"1697461112"}', 401, 'iat as a string');
check('/doc/iat-eq', '{"iat":1697461112.0}', 401, 'iat as a real');
check('/doc/iat-eq', '{"iat":1697461113}', 401, 'other iat');
# iat lt $expected_iat (1697461110).
check('/doc/iat-lt', '{"iat":1697461109}', 200, 'iat below');
check('/doc/iat-lt', '{"iat":1697461110}', 401, 'iat equal is not below');
check('/doc/iat-lt', '{"iat":"1"}', 401, 'iat a string');
# roles any $required_jwt_roles (GET: ["SERVICE", "ADMINISTRATORS"]; other
# methods: the map's empty value, which fails).
for my $path ('/doc/roles', '/doc/roles-intersect') {
    check($path, '{"roles":["USER","SERVICE"]}', 200, 'GET, roles intersect');
    check($path, '{"roles":"ADMINISTRATORS"}', 200, 'GET, a scalar role in the list');
    check($path, '{"roles":["USER"]}', 401, 'GET, no intersection');
    check($path, '{"roles":[]}', 401, 'GET, no roles');
    check($path, '{"roles":["service"]}', 401, 'GET, case differs');
    check($path, '{"roles":["SERVICE"]}', 401, 'POST, no required roles',
        method => 'POST');
}
# email match $email_pattern ('"@example\.com"'): "\." is not a JSON escape,
# so the pattern is not one JSON string and every token is refused, as in
# kjdev (whose JSON parser refuses it too), rather than the escape being
# dropped and the pattern widened to "@example.com".
check('/doc/email', '{"email":"alice@example.com"}', 401, 'invalid JSON pattern refuses');
check('/doc/email', '{"email":"alice@exampleXcom"}', 401, 'never widened');
# The same pattern as one valid JSON string ('"@example\\.com"').
check('/doc/email-json', '{"email":"alice@example.com"}', 200, 'email at example.com');
check('/doc/email-json', '{"email":"alice@example.org"}', 401, 'email elsewhere');
check('/doc/email-json', '{"email":"alice@exampleXcom"}', 401, '\. is a dot');
check('/doc/email-json', '{"email":["alice@example.com"]}', 401, 'an array');
# sub match '\A[a-f0-9-]+\z'.
check('/doc/sub', '{"sub":"3f2a-09bc"}', 200, 'hex sub');
check('/doc/sub', '{"sub":"Alice"}', 401, 'other sub');
check('/doc/sub', '{"sub":"3f2a\n"}', 401, '\z: no trailing newline');
check('/doc/sub', '{"sub":12}', 401, 'a number');

# The whole example at once: all lines must hold, and its two iat lines
# cannot both, so kjdev's example refuses every token.
my $best = '{"jti":"3949117906","iat":1697461112,"roles":["SERVICE"],'
    . '"email":"alice@example.com","sub":"3f2a-09bc"}';
check('/verify', $best, 401, 'documented block: iat eq and iat lt contradict');
check('/verify', $best =~ s/1697461112/1697461109/r, 401,
    'documented block: the other iat line fails then');

# The template.
my $ok = '{"iss":"https://idp.example.com","sub":"alice","aud":"myapp"}';
check('/template', $ok, 200, 'template: all met');
check('/template', '{"iss":"https://idp.example.com","sub":"alice",'
    . '"aud":"myapp","exp":' . (now() + 300) . '}', 200, 'template: with exp');
check('/template', '{"iss":"https://idp.example.org","sub":"alice","aud":"myapp"}',
    401, 'template: other issuer');
check('/template', '{"iss":"https://idp.example.com","aud":"myapp"}', 401,
    'template: no subject');
check('/template', '{"iss":"https://idp.example.com","sub":"","aud":"myapp"}', 401,
    'template: empty subject');
check('/template', '{"iss":"https://idp.example.com","sub":"alice","aud":["myapp"]}',
    401, 'template: eq "myapp" is not an array holding it');
check('/template', '{"iss":"https://idp.example.com","sub":"alice","aud":"other"}',
    401, 'template: other audience');
my $expired = '{"iss":"https://idp.example.com","sub":"alice","aud":"myapp","exp":'
    . (now() - 10) . '}';
is_rejected(send_token('/template', $expired), 401, 'TOKEN_EXPIRED',
    'template: exp is validated', realm => 'closed site');

# map with auth_jwt_require.
check('/map', '{"iss":"https://trusted-idp.example.com"}', 200, 'map: trusted issuer');
check('/map', '{"iss":"https://other.example.com"}', 401, 'map: other issuer');
check('/map', '{"sub":"x"}', 401, 'map: no issuer');

# JQ-like paths, tokens in the "token" cookie, the documented payloads.
check('/api', '{"address": {"city": "Tokyo", "zip": "100-0001"}}', 200,
    'documented payload', cookie => 1);
check('/api', '{"address": {"city": "Osaka", "zip": "530-0001"}}', 401,
    'other city', cookie => 1);
check('/api', '{"address.city": "Tokyo"}', 401, 'a dotted member', cookie => 1);
check('/admin', '{"roles": ["admin", "user"], "groups": [{"name": "engineering"}]}',
    200, 'documented payload', cookie => 1);
check('/admin', '{"roles": ["user", "admin"], "groups": [{"name": "engineering"}]}',
    401, 'admin not first', cookie => 1);
check('/admin', '{"roles": ["admin"], "groups": [{"name": "sales"}, {"name": "engineering"}]}',
    401, 'engineering not first', cookie => 1);
check('/dotted', '{"dotted.key": "value", "nested": {"dotted.child": "nested_value"}}',
    200, 'documented payload', cookie => 1);
check('/dotted', '{"dotted": {"key": "value"}, "nested": {"dotted.child": "nested_value"}}',
    401, 'nested instead of dotted', cookie => 1);
check('/dotted', '{"dotted.key": "value", "nested": {"dotted": {"child": "nested_value"}}}',
    401, 'nested child instead of dotted', cookie => 1);
check('/versioned', '{"sub":"x"}', 200, 'documented header',
    header => '{"alg":"HS256","meta": {"version": "2.0"}}', cookie => 1);
check('/versioned', '{"sub":"x"}', 401, 'version the number 2.0, not the string',
    header => '{"alg":"HS256","meta":{"version":2.0}}', cookie => 1);
check('/versioned', '{"meta":{"version":"2.0"}}', 401, 'in the payload, not the header',
    cookie => 1);
check('/matrix', '{"matrix":[[1,2],[3,4]]}', 200, 'matrix[0][1] is 2', cookie => 1);
check('/matrix', '{"matrix":[[2,1]]}', 401, 'matrix[0][1] is 1', cookie => 1);
check('/matrix', '{"matrix":[[1,"2"]]}', 401, 'matrix[0][1] is "2"', cookie => 1);

# The token= cookie is the only source there.
my $doc = sign_compact('{"alg":"HS256"}', '{"address":{"city":"Tokyo"}}');
my $res = http_get_token('/api', $doc);
is($res->{status}, 401, '/api: a Bearer token is not the cookie');
like($res->{body}, qr/"TOKEN_MISSING"/, '/api: TOKEN_MISSING');

no_log_alerts();

done_testing();
