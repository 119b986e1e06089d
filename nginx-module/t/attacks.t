#!/usr/bin/perl

# Hostile tokens: every one is refused with 401 INVALID_TOKEN, the request
# never reaches the content handler, and nothing crashes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac rsa p256 ed25519));

start_nginx(<<'EOF');
    large_client_header_buffers 4 160k;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /jwks    { empty_gif; }
        location /rsa-pem { auth_jwt_key_file %%KEY_rsa%%; empty_gif; }
        location /ec-pem  { auth_jwt_key_file %%KEY_p256%%; empty_gif; }
        location /ed-pem  { auth_jwt_key_file %%KEY_ed25519%%; empty_gif; }
    }
EOF

my $EXP = now() + 300;
my $PAYLOAD = qq({"sub":"mallory","exp":$EXP});

sub invalid {
    my ($token, $name, $path) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_rejected(http_get_token($path || '/jwks', $token), 401,
        'INVALID_TOKEN', $name);
}

sub segments { split /\./, $_[0], -1 }

# The baseline: the shapes below are refused for what they change, not
# because the fixtures are wrong.
is_ok(http_get_token('/jwks', sign_compact('{"alg":"HS256"}', $PAYLOAD)),
    'baseline: well-formed HS256 token');
is_ok(http_get_token('/rsa-pem', mint(alg => 'RS256', kid => undef)),
    'baseline: RS256 against the RSA PEM');

# alg none, in several spellings, with and without a signature.
for my $none (qw(none None NONE nOnE), 'none ') {
    my $unsigned = b64u(qq({"alg":"$none"})) . '.' . b64u($PAYLOAD);
    invalid("$unsigned.", qq(alg "$none" with an empty signature));
    invalid("$unsigned." . b64u('x' x 32), qq(alg "$none" with a signature));
}
invalid(b64u('{"typ":"JWT"}') . '.' . b64u($PAYLOAD) . '.',
    'header without alg');
invalid(sign_compact('{"alg":""}', $PAYLOAD), 'empty alg');
invalid(sign_compact('{"alg":"HS256","x":1}', $PAYLOAD) =~ s/^[^.]+/b64u('{"alg":"none"}')/er,
    'alg replaced by none after signing');

# RS256 -> HS256 confusion: the public key's bytes used as an HMAC secret.
for my $k (qw(rsa p256 ed25519)) {
    my $pem = slurp(key_file($k));
    my %secret = (
        'SPKI PEM' => $pem,
        'SPKI PEM without trailing newline' => $pem =~ s/\n\z//r,
        'SPKI DER' => key($k)->{pub_der},
        'JWK JSON' => json_encode(key($k)->{jwk}),
    );
    $secret{'PKCS#1 PEM'} = key($k)->{pk}->export_key_pem('public')
        if $k eq 'rsa';
    my $path = { rsa => '/rsa-pem', p256 => '/ec-pem', ed25519 => '/ed-pem' }->{$k};
    for my $what (sort keys %secret) {
        for my $alg (qw(HS256 HS512)) {
            invalid(sign_compact(qq({"alg":"$alg"}), $PAYLOAD, alg => $alg,
                secret => $secret{$what}),
                "$alg signed with the $k public key ($what) as secret", $path);
        }
    }
}
invalid(sign_compact(qq({"alg":"HS256","kid":"rsa"}), $PAYLOAD,
        secret => key('rsa')->{pub_der}),
    'HS256 naming the RSA kid, signed with its DER');

# ECDSA signatures with r = s = 0 and r = s = n (CVE-2022-21449).
my $n256 = pack 'H*',
    'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551';
my $es_input = b64u('{"alg":"ES256"}') . '.' . b64u($PAYLOAD);
invalid("$es_input." . b64u("\0" x 64), 'ES256 with r = s = 0', '/ec-pem');
invalid("$es_input." . b64u($n256 x 2), 'ES256 with r = s = n', '/ec-pem');
invalid("$es_input." . b64u(("\0" x 31 . "\1") x 2), 'ES256 with r = s = 1',
    '/ec-pem');
my ($eh, $ep, $es) = segments(sign_compact('{"alg":"ES256"}', $PAYLOAD,
    alg => 'ES256'));
invalid("$eh.$ep." . b64u(substr(b64u_decode($es), 0, 63)),
    'ES256 signature one byte short', '/ec-pem');
invalid("$eh.$ep." . b64u(b64u_decode($es) . "\0"),
    'ES256 signature one byte long', '/ec-pem');
my $der_sig = key('p256')->{pk}->sign_message("$eh.$ep", 'SHA256');
invalid("$eh.$ep." . b64u($der_sig), 'ES256 with a DER (not JOSE) signature',
    '/ec-pem');
invalid("$eh.$ep." . b64u("\0" x 64), 'Ed25519-sized zero signature', '/ed-pem');

# Stripped and altered signatures, altered contents.
my $good = sign_compact('{"alg":"HS256"}', $PAYLOAD);
my ($h, $p, $s) = segments($good);
invalid("$h.$p.", 'signature stripped (trailing dot)');
invalid("$h.$p", 'signature stripped (two segments)');
invalid("$h.$p.$s.", 'trailing dot after the signature');
invalid(".$p.$s", 'empty header');
invalid("$h..$s", 'empty payload');
invalid("$h.$p." . flip($s), 'one signature character changed');
invalid("$h.$p." . substr($s, 0, -2), 'signature truncated');
invalid("$h." . b64u(qq({"sub":"admin","exp":$EXP})) . ".$s",
    'payload changed under the original signature');
invalid("$h.$p." . b64u('0' x 32), 'signature replaced by zeros');
invalid(sign_compact('{"alg":"HS256"}', $PAYLOAD, secret => 'k' x 64),
    'HS256 signed with another secret');

# Base64url: the standard alphabet, padding, whitespace, other bytes. The
# header and payload variants are signed over their exact (malformed) text,
# so only strict base64url decoding can refuse them.
my $tok = find_token(sub { (segments($_[0]))[2] =~ /[-_]/ });
my ($th, $tp, $ts) = segments($tok);
invalid("$th.$tp." . ($ts =~ tr{-_}{+/}r), 'signature in standard base64 (+ /)');
invalid("$th.$tp.$ts=", 'signature with = padding');
invalid("$th.$tp.$ts==", 'signature with == padding');
invalid("$th.$tp." . substr($ts, 0, 10) . '%' . substr($ts, 11),
    'signature with a character outside the alphabet');
invalid("$th.$tp." . substr($ts, 0, -1) . canonical_sibling(substr $ts, -1),
    'signature with a non-canonical last character (unused bits set)');

my $std = find_token(sub { (segments($_[0]))[1] =~ /[-_]/ });
my ($sh, $sp) = segments($std);
invalid(sign_input("$sh." . ($sp =~ tr{-_}{+/}r)),
    'payload in standard base64 (+ /), signed as sent');
my $padded = find_token(sub { length((segments($_[0]))[1]) % 4 });
my ($ph, $pp) = segments($padded);
invalid(sign_input("$ph.$pp" . '=' x (4 - length($pp) % 4)),
    'payload with = padding, signed as sent');
invalid(sign_input("$ph" . '=' x (4 - length($ph) % 4) . ".$pp"),
    'header with = padding, signed as sent')
    if length($ph) % 4;
invalid(sign_input("$ph." . substr($pp, 0, 8) . ' ' . substr($pp, 8)),
    'payload with a space inside, signed as sent');
invalid(sign_input("$ph." . substr($pp, 0, 8) . "\t" . substr($pp, 8)),
    'payload with a tab inside, signed as sent');
invalid("$th.$tp." . substr($ts, 0, 20) . ' ' . substr($ts, 20),
    'space inside the signature');
invalid("$th. $tp.$ts", 'space after a dot');

# JSON: duplicate members, wrong shapes, unknown crit.
for my $case (
    [ '{"alg":"HS256","alg":"HS256"}', $PAYLOAD, 'duplicate alg in header' ],
    [ '{"alg":"HS256","kid":"hmac","kid":"rsa"}', $PAYLOAD,
        'duplicate kid in header' ],
    [ '{"alg":"HS256"}', qq({"sub":"alice","sub":"admin","exp":$EXP}),
        'duplicate sub in payload' ],
    [ '{"alg":"HS256"}', qq({"exp":$EXP,"exp":9999999999}),
        'duplicate exp in payload' ],
    [ '{"alg":"HS256","crit":["x-unknown"],"x-unknown":1}', $PAYLOAD,
        'unknown crit extension' ],
    [ '{"alg":"HS256","crit":[]}', $PAYLOAD, 'empty crit list' ],
    [ '{"alg":"HS256","crit":"exp"}', $PAYLOAD, 'crit not an array' ],
    [ '["HS256"]', $PAYLOAD, 'header is an array' ],
    [ '{"alg":"hs256"}', $PAYLOAD, 'alg in lower case' ],
    [ '{"alg":"HS256 "}', $PAYLOAD, 'alg with a trailing space' ],
    [ '{"alg":["HS256"]}', $PAYLOAD, 'alg not a string' ],
    [ '{"alg":"HS256\u0000"}', $PAYLOAD, 'alg with an escaped NUL' ],
    [ '{"alg":"HS256"}', '"alice"', 'payload is a string' ],
    [ '{"alg":"HS256"}', '[]', 'payload is an array' ],
    [ '{"alg":"HS256"}', qq({"sub":"alice","exp":$EXP}x), 'payload with trailing bytes' ],
    [ '{"alg":"HS256"}', qq({"sub":"alice","exp":$EXP), 'payload truncated' ],
    [ '{"alg":"HS256"}', qq({"sub":"al\x{ff}ice","exp":$EXP}),
        'payload with invalid UTF-8' ],
    [ '{"alg":"HS256"}', qq({"sub":"alice","exp":$EXP,"d":) . ('[' x 40)
        . (']' x 40) . '}', 'payload nested 40 deep' ],
    [ '{"alg":"HS256",}', $PAYLOAD, 'header with a trailing comma' ],
    [ "{'alg':'HS256'}", $PAYLOAD, 'header with single quotes' ],
    [ '{"alg":"HS256"}', '', 'empty payload' ],
    [ '{"alg":"HS256","b64":false,"crit":["b64"]}', $PAYLOAD,
        'unencoded payload option (RFC 7797)' ],
) {
    my ($header, $payload, $name) = @$case;
    invalid(sign_compact($header, $payload), $name);
}

# A token carrying its own key, or pointing at one, is not trusted.
my $attacker = key('rsa2');
invalid(mint(alg => 'RS256', key => 'rsa2', kid => undef,
        header => { jwk => $attacker->{jwk} }),
    'embedded jwk header with the signing key');
invalid(mint(alg => 'RS256', key => 'rsa2', kid => undef,
        header => { jku => 'http://127.0.0.1:1/jwks.json' }),
    'jku header');
invalid(mint(alg => 'RS256', key => 'rsa2', kid => 'rsa',
        header => { x5u => 'http://127.0.0.1:1/cert.pem' }),
    'x5u header with a configured kid');

# JWE (five segments) and other segment counts.
my $jwe_header = b64u('{"alg":"RSA-OAEP","enc":"A256GCM"}');
invalid(join('.', $jwe_header, b64u('k' x 256), b64u('i' x 12),
        b64u('c' x 40), b64u('t' x 16)), 'JWE-shaped five-segment token');
invalid("$h.$p.$s.$s.$s", 'JWS with two extra segments');
invalid("$h", 'one segment');
invalid('...', 'dots only');
invalid('Bearer', 'the word Bearer as a token');

# Size: above the documented 64 KiB bound, refused; ~15 KiB, accepted.
my $big = mint(claims => { sub => 'alice', exp => $EXP, pad => 'x' x 50_000 });
cmp_ok(length $big, '>', 65536, 'oversized token is above 64 KiB');
invalid($big, 'token above 64 KiB');
is_ok(http_get_token('/jwks', token_of_length(65536)),
    'token of exactly 64 KiB (AJWT_MAX_TOKEN_LEN) accepted');
invalid(token_of_length(65537), 'token of 64 KiB + 1 byte');
my $large = mint(claims => { sub => 'alice', exp => $EXP, pad => 'y' x 11_000 });
cmp_ok(length $large, '>', 14_500, 'large token is about 15 KiB');
is_ok(http_get_token('/jwks', $large),
    '15 KiB token accepted with large_client_header_buffers raised');

# Hostile request headers around the token.
is_rejected(http_get('/jwks', Authorization => 'Bearer'), 401, 'TOKEN_MISSING',
    'Bearer scheme with no token');
invalid("$good\x01", 'control character after the token');
is_ok(http_get_token('/jwks', $good), 'the valid token still works afterwards');

no_log_alerts();

done_testing();

# A signed HS256 token for which $want->($token) holds (varying a nonce).
sub find_token {
    my ($want) = @_;
    for my $i (1 .. 1000) {
        my $t = sign_compact('{"alg":"HS256"}',
            qq({"sub":"alice","exp":$EXP,"n":"@{[ '?' x ($i % 7) ]}$i"}));
        return $t if $want->($t);
    }
    die 'no token with the wanted shape';
}

# The first character of a base64url string changed to another.
sub flip {
    my ($s) = @_;
    my $c = substr $s, 0, 1;
    return ($c eq 'A' ? 'B' : 'A') . substr $s, 1;
}

# For the last character of a 43-character (32-byte) base64url string, only
# 4 of its 6 bits carry data: the character with the unused low bits set
# decodes to the same bytes.
sub canonical_sibling {
    my ($c) = @_;
    my $alpha = join '', 'A' .. 'Z', 'a' .. 'z', 0 .. 9, '-', '_';
    my $i = index $alpha, $c;
    return substr $alpha, $i | 3, 1;
}
