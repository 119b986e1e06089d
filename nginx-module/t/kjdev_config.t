#!/usr/bin/perl

# nginx -t on kjdev/nginx-auth-jwt's directives (kjdev_surface.t runs
# them): what loads, and what is refused with a message that names the
# directive and says why (and what to write instead where there is
# something): auth_jwt_validate_sig/exp off, error= codes out of range,
# auth_jwt_allow_nested's parameters and the names it cannot split,
# revocation list files that are not JSON objects, keyval files holding
# something other than PEM public keys, formats, auth_jwt_phase.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

require_module();

write_jwks('jwks.json', qw(hmac));
write_file('subs.json', '{"a": 1, "b": {"c": 2}}');
write_file('keyval.json', json_encode({ 'rsa-1' => slurp(key_file('rsa')) }));

# $http lines, a server, and $loc in its location /
sub conf {
    my ($loc, $http) = @_;
    return <<"EOF";
    @{[ $http // '' ]}
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            $loc
            empty_gif;
        }
    }
EOF
}

sub loads {
    my ($loc, $name, $http) = @_;
    my ($rc, $out) = nginx_t(conf($loc, $http));
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($rc, 0, "loads: $name") or diag($out);
}

# fails($loc, qr/message/, $name, $http): nginx -t fails with an [emerg]
# matching the message, at a line of the configuration
sub fails {
    my ($loc, $re, $name, $http) = @_;
    my ($rc, $out) = nginx_t(conf($loc, $http));
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest "nginx -t fails: $name" => sub {
        isnt($rc, 0, 'exit status non-zero');
        like($out, qr/\[emerg\].*\Q${\ testdir()}\E\/nginx-t\.conf:\d+/,
            '[emerg] with the configuration file and line');
        like($out, $re, 'names the directive and says why');
    } or diag($out);
}

###############################################################################
# auth_jwt_validate_sig, auth_jwt_validate_exp

loads('auth_jwt_validate_sig on; auth_jwt_validate_exp on;', 'validate on');
loads('limit_except GET { auth_jwt_validate_sig on; auth_jwt_validate_exp on; }',
    'validate on in limit_except');
loads('', 'validate on at http', 'auth_jwt_validate_sig on; auth_jwt_validate_exp on;');
fails('auth_jwt_validate_sig off;',
    qr/"auth_jwt_validate_sig off" is not supported: this module always verifies the signature; for a location that needs no token, write "auth_jwt off"/,
    'auth_jwt_validate_sig off');
fails('auth_jwt_validate_exp off;',
    qr/"auth_jwt_validate_exp off" is not supported: this module always checks "exp" when a token has one; for clock skew, set "auth_jwt_leeway"/,
    'auth_jwt_validate_exp off');
fails('auth_jwt_validate_sig yes;', qr/invalid value "yes" in "auth_jwt_validate_sig" directive, it must be "on" or "off"/,
    'auth_jwt_validate_sig yes');

###############################################################################
# error=code

loads('auth_jwt_require $jwt_claim_a error=400; auth_jwt_require $jwt_claim_b error=599;'
    . ' auth_jwt_require_claim sub eq x error=418; auth_jwt_require_header typ eq JWT error=503;',
    'codes 400 to 599');
for my $code (qw(444 499 399 600 40x)) {
    fails("auth_jwt_require \$jwt_claim_a error=$code;",
        qr/"auth_jwt_require" directive: invalid "error=$code": a code from 400 to 599 other than 444 and 499 is expected/,
        "auth_jwt_require error=$code");
    fails("auth_jwt_require_claim sub eq x error=$code;",
        qr/"auth_jwt_require_claim" directive: invalid parameter "error=$code": error=code is expected, a code from 400 to 599 other than 444 and 499/,
        "auth_jwt_require_claim error=$code");
}
fails('auth_jwt_require_header typ eq JWT error=444;',
    qr/"auth_jwt_require_header" directive: invalid parameter "error=444"/,
    'auth_jwt_require_header error=444');

###############################################################################
# auth_jwt_allow_nested

loads('auth_jwt_allow_nested; auth_jwt_require_claim a.b eq x;', 'allow_nested');
loads('auth_jwt_allow_nested delimiter=<> quote=\'; auth_jwt_require_claim a<>b eq x;',
    'delimiter=<> quote=\'');
loads('auth_jwt_require_claim \'"a.b\' eq x;', 'an unbalanced quote without nesting is a name');
fails('auth_jwt_allow_nested; auth_jwt_allow_nested;',
    qr/"auth_jwt_allow_nested" directive is duplicate/, 'duplicate');
fails('auth_jwt_allow_nested separator=:;',
    qr/"auth_jwt_allow_nested" directive: invalid parameter "separator=:"/,
    'unknown parameter');
fails('auth_jwt_allow_nested delimiter=;',
    qr/"auth_jwt_allow_nested" directive: the delimiter and the quote must be non-empty/,
    'empty delimiter');
fails('auth_jwt_allow_nested quote=.;',
    qr/"auth_jwt_allow_nested" directive: the delimiter and the quote must be non-empty and neither may start with the other/,
    'quote equal to the delimiter');
fails('limit_except GET { auth_jwt_allow_nested; }',
    qr/"auth_jwt_allow_nested" directive is not allowed here/, 'in limit_except');

for my $case (
    [ q{'"a.b'}, 'unterminated quoted key', 'unbalanced quote' ],
    [ q{'"a"b.c'}, 'a quoted key must be followed by the delimiter or end the name',
        'text after the closing quote' ],
    [ q{'a."".b'}, 'empty quoted key', 'empty quoted key' ],
    [ q{...}, 'invalid path', 'a JQ path stays one: "..." is not a valid path' ],
) {
    my ($name, $why, $what) = @$case;
    fails("auth_jwt_allow_nested; auth_jwt_require_claim $name eq x;",
        qr/"auth_jwt_require_claim" directive: invalid (name|path).*\Q$why\E/, $what);
}
fails('auth_jwt_allow_nested delimiter=:; auth_jwt_require_header :: eq x;',
    qr/"auth_jwt_require_header" directive: invalid name "::" with "auth_jwt_allow_nested": the name holds no key, only delimiters/,
    'a name of delimiters only');

# the level's setting splits inherited names, whatever the order: checked
# at the merge
fails('auth_jwt_allow_nested;', qr/"auth_jwt_require_claim" directive: invalid name ""x" with "auth_jwt_allow_nested"/,
    'an inherited name split by the location\'s setting',
    'auth_jwt_require_claim \'"x\' eq x;');
fails('auth_jwt_require_claim \'"x\' eq x; auth_jwt_allow_nested;',
    qr/invalid name ""x" with "auth_jwt_allow_nested"/, 'the setting after the name');
fails('', qr/"auth_jwt_claim_set" directive: invalid name "a."b" with "auth_jwt_allow_nested": .*unterminated quoted key/,
    'auth_jwt_claim_set names too',
    'auth_jwt_allow_nested; auth_jwt_claim_set $v \'a."b\';');
fails('auth_jwt_allow_nested delimiter=:;',
    qr/"auth_jwt_header_set" directive: invalid name "::"/, 'auth_jwt_header_set names too',
    'auth_jwt_header_set $v ::;');
loads('auth_jwt_allow_nested;', 'auth_jwt_claim_set of several names is a path already',
    'auth_jwt_claim_set $v \'"a\' b;');

###############################################################################
# revocation lists

loads('auth_jwt_revocation_list_sub %%TESTDIR%%/subs.json;'
    . ' auth_jwt_revocation_list_kid %%TESTDIR%%/subs.json;'
    . ' limit_except GET { auth_jwt_revocation_list_sub %%TESTDIR%%/subs.json; }',
    'revocation lists, repeated, in limit_except');
write_file('empty.json', '');
write_file('array.json', '["a", "b"]');
write_file('dup.json', '{"a": 1, "a": 2}');
write_file('bad.json', '{"a": 1,}');
for my $case (
    [ 'array.json', 'not a JSON object' ],
    [ 'empty.json', 'not valid JSON: syntax error' ],
    [ 'dup.json', 'not valid JSON: duplicate member name' ],
    [ 'bad.json', 'not valid JSON: syntax error' ],
) {
    my ($file, $why) = @$case;
    fails("auth_jwt_revocation_list_sub %%TESTDIR%%/$file;",
        qr/"auth_jwt_revocation_list_sub" directive: invalid file ".*\/\Q$file\E": \Q$why\E/,
        "revocation list $file");
}
fails('auth_jwt_revocation_list_kid %%TESTDIR%%/missing.json;',
    qr/"auth_jwt_revocation_list_kid" directive: open\(\) ".*missing\.json" failed/,
    'a missing revocation list');

###############################################################################
# keyval, formats

loads('auth_jwt_key_file %%TESTDIR%%/keyval.json keyval;', 'keyval key file');
loads('auth_jwt_key_file %%TESTDIR%%/jwks.json jwks;', 'jwks key file');
write_file('keyval-hmac.json', '{"h": "' . b64u('x' x 40) . '"}');
fails('auth_jwt_key_file %%TESTDIR%%/keyval-hmac.json keyval;',
    qr/invalid key file ".*keyval-hmac\.json": key "h": not a PEM public key \(keyval holds PEM public keys only; give an HMAC secret as a JWKS "oct" key\)/,
    'an HMAC secret in a keyval file');
fails('auth_jwt_key_file %%TESTDIR%%/jwks.json keyval;',
    qr/invalid key file ".*jwks\.json": key "keys": not a PEM public key/,
    'a JWKS read as keyval');
fails('auth_jwt_key_file ' . key_file('rsa', 'priv') . ' keyval;',
    qr/invalid key file ".*rsa\.key\.pem": the keyval file is not valid JSON/,
    'PEM read as keyval');
fails('auth_jwt_key_file %%TESTDIR%%/jwks.json pem;',
    qr/"auth_jwt_key_file" directive: invalid format "pem": "jwks" or "keyval" is expected/,
    'auth_jwt_key_file format pem');
fails('auth_jwt_key_request /_jwks pem;',
    qr/"auth_jwt_key_request" directive: invalid format "pem": "jwks" or "keyval" is expected/,
    'auth_jwt_key_request format pem');
loads('auth_jwt_key_request /_jwks keyval;', 'auth_jwt_key_request keyval');
loads('auth_jwt_key_file %%TESTDIR%%/keys/$host.json keyval;',
    'variables in a keyval key file name (key_file_var.t)');

###############################################################################
# auth_jwt_phase

loads('auth_jwt_phase preaccess;', 'auth_jwt_phase preaccess');
loads('auth_jwt_phase access;', 'auth_jwt_phase access');
loads('', 'auth_jwt_phase at http', 'auth_jwt_phase preaccess;');
fails('auth_jwt_phase rewrite;', qr/invalid value "rewrite"/, 'auth_jwt_phase rewrite');
fails('limit_except GET { auth_jwt_phase preaccess; }',
    qr/"auth_jwt_phase" directive is not allowed here/, 'auth_jwt_phase in limit_except');

done_testing();
