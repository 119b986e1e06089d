#!/usr/bin/perl

# Configuration errors: `nginx -t` fails naming the directive and the
# reason, and never prints key material.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

require_module();

my $SECRET = 'S3cr3t-' . ('q' x 40);          # 47 bytes: long enough
my $SHORT  = 'short-secret-16b';                # 16 bytes: too short

write_jwks('good.json', qw(hmac));
write_file('not-json.json', '{"keys": [ {"kty": "oct", "k": "' . b64u($SECRET) . '" ');
write_file('empty-keys.json', '{"keys": []}');
write_file('no-keys-member.json', '{"kty": "oct"}');
write_file('short-hmac.json', json_encode({ keys => [
    { kty => 'oct', kid => 'short-one', k => b64u($SHORT) } ] }));
write_file('alg-none.json', json_encode({ keys => [
    { kty => 'oct', kid => 'none-one', alg => 'none', k => b64u($SECRET) } ] }));
write_file('rsa-no-n.json', json_encode({ keys => [
    { kty => 'RSA', kid => 'r1', e => 'AQAB' } ] }));
write_file('rsa-bad-n.json', json_encode({ keys => [
    { kty => 'RSA', kid => 'r2', e => 'AQAB', n => 'not base64url!' . b64u($SECRET),
        d => b64u($SECRET) } ] }));
write_file('ec-bad-point.json', json_encode({ keys => [
    { kty => 'EC', kid => 'e1', crv => 'P-256', x => b64u("\1" x 32),
        y => b64u("\2" x 32) } ] }));
write_file('ec-bad-curve.json', json_encode({ keys => [
    { %{ key('p256')->{jwk} }, kid => 'e2', crv => 'P-192' } ] }));
write_file('garbage.pem', "-----BEGIN PUBLIC KEY-----\n" . b64u($SECRET)
    . "\n-----END PUBLIC KEY-----\n");
write_file('empty.pem', '');
write_file('alg-mismatch.json', json_encode({ keys => [
    jwk_public('p256', alg => 'ES384') ] }));
write_file('enc-only.json', json_encode({ keys => [
    { kty => 'oct', kid => 'e', use => 'enc', k => b64u($SECRET) } ] }));
mkdir testdir() . '/a-directory';
openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024',
    '-out', testdir() . '/rsa1024.key');
openssl('pkey', '-in', testdir() . '/rsa1024.key', '-pubout',
    '-out', testdir() . '/rsa1024.pem');
openssl('req', '-x509', '-key', key_file('p256', 'priv'), '-subj', '/CN=test',
    '-days', '1', '-out', testdir() . '/cert.pem');

my $priv_pem = do { local (@ARGV, $/) = key_file('rsa', 'priv'); <> };
my ($priv_body) = $priv_pem =~ /-----\n(.{40})/;

# A server protecting / with the given key file lines (and extra text).
sub protected {
    my ($keys, $extra) = @_;
    return <<"EOF";
    @{[ $extra // '' ]}
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            auth_jwt "test";
            $keys
            empty_gif;
        }
    }
EOF
}

sub key_file_conf { protected('auth_jwt_key_file %%TESTDIR%%/' . shift . ';') }

# fails($conf, qr/message/, $name, @secrets): nginx -t exits non-zero with
# an [emerg] matching the message, and prints none of the secrets.
sub fails {
    my ($conf, $re, $name, @secrets) = @_;
    my ($rc, $out) = nginx_t($conf);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest "nginx -t fails: $name" => sub {
        isnt($rc, 0, 'exit status non-zero');
        like($out, qr/\[emerg\].*\Q${\ testdir()}\E\/nginx-t\.conf:\d+/,
            '[emerg] with the configuration file and line');
        like($out, $re, 'names the directive and the reason');
        my $logs = $out . slurp(testdir() . '/nginx-t.log')
            . slurp(testdir() . '/error.log');
        for my $s (@secrets) {
            unlike($logs, qr/\Q$s\E/, 'no key material in the output or logs');
        }
    } or diag($out);
}


# Valid configurations pass.
my ($rc, $out) = nginx_t(key_file_conf('good.json'));
is($rc, 0, 'valid JWKS configuration passes nginx -t') or diag($out);
like($out, qr/test is successful/, 'nginx -t reports success');
($rc, $out) = nginx_t(protected('auth_jwt_key_file %%KEY_rsa%%;'));
is($rc, 0, 'valid PEM configuration passes nginx -t') or diag($out);
($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { auth_jwt off; empty_gif; }
    }
EOF
is($rc, 0, 'auth_jwt off needs no key file') or diag($out);

# Keys.
fails(protected(''), qr/auth_jwt_key_file/, 'auth_jwt on without a key file');
fails(<<'EOF', qr/auth_jwt_key_file/, 'auth_jwt on at http level without a key file');
    auth_jwt "test";
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { empty_gif; }
    }
EOF
fails(key_file_conf('missing.json'), qr/missing\.json.*(No such file|failed)/,
    'missing key file');
fails(key_file_conf('a-directory'), qr/"[^"]*a-directory" is not a regular file/,
    'key file is a directory (not a regular file)');
fails(key_file_conf('not-json.json'), qr/invalid key file ".*not-json\.json"/,
    'key file not JSON', b64u($SECRET), $SECRET);
fails(key_file_conf('empty-keys.json'), qr/invalid key file ".*empty-keys\.json"/,
    'JWKS with no keys');
fails(key_file_conf('no-keys-member.json'),
    qr/invalid key file ".*no-keys-member\.json"/, 'JWK without key material');
fails(key_file_conf('short-hmac.json'),
    qr/invalid key file ".*short-hmac\.json".*short-one/,
    'HMAC key shorter than 32 bytes (named by kid)', b64u($SHORT), $SHORT);
fails(key_file_conf('alg-none.json'),
    qr/invalid key file ".*alg-none\.json".*none/,
    'JWK with alg none', b64u($SECRET), $SECRET);
fails(key_file_conf('rsa-no-n.json'), qr/invalid key file ".*rsa-no-n\.json".*r1/,
    'RSA JWK without n (named by kid)');
fails(key_file_conf('rsa-bad-n.json'), qr/invalid key file ".*rsa-bad-n\.json"/,
    'RSA JWK with a bad n', b64u($SECRET), $SECRET);
fails(key_file_conf('ec-bad-point.json'), qr/invalid key file ".*ec-bad-point\.json"/,
    'EC JWK with a point not on the curve');
fails(key_file_conf('ec-bad-curve.json'), qr/invalid key file ".*ec-bad-curve\.json"/,
    'EC JWK on an unsupported curve');
fails(key_file_conf('garbage.pem'), qr/invalid key file ".*garbage\.pem"/,
    'PEM with garbage inside', b64u($SECRET));
fails(key_file_conf('empty.pem'), qr/invalid key file ".*empty\.pem"/,
    'empty key file');
fails(key_file_conf('rsa1024.pem'), qr/invalid key file ".*rsa1024\.pem".*2048/,
    'RSA key under 2048 bits');
fails(key_file_conf('alg-mismatch.json'), qr/invalid key file ".*alg-mismatch\.json"/,
    'JWK alg that does not fit its key (P-256 pinned to ES384)');
fails(key_file_conf('enc-only.json'), qr/invalid key file ".*enc-only\.json"/,
    'JWKS with only an encryption ("use": "enc") key', b64u($SECRET));
fails(key_file_conf('cert.pem'), qr/invalid key file ".*cert\.pem"/,
    'X.509 certificate as key file');
fails(protected('auth_jwt_key_file ' . key_file('rsa', 'priv') . ';'),
    qr/cannot serve "auth_jwt_type signed": no key for signature verification/,
    'private key PEM as key file',
    $priv_body);

# Directives.
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json; auth_jwt "again";'),
    qr/"auth_jwt" directive is duplicate/, 'duplicate auth_jwt');
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json;'
    . ' auth_jwt_leeway 1s; auth_jwt_leeway 2s;'),
    qr/"auth_jwt_leeway" directive is duplicate/, 'duplicate auth_jwt_leeway');
for my $bad (qw(soon -5s 1x)) {
    fails(protected("auth_jwt_key_file %%TESTDIR%%/good.json; auth_jwt_leeway $bad;"),
        qr/"auth_jwt_leeway" directive invalid value/, "auth_jwt_leeway $bad");
}
for my $code (qw(444 499 399 600 4xx)) {
    fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json;'
        . " auth_jwt_require \$jwt_claim_a error=$code;"),
        qr/"auth_jwt_require" directive: invalid "error=$code": a code from 400 to 599 other than 444 and 499/,
        "auth_jwt_require error=$code");
}
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json;'
    . ' auth_jwt_require error=403;'),
    qr/auth_jwt_require/, 'auth_jwt_require without a value');
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json;'
    . ' auth_jwt_claim_set $x sub;'),
    qr/"auth_jwt_claim_set" directive is not allowed here/,
    'auth_jwt_claim_set in a location');
fails(<<'EOF', qr/"auth_jwt_header_set" directive is not allowed here/,
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_header_set $x alg;
    }
EOF
    'auth_jwt_header_set in a server');
fails("auth_jwt_claim_set \$x;\n" . protected('auth_jwt_key_file %%TESTDIR%%/good.json;'),
    qr/"auth_jwt_claim_set"/, 'auth_jwt_claim_set without a claim name');
fails("auth_jwt_claim_set x sub;\n" . protected('auth_jwt_key_file %%TESTDIR%%/good.json;'),
    qr/"auth_jwt_claim_set"|invalid variable name/,
    'auth_jwt_claim_set with a name that is not a variable');
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json; auth_jwt_leeway 1s;')
    =~ s/auth_jwt "test";/auth_jwt "test" token=http_x_token;/r,
    qr/token=/, 'auth_jwt token= without a variable');
fails(protected('auth_jwt_key_file %%TESTDIR%%/good.json;')
    =~ s/auth_jwt "test";/auth_jwt "test" bogus=1;/r,
    qr/invalid parameter "bogus=1"/, 'auth_jwt with an unknown parameter');
fails(<<'EOF', qr/"auth_jwt_leeway" directive is not allowed here/,
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            auth_jwt_key_file %%TESTDIR%%/good.json;
            limit_except GET { auth_jwt "w"; auth_jwt_leeway 5s; }
            empty_gif;
        }
    }
EOF
    'auth_jwt_leeway in limit_except');

done_testing();
