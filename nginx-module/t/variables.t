#!/usr/bin/perl

# $jwt_claim_*, $jwt_header_*, $jwt_payload, $jwt_auth_status,
# auth_jwt_claim_set and auth_jwt_header_set: forwarded to an upstream with
# proxy_set_header, used in map, add_header and log_format.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

# name => variable: each is forwarded as X-<name> and echoed as name=[value].
my @VARS = (
    sub => '$jwt_claim_sub',        tid => '$jwt_claim_tokenId',
    tidlower => '$jwt_claim_tokenid', num => '$jwt_claim_num',
    ratio => '$jwt_claim_ratio',    yes => '$jwt_claim_admin',
    no => '$jwt_claim_off',         groups => '$jwt_claim_groups',
    mixed => '$jwt_claim_mixed',    nested => '$jwt_claim_nested',
    empty => '$jwt_claim_none',
    obj => '$jwt_claim_realm_access', missing => '$jwt_claim_nope',
    null => '$jwt_claim_nul',       alg => '$jwt_header_alg',
    kid => '$jwt_header_kid',       typ => '$jwt_typ',
    hext => '$jwt_hext',            role => '$jwt_role',
    deep => '$jwt_deep',            tidexact => '$jwt_tid_exact',
    dotted => '$jwt_dotted',        mapped => '$role_is_admin',
    status => '$jwt_auth_status',   payload => '$jwt_payload',
    text => '$jwt_claim_text',      rolecase => '$jwt_claim_role',
);

my ($set_headers, $echo) = ('', '');
for (my $i = 0; $i < @VARS; $i += 2) {
    my ($name, $var) = @VARS[$i, $i + 1];
    $set_headers .= "        proxy_set_header X-$name $var;\n";
    $echo .= "$name=[\$http_x_$name]\\n";
}

start_nginx(<<"EOF");
    auth_jwt_claim_set \$jwt_role realm_access role;
    auth_jwt_claim_set \$jwt_deep a b c;
    auth_jwt_claim_set \$jwt_tid_exact tokenId;
    auth_jwt_claim_set \$jwt_dotted "x.y";
    auth_jwt_header_set \$jwt_typ typ;
    auth_jwt_header_set \$jwt_hext ext inner;

    map \$jwt_role \$role_is_admin {
        admin    yes;
        default  no;
    }

    log_format jwt '\$jwt_auth_status sub=\$jwt_claim_sub role=\$jwt_role';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

$set_headers
        location / {
            auth_jwt "test";
            add_header X-Auth-Status \$jwt_auth_status always;
            access_log %%TESTDIR%%/jwt.log jwt;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }

        location /open {
            add_header X-Auth-Status "[\$jwt_auth_status]" always;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / {
            default_type text/plain;
            return 200 "$echo";
        }
    }
EOF

# The upstream's echo, as name => value.
sub echoed {
    my ($res) = @_;
    return { $res->{body} =~ /^(\w+)=\[(.*)\]$/mg };
}

my $now = now();
my %claims = (
    sub => 'alice', tokenId => 'tid-123', num => 42, ratio => 1.5,
    admin => JSON::PP::true, off => JSON::PP::false,
    groups => [ 'a', 'b' ], realm_access => { role => 'admin' },
    mixed => [ 'x,y', 7, JSON::PP::true, "q\"t" ], nested => [ 'a', { b => 1 } ],
    none => [],
    nul => undef, a => { b => { c => 'deep-value' } }, 'x.y' => 'dotted',
    exp => $now + 300,
);
my $token = mint(claims => \%claims,
    header => { typ => 'JWT', ext => { inner => 'hv' } });

my $res = http_get_token('/', $token);
is_ok($res, 'valid token proxied');
my $v = echoed($res);

is($v->{sub}, 'alice', '$jwt_claim_sub: string unquoted');
is($v->{tid}, 'tid-123', '$jwt_claim_tokenId finds claim tokenId');
is($v->{tidlower}, 'tid-123', '$jwt_claim_tokenid finds claim tokenId too');
is($v->{num}, '42', '$jwt_claim_num: number as text');
is($v->{ratio}, '1.5', '$jwt_claim_ratio: fraction as text');
is($v->{yes}, 'true', '$jwt_claim_admin: true as text');
is($v->{no}, 'false', '$jwt_claim_off: false as text');
is($v->{groups}, 'a,b', '$jwt_claim_groups: array as its elements, comma-separated (Plus)');
is($v->{mixed}, 'x,y,7,true,q"t', 'array of scalars: strings unescaped, numbers and booleans as text');
is($v->{nested}, '["a",{"b":1}]', 'array holding an object: JSON text');
is($v->{empty}, '', 'empty array: empty');
is($v->{obj}, '{"role":"admin"}', '$jwt_claim_realm_access: object as JSON');
is($v->{missing}, '', 'absent claim: empty');
is($v->{null}, '', 'null claim: empty');
is($v->{alg}, 'HS256', '$jwt_header_alg');
is($v->{kid}, 'hmac', '$jwt_header_kid');
is($v->{typ}, 'JWT', 'auth_jwt_header_set typ');
is($v->{hext}, 'hv', 'auth_jwt_header_set nested path');
is($v->{role}, 'admin', 'auth_jwt_claim_set realm_access role');
is($v->{deep}, 'deep-value', 'auth_jwt_claim_set three levels deep');
is($v->{tidexact}, 'tid-123', 'auth_jwt_claim_set tokenId, exact case');
is($v->{dotted}, 'dotted', 'auth_jwt_claim_set member name with a dot');
is($v->{mapped}, 'yes', 'map on a claim variable');
is($v->{status}, 'OK', '$jwt_auth_status OK');
is($res->{headers}{'x-auth-status'}, 'OK', 'add_header $jwt_auth_status OK');
is_deeply(eval { JSON::PP->new->decode($v->{payload}) }, \%claims,
    '$jwt_payload: the decoded claims set');

# Exact case: auth_jwt_claim_set paths match exactly; prefix variables
# prefer an exact match over a case-insensitive one.
$v = echoed(http_get_token('/', mint(claims => { sub => 'bob',
    tokenid => 'lower', Role => 'upper', role => 'lower', exp => $now + 300 },
    header => { typ => 'JWT' }, kid => undef)));
is($v->{tidexact}, '', 'auth_jwt_claim_set tokenId does not find tokenid');
is($v->{tid}, 'lower', '$jwt_claim_tokenId finds tokenid (ASCII case ignored)');
is($v->{rolecase}, 'lower', '$jwt_claim_role: exact "role" wins over "Role"');
is($v->{kid}, '', '$jwt_header_kid empty without kid');
is($v->{role}, '', 'auth_jwt_claim_set: missing path is empty');
is($v->{mapped}, 'no', 'map default for a missing claim');

# JSON string escapes are decoded; control characters never reach a header.
my $exp = $now + 300;
my $escaped = sign_compact('{"alg":"HS256"}',
    qq({"sub":"a\\"b\\u0041c\\/d\\\\e","text":"line1\\nline2\\r\\nx","exp":$exp}));
$res = http_get_token('/', $escaped);
is_ok($res, 'token with escaped strings');
$v = echoed($res);
is($v->{sub}, 'a"bAc/d\\e', 'escapes decoded: \" \u0041 \/ \\\\');
like($v->{text}, qr/^line1\s+line2\s+x$/, 'newlines in a claim do not split the header');
unlike($res->{body}, qr/^line2/m, 'no injected upstream header line');

my $utf8 = sign_compact('{"alg":"HS256"}',
    qq({"sub":"Zo\\u00eb \xe2\x82\xac","exp":$exp}));
$v = echoed(http_get_token('/', $utf8));
is($v->{sub}, "Zo\xc3\xab \xe2\x82\xac", '\u00eb and raw UTF-8 as UTF-8 bytes');

# Nothing verified: the variables are empty.
$res = http_get('/open', Authorization => "Bearer $token");
is_ok($res, 'auth_jwt off location');
$v = echoed($res);
is(join('', map { $v->{$_} } qw(sub tid alg role payload status)), '',
    'no verified token: all variables empty');
is($res->{headers}{'x-auth-status'}, '[]', '$jwt_auth_status empty where auth_jwt is off');

# Rejections: $jwt_auth_status in add_header always, claims not exposed.
$res = http_get_token('/', 'x.y.z');
is_rejected($res, 401, 'INVALID_TOKEN', 'invalid token');
is($res->{headers}{'x-auth-status'}, 'INVALID_TOKEN', 'add_header $jwt_auth_status INVALID_TOKEN');
$res = http_get('/');
is($res->{headers}{'x-auth-status'}, 'TOKEN_MISSING', 'add_header $jwt_auth_status TOKEN_MISSING');
$res = http_get_token('/', mint(claims => { sub => 'eve', exp => $now - 10 }));
is($res->{headers}{'x-auth-status'}, 'TOKEN_EXPIRED', 'add_header $jwt_auth_status TOKEN_EXPIRED');

# log_format
my @log = do {
    open my $fh, '<', testdir() . '/jwt.log' or die "jwt.log: $!";
    <$fh>;
};
like($log[0], qr/^OK sub=alice role=admin$/, 'log_format: status and claims of a valid token');
ok((grep { /^INVALID_TOKEN sub=- role=-$/ } @log), 'log_format: invalid token, claims empty');
ok((grep { /^TOKEN_MISSING sub=- role=-$/ } @log), 'log_format: missing token');
ok((grep { /^TOKEN_EXPIRED sub=- role=-$/ } @log), 'log_format: expired token, claims empty');

no_log_alerts();

done_testing();
