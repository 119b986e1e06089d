#!/usr/bin/perl

# jwtctl against Crypt::JWT, an independent implementation: tokens jwtctl
# signs verify with Crypt::JWT, tokens Crypt::JWT signs verify with jwtctl,
# JWKS from jwtctl match the keys; verify's exit statuses and boundaries.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use Test::More;
use AuthJWTTest;

require_jwtctl();

my $JSON = JSON::PP->new->canonical;
my %KEY_OF = (RS => 'rsa', PS => 'rsa', ES256 => 'p256', ES384 => 'p384',
    ES512 => 'p521', EdDSA => 'ed25519');
my @ASYM = qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA);
my $SECRET = 'jwtctl-test-secret-' . ('s' x 30);

sub key_for { $KEY_OF{ $_[0] } || $KEY_OF{ substr $_[0], 0, 2 } }

sub verify_with_crypt_jwt {
    my ($token, $name) = @_;
    my $k = key($name);
    my $key = $k->{kty} eq 'oct' ? $k->{secret}
        : ref($k->{pk})->new(\$k->{pk}->export_key_pem('public'));
    return eval { [ decode_jwt(token => $token, key => $key, decode_header => 1,
        verify_exp => 0) ] } || [ undef, undef, $@ ];
}

# A private JWK file for a key.
sub private_jwk_file {
    my ($name, %extra) = @_;
    my $k = key($name);
    my $jwk = $k->{kty} eq 'oct' ? { %{ $k->{jwk} } }
        : $k->{pk}->export_key_jwk('private', 1);
    return write_file("$name.private.jwk", json_encode({ %$jwk, %extra }));
}

my $claims = { sub => 'alice', n => 7, exp => now() + 300 };
my $claims_json = json_encode($claims);

# sign: every algorithm, from a private JWK and from PKCS#8 PEM.
for my $alg (@ASYM) {
    my $name = key_for($alg);
    for my $source ([ 'JWK', private_jwk_file($name) ],
                    [ 'PKCS#8 PEM', key_file($name, 'priv') ]) {
        my ($rc, $out, $err) = jwtctl([ 'sign', '--key', $source->[1],
            '--alg', $alg, '--kid', "k-$name", $claims_json ]);
        chomp $out;
        is($rc, 0, "sign $alg from $source->[0]: exit 0") or diag($err);
        my ($header, $payload, $error) = @{ verify_with_crypt_jwt($out, $name) };
        is_deeply($payload, $claims, "sign $alg from $source->[0]: Crypt::JWT verifies")
            or diag($error);
        is($header && $header->{alg}, $alg, "sign $alg: header alg");
        is($header && $header->{kid}, "k-$name", "sign $alg: header kid");
    }
}

for my $alg (qw(HS256 HS384 HS512)) {
    my ($rc, $out) = jwtctl([ 'sign', '--secret', $SECRET, '--alg', $alg, $claims_json ]);
    chomp $out;
    is($rc, 0, "sign $alg with --secret: exit 0");
    my ($h, $p) = eval { decode_jwt(token => $out, key => $SECRET, decode_header => 1) };
    is_deeply($p, $claims, "sign $alg with --secret: Crypt::JWT verifies");
}

# Default algorithms from the key.
for my $case ([ 'rsa', 'RS256' ], [ 'p256', 'ES256' ], [ 'p384', 'ES384' ],
              [ 'p521', 'ES512' ], [ 'ed25519', 'EdDSA' ], [ 'hmac', 'HS256' ]) {
    my ($name, $alg) = @$case;
    my ($rc, $out) = jwtctl([ 'sign', '--key', private_jwk_file($name), $claims_json ]);
    my ($header) = @{ verify_with_crypt_jwt($out =~ s/\s+//gr, $name) };
    is($header && $header->{alg}, $alg, "default alg for $name is $alg");
}
my ($rc, $out, $err) = jwtctl([ 'sign', '--key',
    private_jwk_file('rsa', alg => 'PS384', kid => 'pinned'), $claims_json ]);
my ($header) = @{ verify_with_crypt_jwt($out =~ s/\s+//gr, 'rsa') };
is($header && $header->{alg}, 'PS384', "a JWK's alg is the default");
is($header && $header->{kid}, 'pinned', "a JWK's kid is the default kid");

# Traditional PEM formats.
my $trad_rsa = testdir() . '/rsa.pkcs1.pem';
my $trad_ec = testdir() . '/p384.sec1.pem';
system("openssl rsa -traditional -in @{[ key_file('rsa', 'priv') ]} -out $trad_rsa 2>/dev/null") == 0
    or die 'openssl rsa -traditional failed';
system("openssl ec -in @{[ key_file('p384', 'priv') ]} -out $trad_ec 2>/dev/null") == 0
    or die 'openssl ec failed';
like(slurp($trad_rsa), qr/BEGIN RSA PRIVATE KEY/, 'fixture: PKCS#1 PEM');
like(slurp($trad_ec), qr/BEGIN EC PRIVATE KEY/, 'fixture: SEC1 PEM');
for my $case ([ $trad_rsa, 'rsa', 'PS256', 'RSA PRIVATE KEY' ],
              [ $trad_ec, 'p384', 'ES384', 'EC PRIVATE KEY' ]) {
    my ($file, $name, $alg, $what) = @$case;
    ($rc, $out, $err) = jwtctl([ 'sign', '--key', $file, '--alg', $alg, $claims_json ]);
    is($rc, 0, "sign from $what: exit 0") or diag($err);
    is_deeply(verify_with_crypt_jwt($out =~ s/\s+//gr, $name)->[1], $claims,
        "sign $alg from $what: Crypt::JWT verifies");
}

# Claims from standard input, extra header members.
($rc, $out) = jwtctl([ 'sign', '--secret', $SECRET,
    '--header', '{"typ":"at+jwt","cty":"x"}', '-' ], $claims_json);
my ($h2, $p2) = eval { decode_jwt(token => $out =~ s/\s+//gr, key => $SECRET, decode_header => 1) };
is_deeply($p2, $claims, 'claims read from standard input');
is($h2 && $h2->{typ}, 'at+jwt', '--header typ');
is($h2 && $h2->{cty}, 'x', '--header cty');

# sign refuses what it cannot sign (exit 2).
for my $case (
    [ [ '--secret', 'short', $claims_json ], qr/32/, 'a secret under 32 bytes' ],
    [ [ '--secret', $SECRET, '[1,2]' ], qr/object/, 'claims that are not an object' ],
    [ [ '--secret', $SECRET, '{"a":' ], qr/object/, 'claims that are not JSON' ],
    [ [ '--key', key_file('p256', 'priv'), '--alg', 'ES384', $claims_json ],
        qr/ES384/, 'ES384 with a P-256 key' ],
    [ [ '--key', key_file('rsa', 'priv'), '--alg', 'HS256', $claims_json ],
        qr/HS256/, 'HS256 with an RSA key' ],
    [ [ '--key', key_file('rsa'), $claims_json ], qr/private/i, 'a public key' ],
    [ [ '--key', testdir() . '/missing.pem', $claims_json ], qr/missing\.pem/,
        'a missing key file' ],
    [ [ '--key', key_file('rsa', 'priv'), '--secret', $SECRET, $claims_json ],
        qr/--key|--secret/, 'both --key and --secret' ],
    [ [ '--secret', $SECRET, '--alg', 'none', $claims_json ], qr/none/, 'alg none' ],
) {
    my ($args, $re, $name) = @$case;
    my ($code, undef, $stderr) = jwtctl([ 'sign', @$args ]);
    is($code, 2, "sign refuses $name: exit 2");
    like($stderr, $re, "sign refuses $name: says why");
}

# verify: tokens from Crypt::JWT, through the module's C entry points.
my $jwks = write_jwks('jwks.json', qw(hmac rsa p256 p384 p521 ed25519));
for my $alg (qw(HS256 HS512), @ASYM) {
    my ($code, $stdout, $stderr) = jwtctl([ 'verify', '--key', $jwks,
        mint(alg => $alg, claims => $claims) ]);
    is($code, 0, "verify $alg: exit 0") or diag($stderr);
    is_deeply(eval { $JSON->decode($stdout) }, $claims, "verify $alg: prints the payload");
}
my ($code, $stdout, $stderr) = jwtctl([ 'verify', '--key', key_file('p256'),
    '--key', key_file('ed25519'), '-' ], mint(alg => 'EdDSA', kid => undef) . "\n");
is($code, 0, 'verify with two PEM --key files, token from standard input') or diag($stderr);

sub verify_status {
    my ($token, @opts) = @_;
    my ($c, $o, $e) = jwtctl([ 'verify', '--key', $jwks, @opts, $token ]);
    chomp $e;
    return ($c, $e);
}

sub rejects {
    my ($token, $opts, $status, $name) = @_;
    my ($c, $e) = verify_status($token, @$opts);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($c, 1, "$name: exit 1");
    like($e, qr/^\Q$status\E: \S/, "$name: \"$status: <reason>\" on stderr");
}

sub accepts {
    my ($token, $opts, $name) = @_;
    my ($c, $e) = verify_status($token, @$opts);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($c, 0, "$name: exit 0") or diag($e);
}

my $exp1000 = mint(claims => { sub => 'a', exp => 1000 });
accepts($exp1000, [ '--now', 999 ], 'exp 1000 at 999');
rejects($exp1000, [ '--now', 1000 ], 'TOKEN_EXPIRED', 'exp 1000 at 1000');
accepts($exp1000, [ '--now', 1009, '--leeway', 10 ], 'exp 1000 at 1009, leeway 10');
rejects($exp1000, [ '--now', 1010, '--leeway', 10 ], 'TOKEN_EXPIRED',
    'exp 1000 at 1010, leeway 10');
my $nbf1000 = mint(claims => { sub => 'a', nbf => 1000 });
rejects($nbf1000, [ '--now', 999 ], 'INVALID_TOKEN', 'nbf 1000 at 999');
accepts($nbf1000, [ '--now', 1000 ], 'nbf 1000 at 1000');
accepts($nbf1000, [ '--now', 990, '--leeway', 10 ], 'nbf 1000 at 990, leeway 10');
rejects($nbf1000, [ '--now', 989, '--leeway', 10 ], 'INVALID_TOKEN',
    'nbf 1000 at 989, leeway 10');
rejects(mint(claims => { sub => 'a', exp => '9999999999' }), [], 'INVALID_TOKEN',
    'exp as a string');
rejects(mint(alg => 'RS256', key => 'rsa2'), [], 'INVALID_TOKEN', 'unknown key');
rejects('a.b.c', [], 'INVALID_TOKEN', 'garbage');
rejects(b64u('{"alg":"none"}') . '.' . b64u('{"sub":"a"}') . '.', [], 'INVALID_TOKEN',
    'alg none');

# verify: usage and key-file errors exit 2 with the message.
write_file('short.json', '{"keys":[{"kty":"oct","k":"' . b64u('short') . '"}]}');
for my $case (
    [ [ mint() ], qr/--key/, 'no --key' ],
    [ [ '--key', testdir() . '/nope.json', mint() ], qr/nope\.json/, 'a missing key file' ],
    [ [ '--key', testdir() . '/short.json', mint() ], qr/short\.json/,
        'an HMAC key under 32 bytes' ],
    [ [ '--key', $jwks, '--leeway', 'soon', mint() ], qr/leeway/, 'a bad --leeway' ],
    [ [ '--key', $jwks, '--bogus', mint() ], qr/bogus/, 'an unknown option' ],
) {
    my ($args, $re, $name) = @$case;
    my ($c, undef, $e) = jwtctl([ 'verify', @$args ]);
    is($c, 2, "verify with $name: exit 2");
    like($e, $re, "verify with $name: says why");
}

# jwks: public parts only, usable by Crypt::JWT.
for my $name (qw(rsa p256 p384 p521 ed25519)) {
    for my $which (qw(priv pub)) {
        my ($c, $o, $e) = jwtctl([ 'jwks', '--pem', key_file($name, $which),
            '--kid', "j-$name" ]);
        is($c, 0, "jwks --pem $name ($which): exit 0") or diag($e);
        my $set = eval { $JSON->decode($o) } || {};
        my ($jwk) = @{ $set->{keys} || [] };
        is_deeply($jwk, jwk_public($name, kid => "j-$name"),
            "jwks --pem $name ($which): the public JWK, no private member");
        my $token = mint(alg => { rsa => 'RS256', p256 => 'ES256', p384 => 'ES384',
            p521 => 'ES512', ed25519 => 'EdDSA' }->{$name}, kid => "j-$name");
        my $p = eval { decode_jwt(token => $token, kid_keys => $o) };
        is_deeply($p && $p->{sub}, 'alice', "jwks --pem $name ($which): Crypt::JWT verifies with it");
    }
}
($code, $stdout) = jwtctl([ 'jwks', '--secret', $SECRET, '--kid', 's1', '--alg', 'HS384' ]);
is_deeply(eval { $JSON->decode($stdout) },
    { keys => [ { kty => 'oct', k => b64u($SECRET), kid => 's1', alg => 'HS384' } ] },
    'jwks --secret: oct key with kid and alg');
($code, undef, $stderr) = jwtctl([ 'jwks', '--pem', key_file('p256', 'priv'), '--alg', 'RS256' ]);
is($code, 2, 'jwks refuses an alg that does not fit the key');
($code, undef, $stderr) = jwtctl([ 'jwks', '--secret', 'short' ]);
is($code, 2, 'jwks refuses a short secret');

# Round trip: jwtctl jwks -> jwtctl sign -> jwtctl verify.
($code, $stdout) = jwtctl([ 'jwks', '--pem', key_file('p521', 'priv'), '--kid', 'rt' ]);
my $rt_jwks = write_file('rt.json', $stdout);
my (undef, $rt_token) = jwtctl([ 'sign', '--key', key_file('p521', 'priv'), '--kid', 'rt',
    $claims_json ]);
($code, $stdout, $stderr) = jwtctl([ 'verify', '--key', $rt_jwks, $rt_token =~ s/\s+//gr ]);
is($code, 0, 'round trip jwks -> sign -> verify') or diag($stderr);

done_testing();
