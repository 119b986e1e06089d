#!/usr/bin/env perl
#
# Mints the JWE fixtures the Swift tests decrypt (JWEFixtureTests.swift) with an
# implementation independent of the module: Perl's Crypt::JWT (Debian's
# libcrypt-jwt-perl, 0.034 here) over CryptX.
#
#   perl make-jwe-fixtures.pl          # tokens from the committed keys
#   perl make-jwe-fixtures.pl --keys   # new keys first, then tokens
#
# Writes, next to this script:
#   jwe-keys.json     the recipient's decryption keys (private JWKs, "use": "enc")
#   jws-keys.json     the signer's public keys, for nested tokens' inner JWS
#   jws-signing.json  the signer's private keys (used here only)
#   jwe-tokens.json   one encrypted and one nested token per alg/enc pair
#
# Crypt::JWT 0.034's ECDH-ES departs from RFC 7518 section 4.6; JWEConformant
# (nginx-module/t/lib) replaces its two ECDH key-wrap functions with
# RFC-conformant ones; everything else is Crypt::JWT's own.

use strict;
use warnings;

use Crypt::JWT qw(encode_jwt);
use Crypt::Misc qw(encode_b64u decode_b64u);
use Crypt::PK::ECC;
use Crypt::PK::RSA;
use Crypt::PK::X25519;
use Crypt::PRNG qw(random_bytes);
use File::Basename qw(dirname);
use JSON::PP;
use FindBin;
use lib "$FindBin::Bin/../../../nginx-module/t/lib";
use JWEConformant;

my $dir  = dirname(__FILE__);
my $json = JSON::PP->new->canonical->pretty;

# The claims every token carries: exp in 2100, and the pair it was minted
# with, so that a test sees which token it opened.
sub claims {
    my ($type, $alg, $enc) = @_;
    return qq({"iss":"crypt-jwt","sub":"fixture","exp":4102444800,"type":"$type","alg":"$alg","enc":"$enc"});
}

sub write_json {
    my ($name, $value) = @_;
    open(my $fh, '>', "$dir/$name") or die "$dir/$name: $!";
    print {$fh} $json->encode($value);
    close($fh);
}

sub read_json {
    my ($name) = @_;
    open(my $fh, '<', "$dir/$name") or die "$dir/$name: $! (run with --keys first)";
    local $/;
    return decode_json(<$fh>);
}

if (@ARGV && $ARGV[0] eq '--keys') {
    my @enc;
    for my $bytes (16, 24, 32, 48, 64) {
        push @enc, { kty => 'oct', kid => "oct-$bytes", use => 'enc',
                     k => encode_b64u(random_bytes($bytes)) };
    }
    my $rsa = Crypt::PK::RSA->new->generate_key(256, 65537);
    push @enc, { %{ $rsa->export_key_jwk('private', 1) }, kid => 'rsa-enc', use => 'enc' };
    for my $curve (['secp256r1', 'p256'], ['secp384r1', 'p384'], ['secp521r1', 'p521']) {
        my $ec = Crypt::PK::ECC->new->generate_key($curve->[0]);
        push @enc, { %{ $ec->export_key_jwk('private', 1) }, kid => "$curve->[1]-enc", use => 'enc' };
    }
    my $x = Crypt::PK::X25519->new->generate_key;
    push @enc, { %{ $x->export_key_jwk('private', 1) }, kid => 'x25519-enc', use => 'enc' };
    write_json('jwe-keys.json', { keys => \@enc });

    my $sig_rsa = Crypt::PK::RSA->new->generate_key(256, 65537);
    my $sig_ec  = Crypt::PK::ECC->new->generate_key('secp256r1');
    write_json('jws-signing.json', { keys => [
        { %{ $sig_rsa->export_key_jwk('private', 1) }, kid => 'sig-rsa', use => 'sig', alg => 'RS256' },
        { %{ $sig_ec->export_key_jwk('private', 1) },  kid => 'sig-p256', use => 'sig', alg => 'ES256' },
    ] });
    write_json('jws-keys.json', { keys => [
        { %{ $sig_rsa->export_key_jwk('public', 1) }, kid => 'sig-rsa', use => 'sig', alg => 'RS256' },
        { %{ $sig_ec->export_key_jwk('public', 1) },  kid => 'sig-p256', use => 'sig', alg => 'ES256' },
    ] });
}

my %enc_key = map { $_->{kid} => $_ } @{ read_json('jwe-keys.json')->{keys} };
my %sig_key = map { $_->{kid} => $_ } @{ read_json('jws-signing.json')->{keys} };

my %cek_bytes = ('A128GCM' => 16, 'A192GCM' => 24, 'A256GCM' => 32,
                 'A128CBC-HS256' => 32, 'A192CBC-HS384' => 48, 'A256CBC-HS512' => 64);
my @encs = ('A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512');

# The recipient key (by kid) for a pair, and the key Crypt::JWT encrypts to.
sub recipient {
    my ($alg, $enc, $curve) = @_;
    my $kid;
    if ($alg eq 'dir')                 { $kid = "oct-$cek_bytes{$enc}" }
    elsif ($alg =~ /^A(\d+)(GCM)?KW$/) { $kid = 'oct-' . ($1 / 8) }
    elsif ($alg =~ /^RSA-OAEP/)        { $kid = 'rsa-enc' }
    else                               { $kid = "$curve-enc" }
    my $jwk = $enc_key{$kid};
    my $key = $jwk->{kty} eq 'oct' ? decode_b64u($jwk->{k})
            : { map { $_ => $jwk->{$_} } grep { $_ ne 'd' && $_ !~ /^(p|q|dp|dq|qi)$/ } keys %$jwk };
    return ($kid, $key);
}

my @tokens;
my $n = 0;
my $pair = 0;
for my $alg ('dir', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW',
             'RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW') {
    my @curves = $alg =~ /^ECDH-ES/ ? ('p256', 'p384', 'p521', 'x25519') : ('');
    for my $curve (@curves) {
        for my $enc (@encs) {
            my ($kid, $key) = recipient($alg, $enc, $curve);
            $pair++;
            for my $type ('encrypted', 'nested') {
                # Nested tokens on P-384 and P-521 add nothing the other curves do not test.
                next if $type eq 'nested' && ($curve eq 'p384' || $curve eq 'p521');
                $n++;
                # Every other token of a type names its key; the others leave the choice to the key type.
                my %headers = ($pair + ($type eq 'nested')) % 2 ? (kid => $kid) : ();
                # Party info on some ECDH-ES tokens, to test the Concat KDF's inputs.
                if ($alg =~ /^ECDH-ES/ && $n % 3 == 0) {
                    $headers{apu} = encode_b64u('Alice');
                    $headers{apv} = encode_b64u("Bob $n");
                }
                my $claims = claims($type, $alg, $enc);
                my $payload = $claims;
                my $signer = '';
                if ($type eq 'nested') {
                    $signer = $n % 4 < 2 ? 'sig-rsa' : 'sig-p256';
                    $payload = encode_jwt(payload => $claims, alg => $sig_key{$signer}{alg},
                                          key => $sig_key{$signer}, extra_headers => { kid => $signer });
                    $headers{cty} = 'JWT';
                }
                my $token = encode_jwt(payload => $payload, alg => $alg, enc => $enc, key => $key,
                                       extra_headers => \%headers);
                push @tokens, { type => $type, alg => $alg, enc => $enc, curve => $curve,
                                kid => exists $headers{kid} ? JSON::PP::true : JSON::PP::false,
                                signer => $signer, claims => $claims, token => $token };
            }
        }
    }
}

write_json('jwe-tokens.json', { generator => "Crypt::JWT $Crypt::JWT::VERSION (CryptX $CryptX::VERSION)",
                                tokens => \@tokens });
printf "%d tokens\n", scalar @tokens;
