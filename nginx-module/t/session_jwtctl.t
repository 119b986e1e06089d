#!/usr/bin/perl

# jwtctl session create / show / delete and jwtctl revoke / unrevoke
# against Cache::Memcached::Fast (an independent client) and memcached's own
# view (mg: value, TTL), and
# against nginx: a session jwtctl creates is accepted, one it deletes is
# LOGGED_OUT, and with two servers jwtctl puts each key on the server the
# module reads it from (libmemcached's consistent hashing, which the module
# computes identically).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use AuthJWTTest;
use SessionTest;

require_jwtctl();
my $JSON = JSON::PP->new;
start_memcached('a');
start_memcached('b');
my $A = '127.0.0.1:' . memcached_port('a');
my $B = '127.0.0.1:' . memcached_port('b');

sub session_cmd {
    my (@args) = @_;
    return jwtctl([ 'session', @args ]);
}

sub decoded {
    my ($text) = @_;
    return eval { $JSON->decode($text) } // {};
}

# create with every option, --ttl
my $t0 = now();
my ($rc, $out, $err) = session_cmd('create', '--server', $A, '--key', 'k1',
    '--fingerprint', 'c0ffee', '--idle-timeout', '600', '--ttl', '300');
is($rc, 0, 'create --ttl: exit 0') or diag($err);
my $m = mc_meta('a', 'k1');
ok($m, 'create: the record is in memcached');
my $rec = decoded(mc_get('a', 'k1') // '');
is($rec->{fingerprint}, 'c0ffee', 'create: fingerprint');
is($rec->{session_idle_timeout}, 600, 'create: session_idle_timeout');
ok(($rec->{last_access_time} // 0) >= $t0 && $rec->{last_access_time} <= now(),
    'create: last_access_time is now');
ok(($rec->{expires_at} // 0) >= $t0 + 300 && $rec->{expires_at} <= now() + 300,
    'create --ttl 300: expires_at now + 300') or diag($m && $m->{value});
ok($m && $m->{ttl} > 290 && $m->{ttl} <= 301, 'create --ttl 300: memcached expiry')
    or diag('ttl ' . ($m && $m->{ttl}));
is($m && $m->{flags}, 0, 'create: flags 0 (a plain string to other clients)');
like($m && $m->{value}, qr/"last_access_time"\s*:\s*\d+[,}\s]/,
    'create: last_access_time an integer');

# --expires-at
my $at = now() + 1000;
($rc, $out, $err) = session_cmd('create', '--server', $A, '--key', 'k2',
    '--expires-at', $at);
is($rc, 0, 'create --expires-at: exit 0') or diag($err);
$rec = decoded(mc_get('a', 'k2') // '');
is($rec->{expires_at}, $at, 'create --expires-at: expires_at');
$m = mc_meta('a', 'k2');
ok($m && $m->{ttl} > 990 && $m->{ttl} <= 1001, 'create --expires-at: memcached expiry')
    or diag('ttl ' . ($m && $m->{ttl}));
ok(!exists $rec->{fingerprint}, 'create without --fingerprint: no fingerprint');
like($m && $m->{value}, qr/"session_idle_timeout"\s*:\s*-?\d+[,}\s]/,
    'create without --idle-timeout: an integer session_idle_timeout');

# Neither --ttl nor --expires-at: whatever the default, the record's
# expires_at and the entry's memcached expiry agree.
($rc, $out, $err) = session_cmd('create', '--server', $A, '--key', 'k3');
is($rc, 0, 'create without --ttl/--expires-at: exit 0') or diag($err);
$rec = decoded(mc_get('a', 'k3') // '');
$m = mc_meta('a', 'k3');
if (exists $rec->{expires_at}) {
    my $want = $rec->{expires_at} - now();
    ok($m && abs($m->{ttl} - $want) <= 2,
        'create without --ttl/--expires-at: memcached expiry = expires_at')
        or diag("ttl $m->{ttl}, expires_at in $want s");
} else {
    is($m && $m->{ttl}, -1, 'create without expiry: none in memcached');
}
is($out =~ /\S/ ? decoded($out)->{last_access_time} : $rec->{last_access_time},
    $rec->{last_access_time}, 'create: what it prints is what it wrote');

# refusals
($rc) = session_cmd('create', '--server', $A, '--key', 'k4', '--ttl', '10',
    '--expires-at', now() + 10);
isnt($rc, 0, 'create --ttl with --expires-at: refused');
ok(!defined mc_meta('a', 'k4'), 'create refused: nothing written');
($rc) = session_cmd('create', '--server', $A);
isnt($rc, 0, 'create without --key: refused');
($rc) = session_cmd('create', '--server', $A, '--key', 'a b');
isnt($rc, 0, 'create with a space in the key: refused');
($rc) = session_cmd('create', '--server', $A, '--key', 'k' x 251);
isnt($rc, 0, 'create with a 251-byte key: refused');
($rc, $out, $err) = session_cmd('create', '--server', '127.0.0.1:' . port('nothing'),
    '--key', 'k5');
isnt($rc, 0, 'create with memcached down: fails');
isnt($err, '', 'create with memcached down: says why');

# show
my $foreign = record(fingerprint => 'ff', last_access_time => 1800000000,
    session_idle_timeout => 30, user => 'alice', roles => \'["a","b"]');
mc_set('a', 'k6', $foreign);
($rc, $out, $err) = session_cmd('show', '--server', $A, '--key', 'k6');
is($rc, 0, 'show: exit 0') or diag($err);
is_deeply(decoded($out), decoded($foreign), 'show: prints the record (written by another client)')
    or diag($out);
($rc, $out) = session_cmd('show', '--server', $A, '--key', 'k1');
is_deeply(decoded($out), decoded(mc_get('a', 'k1')), 'show: a record jwtctl created');
($rc, $out) = session_cmd('show', '--server', $A, '--key', 'absent');
is($rc, 1, 'show absent: exit 1');

# check: the module's decision from the command line
mc_set('a', 'k7', record(fingerprint => 'fp7', last_access_time => now(),
    session_idle_timeout => -1));
($rc, $out, $err) = session_cmd('check', '--server', $A, '--key', 'k7',
    '--fingerprint', 'fp7');
is($rc, 0, 'check: a live session') or diag($err);
($rc, $out, $err) = session_cmd('check', '--server', $A, '--key', 'k7',
    '--fingerprint', 'other');
is($rc, 1, 'check: another fingerprint, exit 1');
like($err, qr/FINGERPRINT_MISMATCH/, 'check: names FINGERPRINT_MISMATCH');
($rc, $out, $err) = session_cmd('check', '--server', $A, '--key', 'absent');
is($rc, 1, 'check: no record, exit 1');
like($err, qr/LOGGED_OUT/, 'check: names LOGGED_OUT');

# delete
($rc, $out, $err) = session_cmd('delete', '--server', $A, '--key', 'k6');
is($rc, 0, 'delete: exit 0') or diag($err);
ok(!defined mc_get('a', 'k6'), 'delete: gone for other clients');
($rc) = session_cmd('delete', '--server', $A, '--key', 'k6');
is($rc, 1, 'delete absent: exit 1');
($rc) = session_cmd('show', '--server', $A, '--key', 'k6');
is($rc, 1, 'show after delete: exit 1');

# Two servers: each key on exactly one of them, both used, show and delete
# find it.
my @keys = map { "dist-$_" } 1 .. 30;
my @fail = grep { (session_cmd('create', '--server', $A, '--server', $B,
    '--key', $_, '--idle-timeout=-1'))[0] != 0 } @keys;
is(scalar @fail, 0, 'two servers: create') or diag("@fail");
my @on_a = grep { defined mc_meta('a', $_) } @keys;
my @on_b = grep { defined mc_meta('b', $_) } @keys;
is(@on_a + @on_b, scalar @keys, 'two servers: each key on exactly one server');
cmp_ok(scalar @on_a, '>=', 3, 'two servers: some keys on a (' . @on_a . ')');
cmp_ok(scalar @on_b, '>=', 3, 'two servers: some keys on b (' . @on_b . ')');
@fail = grep { (session_cmd('show', '--server', $A, '--server', $B,
    '--key', $_))[0] != 0 } @keys[0 .. 9];
is(scalar @fail, 0, 'two servers: show finds them') or diag("@fail");

# revoke / unrevoke: a revocation record ({"revoked_at":...}) under the
# key, expiring with the tokens it revokes, as auth_jwt_revocation reads it.
sub revocation_cmd {
    my (@args) = @_;
    return jwtctl([ @args ]);
}

my $until = now() + 600;
($rc, $out, $err) = revocation_cmd('revoke', 'revoked:jti:j1', '--server', $A,
    '--until', $until);
is($rc, 0, 'revoke --until: exit 0') or diag($err);
$m = mc_meta('a', 'revoked:jti:j1');
ok($m, 'revoke: the record is in memcached');
ok($m && $m->{ttl} > 590 && $m->{ttl} <= 601, 'revoke --until: memcached expiry')
    or diag('ttl ' . ($m && $m->{ttl}));
my $revoked_at = decoded($m ? $m->{value} : '')->{revoked_at} // 0;
ok($revoked_at >= $until - 600 - 2 && $revoked_at <= now(),
    'revoke: the record says when') or diag($m && $m->{value});
like($out, qr/until $until/, 'revoke: says until when');

($rc, $out, $err) = revocation_cmd('revoke', 'revoked:sub:bob', '--server', $A,
    '--ttl', '120');
is($rc, 0, 'revoke --ttl: exit 0') or diag($err);
$m = mc_meta('a', 'revoked:sub:bob');
ok($m && $m->{ttl} > 110 && $m->{ttl} <= 121, 'revoke --ttl 120: memcached expiry')
    or diag('ttl ' . ($m && $m->{ttl}));

my $token = mint(claims => { sub => 'carol', jti => 'j2', exp => now() + 300 });
($rc, $out, $err) = revocation_cmd('revoke', 'revoked:jti:j2', '--server', $A,
    '--token', $token);
is($rc, 0, 'revoke --token: exit 0') or diag($err);
$m = mc_meta('a', 'revoked:jti:j2');
ok($m && $m->{ttl} > 290 && $m->{ttl} <= 301, 'revoke --token: expires at the token\'s exp')
    or diag('ttl ' . ($m && $m->{ttl}));

($rc, $out, $err) = revocation_cmd('revoke', 'revoked:jti:j3', '--server', $A,
    '--forever');
is($rc, 0, 'revoke --forever: exit 0') or diag($err);
$m = mc_meta('a', 'revoked:jti:j3');
is($m && $m->{ttl}, -1, 'revoke --forever: no memcached expiry');

# refusals: nothing written
for my $case (
    [ 'an until already past', '--until', now() - 5 ],
    [ 'a token already expired', '--token',
        mint(claims => { sub => 'x', exp => now() - 5 }) ],
    [ 'a token without exp', '--token', mint(claims => { sub => 'x' }) ],
    [ 'no lifetime' ],
    [ 'two lifetimes', '--ttl', '10', '--forever' ],
    [ 'a zero ttl', '--ttl', '0' ],
    [ 'not a token', '--token', 'abc' ],
) {
    my ($what, @opts) = @$case;
    ($rc, $out, $err) = revocation_cmd('revoke', 'revoked:refused', '--server', $A,
        @opts);
    is($rc, 2, "revoke with $what: exit 2");
    isnt($err, '', "revoke with $what: says why");
    ok(!defined mc_meta('a', 'revoked:refused'), "revoke with $what: nothing written");
}
like((revocation_cmd('revoke', 'revoked:refused', '--server', $A,
    '--until', now() - 5))[2], qr/not after now/, 'revoke in the past: says so');
($rc) = revocation_cmd('revoke', 'revoked a', '--server', $A, '--ttl', '10');
is($rc, 2, 'revoke with a space in the key: exit 2');

($rc, $out, $err) = revocation_cmd('unrevoke', 'revoked:jti:j1', '--server', $A);
is($rc, 0, 'unrevoke: exit 0') or diag($err);
like($out, qr/^unrevoked/, 'unrevoke: says it deleted the record');
ok(!defined mc_meta('a', 'revoked:jti:j1'), 'unrevoke: the record is gone');
($rc, $out, $err) = revocation_cmd('unrevoke', 'revoked:jti:j1', '--server', $A);
is($rc, 0, 'unrevoke absent: exit 0') or diag($err);
like($out, qr/^not revoked/, 'unrevoke absent: says there was none');

# Two servers: the record is where the module looks for it (one server).
my @revoked = map { "revoked:jti:dist-$_" } 1 .. 20;
@fail = grep { (revocation_cmd('revoke', $_, '--server', $A, '--server', $B,
    '--ttl', '60'))[0] != 0 } @revoked;
is(scalar @fail, 0, 'two servers: revoke') or diag("@fail");
my @revoked_on_a = grep { defined mc_meta('a', $_) } @revoked;
my @revoked_on_b = grep { defined mc_meta('b', $_) } @revoked;
is(@revoked_on_a + @revoked_on_b, scalar @revoked,
    'two servers: each revocation on exactly one server');
cmp_ok(scalar @revoked_on_b, '>=', 2, 'two servers: some revocations on b');

# nginx finds what jwtctl wrote, on both servers.
SKIP: {
    skip 'module not built', 6 unless -f module_path() || !$ENV{TEST_AUTH_JWT_SKIP_MISSING};
    write_jwks('jwks.json', qw(hmac));
    start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% 127.0.0.1:%%PORT_mc_b%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId fingerprint=$http_finger_print;
        location / { empty_gif; }
    }
EOF
    my @lost = grep { http_get_token('/', session_token($_))->{status} != 200 } @keys;
    is(scalar @lost, 0, 'nginx finds every session jwtctl spread over two servers')
        or diag("not found: @lost");

    session_cmd('create', '--server', $A, '--server', $B, '--key', 'web-1',
        '--fingerprint', 'fp-web', '--idle-timeout', '60', '--ttl', '60');
    is_ok(http_get_token('/', session_token('web-1'), 'FINGER-PRINT' => 'fp-web'),
        'nginx: a session created by jwtctl');
    is_rejected(http_get_token('/', session_token('web-1'), 'FINGER-PRINT' => 'x'),
        401, 'FINGERPRINT_MISMATCH', 'nginx: jwtctl fingerprint checked');
    ($rc) = session_cmd('delete', '--server', $A, '--server', $B, '--key', 'web-1');
    is($rc, 0, 'jwtctl delete (two servers)');
    is_rejected(http_get_token('/', session_token('web-1'), 'FINGER-PRINT' => 'fp-web'),
        401, 'LOGGED_OUT', 'nginx: after jwtctl delete');
    no_log_alerts();
}

done_testing();
