#!/usr/bin/perl

# Every supported algorithm is accepted from a JWKS and from PEM key files;
# kid selects the key; a JWK's alg pins it; a key is bound to its family
# and curve.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

my @ALGS = qw(HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512
    ES256 ES384 ES512 EdDSA);

# Which PEM file verifies which algorithm.
my %PEM_OF = (RS => 'rsa', PS => 'rsa', ES256 => 'p256', ES384 => 'p384',
    ES512 => 'p521', EdDSA => 'ed25519');

write_jwks('jwks.json', qw(hmac rsa p256 p384 p521 ed25519));
write_jwks('two-rsa.json', qw(rsa rsa2));
write_jwks('pinned.json', jwk_public('rsa', alg => 'RS256'),
    jwk_public('hmac', alg => 'HS256'));
write_file('rsa-pkcs1.pem', key('rsa')->{pk}->export_key_pem('public'));
write_file('bundle.pem', join '', map { slurp(key_file($_)) } qw(rsa p256));

start_nginx(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /jwks { empty_gif; }

        location /pem/rsa       { auth_jwt_key_file %%KEY_rsa%%; empty_gif; }
        location /pem/p256      { auth_jwt_key_file %%KEY_p256%%; empty_gif; }
        location /pem/p384      { auth_jwt_key_file %%KEY_p384%%; empty_gif; }
        location /pem/p521      { auth_jwt_key_file %%KEY_p521%%; empty_gif; }
        location /pem/ed25519   { auth_jwt_key_file %%KEY_ed25519%%; empty_gif; }
        location /pem/pkcs1 {
            auth_jwt_key_file %%TESTDIR%%/rsa-pkcs1.pem;
            empty_gif;
        }
        location /pem/bundle {
            auth_jwt_key_file %%TESTDIR%%/bundle.pem;
            empty_gif;
        }
        location /pem/two-files {
            auth_jwt_key_file %%KEY_p384%%;
            auth_jwt_key_file %%KEY_ed25519%%;
            empty_gif;
        }

        location /kid    { auth_jwt_key_file %%TESTDIR%%/two-rsa.json; empty_gif; }
        location /pinned { auth_jwt_key_file %%TESTDIR%%/pinned.json; empty_gif; }
    }
EOF


sub invalid {
    my ($path, $token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_rejected(http_get_token($path, $token), 401, 'INVALID_TOKEN', $name);
}

# Every algorithm from the JWKS, with and without a kid.
for my $alg (@ALGS) {
    is_ok(http_get_token('/jwks', mint(alg => $alg)), "$alg from JWKS (kid)");
    is_ok(http_get_token('/jwks', mint(alg => $alg, kid => undef)),
        "$alg from JWKS (no kid)");
}

# Every asymmetric algorithm from its SPKI PEM public key file.
for my $alg (grep { !/^HS/ } @ALGS) {
    my $pem = $PEM_OF{$alg} || $PEM_OF{ substr $alg, 0, 2 };
    is_ok(http_get_token("/pem/$pem", mint(alg => $alg, kid => undef)),
        "$alg from PEM ($pem SPKI)");
}

is_ok(http_get_token('/pem/pkcs1', mint(alg => 'RS256', kid => undef)),
    'RS256 from PKCS#1 "RSA PUBLIC KEY" PEM');
is_ok(http_get_token('/pem/pkcs1', mint(alg => 'PS384', kid => undef)),
    'PS384 from PKCS#1 "RSA PUBLIC KEY" PEM');
is_ok(http_get_token('/pem/bundle', mint(alg => 'RS512', kid => undef)),
    'RSA key from a PEM file holding two keys');
is_ok(http_get_token('/pem/bundle', mint(alg => 'ES256', kid => undef)),
    'EC key from a PEM file holding two keys');
is_ok(http_get_token('/pem/two-files', mint(alg => 'ES384', kid => undef)),
    'first of two auth_jwt_key_file directives');
is_ok(http_get_token('/pem/two-files', mint(alg => 'EdDSA', kid => undef)),
    'second of two auth_jwt_key_file directives');

# A token signed by a key that is not configured.
invalid('/pem/p256', mint(alg => 'ES384', kid => undef),
    'ES384 token against a P-256 key file only');
invalid('/pem/rsa', mint(alg => 'RS256', key => 'rsa2', kid => undef),
    'RS256 signed by an unknown RSA key');
invalid('/pem/ed25519', mint(alg => 'EdDSA', key => 'ed25519b', kid => undef),
    'EdDSA signed by an unknown Ed25519 key');

# Family and curve binding.
invalid('/pem/p256', mint(alg => 'RS256', kid => undef),
    'RS256 token against an EC key file');
invalid('/jwks', mint(alg => 'ES384', key => 'p256', kid => 'p256'),
    'ES384 signed with the P-256 key (curve bound to alg)');
invalid('/jwks', mint(alg => 'ES256', key => 'p384', kid => 'p384'),
    'ES256 signed with the P-384 key (curve bound to alg)');
invalid('/jwks', mint(alg => 'ES512', key => 'p256', kid => undef),
    'ES512 signed with the P-256 key, no kid');

# kid selection.
is_ok(http_get_token('/kid', mint(alg => 'RS256', key => 'rsa2', kid => 'rsa2')),
    'kid selects the second of two RSA keys');
is_ok(http_get_token('/kid', mint(alg => 'RS256', key => 'rsa', kid => 'rsa')),
    'kid selects the first of two RSA keys');
invalid('/kid', mint(alg => 'RS256', key => 'rsa2', kid => 'rsa'),
    'kid naming another key than the signer');
invalid('/kid', mint(alg => 'RS256', key => 'rsa', kid => 'nope'),
    'kid naming no configured key');
invalid('/kid', mint(alg => 'RS256', key => 'rsa', kid => '../../rsa'),
    'kid with path characters');

# A JWK's alg pins the algorithm.
is_ok(http_get_token('/pinned', mint(alg => 'RS256')), 'RS256 with JWK alg RS256');
is_ok(http_get_token('/pinned', mint(alg => 'HS256')), 'HS256 with JWK alg HS256');
for my $alg (qw(RS384 RS512 PS256 PS512)) {
    invalid('/pinned', mint(alg => $alg, key => 'rsa'),
        "$alg refused by RSA JWK pinned to RS256");
}
for my $alg (qw(HS384 HS512)) {
    invalid('/pinned', mint(alg => $alg, key => 'hmac'),
        "$alg refused by oct JWK pinned to HS256");
}

no_log_alerts();

done_testing();
