#!/usr/bin/perl

# NGINX Plus's form of array values: $jwt_claim_<name>, $jwt_header_<name>,
# auth_jwt_claim_set and auth_jwt_header_set give an array of scalars as its
# elements separated by commas (strings unescaped, numbers and booleans as
# their text, [] empty); an array holding arrays or objects, and objects,
# stay JSON text; $jwt_payload stays the JSON. A Plus-style audience check
# (map $jwt_claim_aud + auth_jwt_require) passes on an array aud.

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
    roles => '$jwt_claim_roles',   aud => '$jwt_claim_aud',
    nums => '$jwt_claim_nums',     bools => '$jwt_claim_bools',
    empty => '$jwt_claim_empty',   one => '$jwt_claim_one',
    esc => '$jwt_claim_esc',       utf => '$jwt_claim_utf',
    objs => '$jwt_claim_objs',     nested => '$jwt_claim_nested',
    mixed => '$jwt_claim_mixed',   obj => '$jwt_claim_obj',
    commas => '$jwt_claim_commas', scalar => '$jwt_claim_scalar',
    hgrp => '$jwt_header_grp',     hobj => '$jwt_header_meta',
    setroles => '$set_roles',      setobj => '$set_ra',
    setdeep => '$set_deep',        sethdr => '$set_hdr',
    payload => '$jwt_payload',     audok => '$aud_ok',
);

my ($set_headers, $echo) = ('', '');
for (my $i = 0; $i < @VARS; $i += 2) {
    my ($name, $var) = @VARS[$i, $i + 1];
    $set_headers .= "        proxy_set_header X-$name $var;\n";
    $echo .= "$name=[\$http_x_$name]\\n";
}

my $conf = <<'EOF';
    auth_jwt_claim_set $set_roles realm_access roles;
    auth_jwt_claim_set $set_ra realm_access;
    auth_jwt_claim_set $set_deep realm_access nested;
    auth_jwt_header_set $set_hdr meta list;

    map $jwt_claim_aud $aud_ok {
        "~(^|,)api(,|$)"  1;
        default           0;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /plus {
            auth_jwt_require $aud_ok;
            empty_gif;
        }

        location / {
%%SET_HEADERS%%
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt off;
        location / {
            default_type text/plain;
            return 200 "%%ECHO%%";
        }
    }
EOF
$conf =~ s/%%SET_HEADERS%%/$set_headers/;
$conf =~ s/%%ECHO%%/$echo/;
start_nginx($conf);

# The echo: name => value.
sub echoed {
    my ($res) = @_;
    return { $res->{body} =~ /^(\w+)=\[(.*)\]$/mg };
}

my $payload = '{"sub":"alice",'
    . '"roles":["dev","admin"],'
    . '"aud":["web","api"],'
    . '"nums":[1,2.5,-3,1e3,0],'
    . '"bools":[true,false],'
    . '"empty":[],'
    . '"one":["solo"],'
    . '"esc":["a\"b","c\\\\d","e\/f"],'
    . '"utf":["caf\u00e9","\u20ac"],'
    . '"objs":[{"a":1},{"b":2}],'
    . '"nested":[[1,2],[3]],'
    . '"mixed":["a",["b"]],'
    . '"obj":{"k":["x","y"]},'
    . '"commas":"a,b",'
    . '"scalar":"plain",'
    . '"realm_access":{"roles":["admin","dev"],"nested":[{"x":1}]}}';
my $header = '{"alg":"HS256","typ":"JWT","grp":["h1","h2"],'
    . '"meta":{"list":["x","y"]}}';

my $res = http_get_token('/', sign_compact($header, $payload));
is_ok($res, 'token with array claims');
my $v = echoed($res);

is($v->{roles}, 'dev,admin', '$jwt_claim_roles: strings joined by commas, in order');
is($v->{aud}, 'web,api', '$jwt_claim_aud: array aud joined');
is($v->{nums}, '1,2.5,-3,1e3,0', '$jwt_claim_nums: numbers as their text');
is($v->{bools}, 'true,false', '$jwt_claim_bools: booleans as their text');
is($v->{empty}, '', '$jwt_claim_empty: [] is empty');
is($v->{one}, 'solo', '$jwt_claim_one: one element, no comma');
is($v->{esc}, 'a"b,c\\d,e/f', '$jwt_claim_esc: strings unescaped');
is($v->{utf}, "caf\xc3\xa9,\xe2\x82\xac", '$jwt_claim_utf: \u escapes as UTF-8');
is($v->{objs}, '[{"a":1},{"b":2}]', '$jwt_claim_objs: array of objects stays JSON');
is($v->{nested}, '[[1,2],[3]]', '$jwt_claim_nested: array of arrays stays JSON');
is($v->{mixed}, '["a",["b"]]', '$jwt_claim_mixed: array holding an array stays JSON');
is($v->{obj}, '{"k":["x","y"]}', '$jwt_claim_obj: object stays JSON');
is($v->{commas}, 'a,b', '$jwt_claim_commas: a string is itself');
is($v->{scalar}, 'plain', '$jwt_claim_scalar: a string is unquoted');
is($v->{hgrp}, 'h1,h2', '$jwt_header_grp: header array joined');
is($v->{hobj}, '{"list":["x","y"]}', '$jwt_header_meta: header object stays JSON');
is($v->{setroles}, 'admin,dev', 'auth_jwt_claim_set nested array joined');
is($v->{setobj}, '{"roles":["admin","dev"],"nested":[{"x":1}]}',
    'auth_jwt_claim_set object stays JSON');
is($v->{setdeep}, '[{"x":1}]', 'auth_jwt_claim_set array of objects stays JSON');
is($v->{sethdr}, 'x,y', 'auth_jwt_header_set nested array joined');
is($v->{audok}, '1', 'map on $jwt_claim_aud sees the joined form');
like($v->{payload}, qr/"roles":\["dev","admin"\]/, '$jwt_payload keeps the JSON array');
is_deeply(eval { JSON::PP->new->decode($v->{payload}) },
    JSON::PP->new->decode($payload), '$jwt_payload: the decoded claims set');

# The Plus-style audience check.
sub plus {
    my ($claims, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = http_get_token('/plus', sign_compact('{"alg":"HS256"}', $claims));
    return is_ok($res, "Plus audience check: $name") if $want == 200;
    is_rejected($res, 401, 'INVALID_TOKEN', "Plus audience check: $name");
}
plus('{"aud":["web","api"]}', 200, 'array aud holding api last');
plus('{"aud":["api","web"]}', 200, 'array aud holding api first');
plus('{"aud":["x","api","y"]}', 200, 'array aud holding api in the middle');
plus('{"aud":["api"]}', 200, 'array aud of one');
plus('{"aud":"api"}', 200, 'string aud');
plus('{"aud":["web","apix"]}', 401, 'array aud without api');
plus('{"aud":["api-v2"]}', 401, 'array aud api-v2');
plus('{"aud":[]}', 401, 'empty array aud');
plus('{"sub":"x"}', 401, 'no aud');

no_log_alerts();

done_testing();
