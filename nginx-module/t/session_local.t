#!/usr/bin/perl

# A connection to memcached that nginx cannot open for a reason of its own
# (here: every one of the worker's worker_connections is taken) is not the
# server's failure: that request gets 503 SESSION_STORE_UNAVAILABLE, logged
# at [crit] as a local resource problem, and the server is not marked
# down: the next request, once a connection is free again, is checked
# against memcached at once instead of getting 503 for 1 to 2 seconds.
#
# Clients holding unfinished requests (which nginx cannot reuse) take all
# the worker's connections but one; the client with a token takes the
# last, so there is none left for memcached.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

# No session request before the failure: no cached memcached connection.
start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId;

        location / { empty_gif; }
    }
EOF

my ($connections) = slurp(testdir() . '/nginx.conf')
    =~ /worker_connections\s+(\d+);/;
my @workers = nginx_workers();
is(scalar @workers, 1, 'one worker');

# The worker's sockets: each holds one of its connections (the listening
# socket, the channel to the master, clients, memcached).
sub sockets {
    opendir(my $d, "/proc/$workers[0]/fd") or return 0;
    my @s = grep { (readlink("/proc/$workers[0]/fd/$_") // '') =~ /^socket:/ }
        readdir $d;
    return scalar @s;
}

# Once the connection the harness made to see nginx listen is closed.
my $used = sockets();
wait_for(3, sub {
    sleep 0.2;
    my $now = sockets();
    my $same = $now == $used;
    $used = $now;
    return $same;
});
cmp_ok($used, '>', 0, "the worker's sockets are readable ($used in use)");

my $tok = session_token('local-1');
mc_set('a', 'local-1', record(last_access_time => now(),
    session_idle_timeout => -1));

# Clients holding requests they never finish: once nginx has read their
# first bytes, it cannot reuse them. With few connections left, nginx
# closes the ones still waiting for their first bytes to make room, so the
# last ones come one at a time, each read before the next.
my $holding = $connections - $used - 1;
my @holders;
for my $i (1 .. $holding) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port(8080), Proto => 'tcp', Timeout => 5)
        or BAIL_OUT("connect: $!");
    print $s "GET / HTTP/1.1\r\nHost: localhost\r\n";
    push @holders, $s;
    if ($holding - $i < $connections / 8) {
        wait_for(2, sub { sockets() == $used + $i });
        sleep slow(0.05);
    }
}
ok(wait_for(5, sub { sockets() == $used + $holding }),
    "$holding unfinished requests hold all connections of $connections but one");

my $mark = length error_log();
my $t0 = time();
is_rejected(http_get_token('/', $tok), 503, 'SESSION_STORE_UNAVAILABLE',
    'no connection left for memcached');

# The token's client is gone; one more makes room for a client and its
# memcached connection.
close shift @holders;
ok(wait_for(2, sub { sockets() == $used + $holding - 1 }),
    'one unfinished request closed');

my $r = http_get_token('/', $tok);
my $after = time() - $t0;
is_ok($r, 'a connection free again: the next request is checked at once');
cmp_ok($after, '<', slow(1), 'within a second of the local failure')
    or diag("took ${after}s: too late to tell a server marked down");

my $log = substr(error_log(), $mark);
like($log, qr/\[alert\].* worker_connections are not enough/,
    'the failure was local (nginx: worker_connections)');
like($log, qr/\[crit\].*auth_jwt: cannot open a connection to memcached server 127\.0\.0\.1:\d+: local resources/,
    'logged at [crit] as a local resource problem');
unlike($log, qr/failing for/, 'the server was not marked down');

close $_ for @holders;
my @other = grep {
    /\[(alert|emerg|crit)\]/ && !/worker_connections are not enough|local resources/
} split /\n/, error_log();
is(scalar @other, 0, 'no other alert, crit or emerg') or diag(join "\n", @other);

done_testing();
