#!/usr/bin/perl

# auth_jwt_type encrypted and nested (JWE, as NGINX Plus has them): tokens
# from Crypt::JWT for every key management and content encryption pair the
# module supports, decrypted with keys from auth_jwt_key_file (a JWKS with
# private members, and PEM private keys), their claims forwarded upstream;
# nested tokens verified with the signing keys after decryption. Refused,
# each as 401 INVALID_TOKEN: tampered ciphertext, tag, IV, encrypted key
# and header, a wrong key, the wrong type in either direction, zip,
# RSA1_5, PBES2, alg none inside a nested token, a signing key used to
# decrypt and a decryption key used to verify. nginx -t refuses a type its
# keys cannot serve.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use AuthJWTTest;
use JWEConformant;

require_module();

# decryption keys: oct keys of each length, RSA and EC private keys
my %oct = map { ("oct$_" => join '', map { chr(($_ * 7 + 3) % 256) } 1 .. $_ / 8) }
    qw(128 192 256 384 512);
my @enc_jwks = map { { kty => 'oct', kid => $_, use => 'enc', k => b64u($oct{$_}) } }
    sort keys %oct;

my $rsa = Crypt::PK::RSA->new;
$rsa->generate_key(256, 65537);
push @enc_jwks, { %{ $rsa->export_key_jwk('private', 1) }, kid => 'rsa-enc' };

my %ec;
for my $crv (qw(P-256 P-384 P-521)) {
    my $k = Crypt::PK::ECC->new;
    $k->generate_key(lc($crv) =~ s/-//r eq 'p256' ? 'secp256r1'
        : lc($crv) =~ s/-//r eq 'p384' ? 'secp384r1' : 'secp521r1');
    $ec{$crv} = $k;
    push @enc_jwks, { %{ $k->export_key_jwk('private', 1) }, kid => "ec-$crv" };
}

write_file('enc.jwks', json_encode({ keys => \@enc_jwks }));
chmod 0640, testdir() . '/enc.jwks';
write_jwks('sig.jwks', qw(rsa));
write_file('rsa-enc.pem', $rsa->export_key_pem('private'));
chmod 0644, testdir() . '/rsa-enc.pem';
write_file('both.jwks', json_encode({ keys => [@enc_jwks, jwk_public('rsa')] }));
chmod 0640, testdir() . '/both.jwks';

start_nginx(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /encrypted {
            auth_jwt "test";
            auth_jwt_type encrypted;
            auth_jwt_key_file %%TESTDIR%%/enc.jwks;
            add_header X-Sub "[$jwt_claim_sub]" always;
            add_header X-Enc "[$jwt_header_enc]" always;
            proxy_set_header X-Role $jwt_claim_role;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/echo;
        }

        location /nested {
            auth_jwt "test";
            auth_jwt_type nested;
            auth_jwt_key_file %%TESTDIR%%/both.jwks;
            add_header X-Sub "[$jwt_claim_sub]" always;
            add_header X-Alg "[$jwt_header_alg]" always;
            empty_gif;
        }

        location /pem {
            auth_jwt "test";
            auth_jwt_type encrypted;
            auth_jwt_key_file %%TESTDIR%%/rsa-enc.pem;
            add_header X-Sub "[$jwt_claim_sub]" always;
            empty_gif;
        }

        location /signed {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/both.jwks;
            add_header X-Sub "[$jwt_claim_sub]" always;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location /echo { return 200 "role=$http_x_role\n"; }
    }
EOF

my %claims = (sub => 'alice', role => 'admin', exp => now() + 300);

sub jwe {
    my (%a) = @_;
    my $alg = $a{alg};
    my $key = $a{key};
    unless (defined $key) {
        if ($alg =~ /^RSA/) { $key = $rsa }
        elsif ($alg =~ /^ECDH/) { $key = $ec{ $a{crv} || 'P-256' } }
        else { $key = $a{oct} }
    }
    return encode_jwt(payload => $a{payload} || {%claims}, alg => $alg,
        enc => $a{enc}, key => $key,
        extra_headers => { (defined $a{kid} ? (kid => $a{kid}) : ()),
            %{ $a{header} || {} } });
}

# key management algorithm => [oct key for it (by enc for dir), kid]
my @pairs;
for my $enc (qw(A128GCM A192GCM A256GCM A128CBC-HS256 A192CBC-HS384 A256CBC-HS512)) {
    my %cek = ('A128GCM' => 128, 'A192GCM' => 192, 'A256GCM' => 256,
        'A128CBC-HS256' => 256, 'A192CBC-HS384' => 384, 'A256CBC-HS512' => 512);
    push @pairs, [dir => $enc, "oct$cek{$enc}"];
    for my $bits (qw(128 192 256)) {
        push @pairs, ["A${bits}KW" => $enc, "oct$bits"];
        push @pairs, ["A${bits}GCMKW" => $enc, "oct$bits"];
    }
    push @pairs, ['RSA-OAEP' => $enc, 'rsa-enc'], ['RSA-OAEP-256' => $enc, 'rsa-enc'];
    for my $crv (qw(P-256 P-384 P-521)) {
        push @pairs, ['ECDH-ES' => $enc, "ec-$crv", $crv];
        push @pairs, ["ECDH-ES+A${_}KW" => $enc, "ec-$crv", $crv] for qw(128 192 256);
    }
}

for my $p (@pairs) {
    my ($alg, $enc, $kid, $crv) = @$p;
    my $token = jwe(alg => $alg, enc => $enc, kid => $kid, crv => $crv,
        oct => $oct{$kid});
    my $r = http_get_token('/encrypted', $token);
    is("$r->{status} $r->{headers}{'x-sub'}", '200 [alice]',
        "encrypted $alg + $enc");
}

# a PEM private key, as NGINX Plus takes one; readable by others: a warning
for my $kid ('rsa-enc', undef) {
    my $r = http_get_token('/pem', jwe(alg => 'RSA-OAEP-256', enc => 'A256GCM', kid => $kid));
    is("$r->{status} $r->{headers}{'x-sub'}", '200 [alice]',
        'PEM private key decrypts, kid ' . ($kid // 'absent'));
}
like(error_log(), qr/\[warn\].*key file ".*rsa-enc\.pem" holds decryption keys and is readable by any user/,
    'a world-readable private key file is warned about');
unlike(error_log(), qr/\[warn\].*enc\.jwks" holds decryption keys/,
    'not one others cannot read');

# the claims reach the upstream; the header variables are the JWE's
my $token = jwe(alg => 'A256KW', enc => 'A256GCM', kid => 'oct256', oct => $oct{oct256});
my $r = http_get_token('/encrypted', $token);
like($r->{body}, qr/^role=admin$/m, 'claims forwarded upstream');
is($r->{headers}{'x-enc'}, '[A256GCM]', '$jwt_header_enc is the JWE header\'s');

# nested: a JWS (RS256) inside a JWE
my $inner = mint(alg => 'RS256', key => 'rsa', claims => {%claims});
my $nested = jwe(alg => 'RSA-OAEP-256', enc => 'A256GCM', kid => 'rsa-enc',
    payload => $inner, header => { cty => 'JWT' });
$r = http_get_token('/nested', $nested);
is("$r->{status} $r->{headers}{'x-sub'} $r->{headers}{'x-alg'}",
    '200 [alice] [RS256]', 'nested: decrypted, verified, inner header');
is(http_get_token('/encrypted', $nested)->{status}, 401,
    'a nested token where encrypted is configured');
is(http_get_token('/nested', $token)->{status}, 401,
    'an encrypted token (claims inside) where nested is configured');
is(http_get_token('/signed', $token)->{status}, 401, 'a JWE where signed is configured');
is(http_get_token('/encrypted', $inner)->{status}, 401, 'a JWS where encrypted is configured');
is(http_get_token('/signed', $inner)->{status}, 200, 'the same JWS where signed is configured');

# a nested token whose inner JWS does not verify, or is alg none
my @parts = split /\./, $inner;
my $forged = join '.', @parts[0, 1], b64u('x' x 256);
is(http_get_token('/nested', jwe(alg => 'A256KW', enc => 'A256GCM', kid => 'oct256',
    oct => $oct{oct256}, payload => $forged, header => { cty => 'JWT' }))->{status},
    401, 'nested: inner signature must verify');
my $none = b64u('{"alg":"none"}') . '.' . b64u(json_encode({%claims})) . '.';
is(http_get_token('/nested', jwe(alg => 'A256KW', enc => 'A256GCM', kid => 'oct256',
    oct => $oct{oct256}, payload => $none, header => { cty => 'JWT' }))->{status},
    401, 'nested: alg none inside refused');

# jwtctl encrypts with the core's own encrypter; nginx opens it, and jwtctl
# opens Crypt::JWT's tokens as nginx does
{
    require_jwtctl();
    my $jwtctl = jwtctl_path();
    my $dir = testdir();
    write_file('enc256.jwk', json_encode({ kty => 'oct', kid => 'oct256', use => 'enc',
        k => b64u($oct{oct256}) }));
    write_file('rsa-pub.jwk', json_encode({ %{ $rsa->export_key_jwk('public', 1) }, kid => 'rsa-enc' }));
    my $claims = json_encode({%claims});
    my $t = qx{$jwtctl encrypt --key $dir/enc256.jwk --alg A256KW --enc A128CBC-HS256 '$claims'};
    chomp $t;
    is(http_get_token('/encrypted', $t)->{headers}{'x-sub'}, '[alice]', 'jwtctl encrypt: nginx opens it');
    my $n = qx{$jwtctl encrypt --key $dir/rsa-pub.jwk --alg RSA-OAEP --nested $inner};
    chomp $n;
    is(http_get_token('/nested', $n)->{headers}{'x-sub'}, '[alice]', 'jwtctl encrypt --nested: nginx opens it');
    my $out = qx{$jwtctl verify --type nested --key $dir/both.jwks $nested};
    like($out, qr/"sub":"alice"/, 'jwtctl verify --type nested opens a Crypt::JWT token');
    $out = qx{$jwtctl verify --type encrypted --key $dir/enc.jwks $token 2>&1};
    like($out, qr/"role":"admin"/, 'jwtctl verify --type encrypted');
    $out = qx{$jwtctl verify --key $dir/both.jwks $token 2>&1};
    like($out, qr/^INVALID_TOKEN: /, 'jwtctl verify: a JWE where signed is expected');
}

# tampering: each of the five parts, and a wrong key
my @t = split /\./, jwe(alg => 'RSA-OAEP', enc => 'A128CBC-HS256', kid => 'rsa-enc');
sub flip { my ($s) = @_; my $c = substr($s, 5, 1); substr($s, 5, 1) = $c eq 'A' ? 'B' : 'A'; $s }
for my $i (0 .. 4) {
    my @u = @t;
    $u[$i] = flip($u[$i]);
    is(http_get_token('/encrypted', join '.', @u)->{status}, 401,
        "tampered part $i refused");
}
is(http_get_token('/encrypted', jwe(alg => 'A256KW', enc => 'A256GCM', kid => 'oct256',
    oct => 'k' x 32))->{status}, 401, 'wrong key refused');

# refused algorithms and features
is(http_get_token('/encrypted', jwe(alg => 'RSA1_5', enc => 'A128GCM', kid => 'rsa-enc'))->{status},
    401, 'RSA1_5 refused');
is(http_get_token('/encrypted', encode_jwt(payload => {%claims}, alg => 'PBES2-HS256+A128KW',
    enc => 'A128GCM', key => 'password'))->{status}, 401, 'PBES2 refused');
is(http_get_token('/encrypted', encode_jwt(payload => {%claims}, alg => 'A256KW',
    enc => 'A256GCM', key => $oct{oct256}, zip => 'deflate',
    extra_headers => { kid => 'oct256' }))->{status}, 401, 'zip refused');

# a signing key never decrypts; a decryption key never verifies
write_jwks('sig-only.jwks', qw(rsa));
my ($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        auth_jwt "t";
        auth_jwt_type encrypted;
        auth_jwt_key_file %%TESTDIR%%/sig-only.jwks;
    }
EOF
isnt($rc, 0, 'nginx -t: encrypted needs a decryption key');
like($out, qr/"auth_jwt_type encrypted": no key for decryption/, 'and says so');
($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        auth_jwt "t";
        auth_jwt_type nested;
        auth_jwt_key_file %%TESTDIR%%/enc.jwks;
    }
EOF
isnt($rc, 0, 'nginx -t: nested needs a signing key');
like($out, qr/"auth_jwt_type nested": /, 'and says so');

stop_nginx();
done_testing();
