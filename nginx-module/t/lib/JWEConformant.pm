package JWEConformant;

# Crypt::JWT 0.034's ECDH-ES departs from RFC 7518 section 4.6 (its own
# decoder agrees with it, so it round-trips): it writes "epk" as a JSON string
# holding the key rather than an object, feeds "apu"/"apv" to the Concat KDF
# still base64url-encoded, repeats the KDF counter 1 past the first 32 bytes,
# and has no X25519 for direct ECDH-ES. Loading this module replaces its two
# ECDH key-wrap functions with RFC-conformant ones built from CryptX's
# primitives (key agreement, SHA-256, AES key wrap), so that tokens minted
# with encode_jwt are what any conformant implementation would send.

use strict;
use warnings;

use Crypt::JWT ();
use Crypt::KeyWrap qw(aes_key_wrap);
use Crypt::Misc qw(decode_b64u);
use Crypt::Digest::SHA256 qw(sha256);
use Crypt::PK::ECC;
use Crypt::PK::X25519;

# RFC 7518 section 4.6.2: Concat KDF with SHA-256; apu and apv are the
# base64url-decoded header values; the counter counts.
sub concat_kdf {
    my ($z, $bytes, $algorithm_id, $apu, $apv) = @_;
    $apu = defined $apu ? decode_b64u($apu) : '';
    $apv = defined $apv ? decode_b64u($apv) : '';
    my $other = pack('N', length $algorithm_id) . $algorithm_id
              . pack('N', length $apu) . $apu
              . pack('N', length $apv) . $apv
              . pack('N', 8 * $bytes);
    my $out = '';
    for (my $counter = 1; length($out) < $bytes; $counter++) {
        $out .= sha256(pack('N', $counter) . $z . $other);
    }
    return substr($out, 0, $bytes);
}

sub ephemeral_for {
    my ($recipient) = @_;
    return ref($recipient) eq 'Crypt::PK::X25519'
        ? Crypt::PK::X25519->new->generate_key
        : Crypt::PK::ECC->new->generate_key($recipient->curve2hash);
}

{
    no warnings 'redefine';

    # ECDH-ES: the derived key is the CEK; AlgorithmID is the enc.
    *Crypt::JWT::ecdh_key_wrap = sub {
        my ($recipient, $enc, $apu, $apv) = @_;
        my $bits = $enc =~ /^A(128|192|256)CBC-HS/ ? 2 * $1
                 : $enc =~ /^A(128|192|256)GCM$/   ? $1
                 : die "unknown enc $enc";
        my $ephemeral = ephemeral_for($recipient);
        my $z = $ephemeral->shared_secret($recipient);
        return (concat_kdf($z, $bits / 8, $enc, $apu, $apv),
                $ephemeral->export_key_jwk('public', 1));
    };

    # ECDH-ES+A*KW: the derived key wraps the CEK; AlgorithmID is the alg.
    *Crypt::JWT::ecdhaes_key_wrap = sub {
        my ($recipient, $cek, $alg, $apu, $apv) = @_;
        $alg =~ /^ECDH-ES\+A(128|192|256)KW$/ or die "unknown alg $alg";
        my $ephemeral = ephemeral_for($recipient);
        my $z = $ephemeral->shared_secret($recipient);
        my $kek = concat_kdf($z, $1 / 8, $alg, $apu, $apv);
        return (aes_key_wrap($kek, $cek), $ephemeral->export_key_jwk('public', 1));
    };
}

1;
