#!/usr/bin/perl

# The module's own memcached client (text protocol on nginx's event loop):
# every reply it cannot trust fails closed with 503 (a record over 64 KiB
# with 401 INVALID_SESSION), and a reply that arrives a few bytes at a time
# is read whole. Against a real memcached: connections are kept alive and
# reused (keepalive=), a record larger than the first read buffer is read
# and touched, and after a memcached restart the first request succeeds on
# a new connection instead of failing on a stale one.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));

my $NOW = now();
my $LIVE = record(last_access_time => $NOW, session_idle_timeout => -1);

###############################################################################
# Scripted replies: one fake server per location, each a different reply.

my %REPLY = (
    ok_chunked    => sub { value($_[0], $LIVE) },
    not_found     => sub { "END\r\n" },
    garbage       => sub { "HELLO\r\n" },
    server_error  => sub { "SERVER_ERROR out of memory\r\n" },
    wrong_key     => sub { value($_[0] =~ s/-1\r/-2\r/r, $LIVE) },
    short_data    => sub { value($_[0], $LIVE) =~ s/\}\r\nEND/\r\nEND/r },
    no_end        => sub { value($_[0], $LIVE) =~ s/END\r\n/ENX\r\n/r },
    extra_bytes   => sub { value($_[0], $LIVE) . "END\r\n" },
    huge          => sub { "VALUE " . key_of($_[0]) . " 0 70000 1\r\n" },
    overflow      => sub { "VALUE " . key_of($_[0]) . " 0 99999999999999999999999 1\r\n" },
    bad_flags     => sub { "VALUE " . key_of($_[0]) . " 4294967296 2 1\r\n{}\r\nEND\r\n" },
    closes        => sub { undef },
    stale         => \&stale,
    endless_line  => sub { 'V' x 100000 },
);

# Answers the first command on a connection, closes it at the second: a
# cached connection that memcached dropped just before it was reused.
my %SEEN;
sub stale {
    my ($line, $conn) = @_;
    return $SEEN{$conn}++ ? undef : value($line, $LIVE);
}

sub key_of { $_[0] =~ /^gets (\S+)/ ? $1 : 'none' }

sub value {
    my ($line, $data) = @_;
    return sprintf("VALUE %s 0 %d 7\r\n%s\r\nEND\r\n", key_of($line),
        length $data, $data);
}

# One fake server; the reply is chosen by the key's prefix (the token's
# tokenId).
my $fake = start_scripted_memcached(port('fake'), sub {
    my ($line) = @_;
    my ($name) = key_of($line) =~ /^([a-z_]+)-/;
    return $REPLY{ $name // "garbage" }->(@_);
}, undef);

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_fake%% timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId touch=1h;
        location / { empty_gif; }
    }
EOF

# A server whose connection failed or timed out is left alone for a second
# or two (a reply it cannot trust is not such a failure): wait it out, so
# that the next case reaches the fake server.
sub settle { sleep(2.1) }

is_rejected(http_get_token('/', session_token('not_found-1')), 401,
    'LOGGED_OUT', 'END: no record');

for my $name (qw(garbage server_error wrong_key no_end overflow
                 bad_flags endless_line short_data closes))
{
    is_rejected(http_get_token('/', session_token("$name-1")), 503,
        'SESSION_STORE_UNAVAILABLE', "$name: fails closed");
    settle() if $name eq 'short_data' || $name eq 'closes';
}

# Bytes after a whole reply that no command asked for: the reply stands,
# the connection, out of step, is closed.
is_ok(http_get_token('/', session_token('extra_bytes-1')),
    'extra_bytes: the reply before them stands');
# (logged once the request is answered, and whether the bytes came with the
# reply or after it)
ok(wait_for(3, sub { error_log() =~ /memcached server 127\.0\.0\.1:\d+: a reply nothing asked for/ }),
    'extra_bytes: logged, and the connection closed');

my $stale = 0;
for (1 .. 4) {
    $stale++ if http_get_token('/', session_token('stale-1'))->{status} == 200;
}
is($stale, 4, 'a cached connection found closed: retried on a new one');

is_rejected(http_get_token('/', session_token('huge-1')), 401,
    'INVALID_SESSION', 'a record over 64 KiB: INVALID_SESSION');

stop_helper($fake);

# The same replies, a few bytes at a time: read whole.
$fake = start_scripted_memcached(port('fake'), sub { value($_[0], $LIVE) }, 3);
settle();
is_ok(http_get_token('/', session_token('ok_chunked-1')),
    'a reply arriving 3 bytes at a time');
stop_helper($fake);

my $log = error_log();
unlike($log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alert or crash');
like($log, qr/memcached server 127\.0\.0\.1:\d+: unexpected reply/,
    'the failing server is named in the error log');

stop_nginx();

###############################################################################
# A real memcached.

start_memcached('a');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s keepalive=4;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId touch=0;
        location / { empty_gif; }
    }
EOF

sub total_connections {
    my ($stats) = mc_raw('a', "stats\r\n") // '';
    return $stats =~ /STAT total_connections (\d+)/ ? $1 : -1;
}

mc_set('a', 'keep-1', $LIVE);
my $tok = session_token('keep-1');
my $before = total_connections();
my $ok = 0;
for (1 .. 30) {
    $ok++ if http_get_token('/', $tok)->{status} == 200;
}
is($ok, 30, '30 sequential checks, each touching the record');
my $opened = total_connections() - $before - 1;    # - the stats connection
cmp_ok($opened, '<=', 1, "kept alive: $opened connection(s) for 30 checks");

# A record larger than the first read buffer (about 850 bytes), touched.
my $pad = 'p' x 20000;
my $big = record(last_access_time => $NOW - 5, session_idle_timeout => 3600,
    pad => $pad);
mc_set('a', 'big-1', $big);
is_ok(http_get_token('/', session_token('big-1')), 'a 20 KB record');
my $m = mc_meta('a', 'big-1');
like($m->{value}, qr/"pad":"p{20000}"/, 'its other fields kept');
unlike($m->{value}, qr/"last_access_time":@{[ $NOW - 5 ]}\b/,
    'and its last_access_time touched');

# memcached restarts: the cached connections are dead. The next check must
# not fail on them (a fresh connection), and must not need a second.
restart_memcached('a');
mc_set('a', 'keep-1', $LIVE);
is_ok(http_get_token('/', $tok), 'first check after a memcached restart');
is_ok(http_get_token('/', $tok), 'and the next');
unlike(error_log(), qr/\[alert\]|exited on signal/, 'no alert or crash');

done_testing();
