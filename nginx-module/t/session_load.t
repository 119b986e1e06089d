#!/usr/bin/perl

# Session checks under a bounded load of keep-alive clients while nginx is
# reloaded five times and memcached is restarted in the middle (one reload
# falls while it is down). Every answer is checked against what its request
# must get at the time it was made: 200 or its 401 code while memcached is
# up, 503 SESSION_STORE_UNAVAILABLE while it is down (never a 200: the
# check fails closed), either one around the restart. No request is
# dropped or reset: the only connection failures allowed are idle
# keep-alive connections closed by a retiring worker before it read the
# next request (RFC 9112 9.3.1: the client retries), and the access log
# proves nginx never saw those. Nothing is logged at [alert], [crit] or
# [emerg], and no worker dies.
#
# Unlike session_reload.t (requests held in flight across one reload, on
# fresh connections), this is the steady churn: several clients, kept-alive
# connections, repeated reloads, and the store going away and coming back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

# (timeout=1s: memcached's outage is a refused connection, seen at once; a
# longer timeout keeps a busy machine's stalls from passing for one)
start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;
    log_format load '$arg_id $status';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        access_log %%TESTDIR%%/load.log load;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /s {
            auth_jwt_session key=$jwt_claim_tokenId
                             fingerprint=$http_finger_print;
            empty_gif;
        }
        location /t { empty_gif; }
    }
EOF

my $CLIENTS = 6;
my $MAX_PER_CLIENT = 25000;   # the load's bound, besides its deadline

# Live sessions (one per client, so that touches do not all hit one key).
sub write_sessions {
    mc_set('a', "live-$_", record(fingerprint => "fp-$_",
        last_access_time => now(), session_idle_timeout => -1,
        expires_at => now() + 3600)) for 1 .. $CLIENTS;
}
write_sessions();

# The requests of client $n: [name, path, headers, status, code, store]:
# those with store set look their session up, and get 503 while memcached
# is down; the others are decided before (a bad token on a session
# location) or without (/t) the store.
sub cases {
    my ($n) = @_;
    my $live = session_token("live-$n");
    my $bad = $live;
    substr($bad, -10, 1) = substr($bad, -10, 1) eq 'A' ? 'B' : 'A';
    my @fp = ('FINGER-PRINT' => "fp-$n");
    return (
        [ 'session', '/s', [ Authorization => "Bearer $live", @fp ], 200, undef, 1 ],
        [ 'logged out', '/s', [ Authorization => 'Bearer ' . session_token("gone-$n"),
            @fp ], 401, 'LOGGED_OUT', 1 ],
        [ 'other device', '/s', [ Authorization => "Bearer $live",
            'FINGER-PRINT' => 'stolen' ], 401, 'FINGERPRINT_MISMATCH', 1 ],
        [ 'bad token, session location', '/s', [ Authorization => "Bearer $bad", @fp ],
            401, 'INVALID_TOKEN', 0 ],
        [ 'token only', '/t', [ Authorization => "Bearer $live" ], 200, undef, 0 ],
        [ 'expired token', '/t', [ Authorization => 'Bearer '
            . session_token("live-$n", exp => now() - 60) ], 401, 'TOKEN_EXPIRED', 0 ],
    );
}

# A client: requests in rotation on a keep-alive connection until the stop
# file appears (or its deadline), one line per attempt in its file:
#   <id> <case> <t0> <t1> <outcome> <status> <code>
# outcome: answer; closed (a reused connection closed before any byte of
# the answer: retried on a new one); or an error: refused, dropped (a new
# connection closed with no answer), partial, timeout. A kept-alive
# connection the server closed while it was idle is seen before sending
# (readable: EOF) and replaced, with a line "- stale".
sub client {
    my ($n, $deadline, $stop, $file) = @_;
    my @cases = cases($n);
    open my $fh, '>', $file or die "$file: $!";
    my ($conn, $reused);
    for (my $seq = 1; $seq <= $MAX_PER_CLIENT && time() < $deadline && !-e $stop;
        $seq++)
    {
        my $c = $cases[ $seq % @cases ];
        for my $attempt (1 .. 3) {
            my $id = "$n-$seq-$attempt";
            my $t0 = time();
            if ($conn && IO::Select->new($conn->{sock})->can_read(0)) {
                print $fh "- stale\n";
                close $conn->{sock};
                undef $conn;
            }
            unless ($conn) {
                $conn = keepalive_open();
                $reused = 0;
            }
            my $r = $conn ? keepalive_get($conn, "$c->[1]?id=$id", @{ $c->[2] })
                : { status => 0, refused => 1 };
            my ($code) = ($r->{body} // '') =~ /^\{"status":"(\w+)"\}$/;
            my $outcome = $r->{status} ? 'answer'
                : $r->{refused} ? 'refused'
                : $r->{received} ? 'partial'
                : $r->{timeout} ? 'timeout'
                : $reused ? 'closed' : 'dropped';
            printf $fh "%s %s %.4f %.4f %s %d %s\n", $id, $c->[0] =~ tr/ /_/r,
                $t0, time(), $outcome, $r->{status}, $code // '-';
            if ($r->{status} && !$r->{closed}) {
                $reused = 1;
            } else {
                close $conn->{sock} if $conn;
                undef $conn;
            }
            last unless $outcome eq 'closed';
        }
    }
    close $fh;
}

my $t_start = time();
my $deadline = $t_start + 30;    # a bound; the stop file ends them earlier
my $stop = testdir() . '/load.stop';
my @kids;
for my $n (1 .. $CLIENTS) {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        # POSIX::_exit: a client never runs the harness's END blocks
        client($n, $deadline, $stop, testdir() . "/client-$n.txt");
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

# The timeline: two reloads, memcached stopped, a reload while it is down,
# memcached back (empty: the auth server writes the sessions again), the
# store's recovery, two more reloads.
my (%t, @reload_rc, %workers);
my $reload = sub {
    my ($rc, $out) = reload_nginx();
    push @reload_rc, $rc;
    diag($out) if $rc;
    # the new worker: a process not seen before
    wait_for(5, sub { grep { !$workers{$_} } nginx_workers() });
    $workers{$_} = 1 for nginx_workers();
};
$workers{$_} = 1 for nginx_workers();
sleep 0.8;
$reload->();
sleep 0.8;
$reload->();
sleep 0.8;

$t{stop0} = time();
stop_memcached('a');
$t{stop1} = time();
sleep 0.5;
$reload->();
sleep 0.8;
$t{start0} = time();
start_memcached('a');
write_sessions();
$t{start1} = time();

# The README's promise: sessions are served again within two seconds of
# memcached's return (a server that failed is skipped for one to two
# seconds, so 503s may trail memcached's return, and the first success).
# A margin of half a second for the load.
$t{recovered} = $t{start1} + 2.5;
my $probe = session_token('live-1');
ok(wait_for(6, sub {
    http_get_token('/s', $probe, 'FINGER-PRINT' => 'fp-1')->{status} == 200 }),
    'sessions served again after memcached came back');
sleep 0.1 while time() < $t{recovered};

sleep 0.8;
$reload->();
sleep 0.8;
$reload->();
sleep 1;
$t{end} = time();
write_file($stop, '');
for my $pid (@kids) {
    unless (wait_for(15, sub { waitpid($pid, WNOHANG) != 0 })) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
}

is_deeply(\@reload_rc, [ (0) x 5 ], 'five reloads: nginx -s reload succeeded');
my $reconf = () = error_log() =~ /\d: reconfiguring$/mg;
is($reconf, 5, 'five reloads: the master reconfigured five times');
is(scalar keys %workers, 6, 'each reload started a new worker');

# The verdict on each answer. What a session request may get depends on the
# store at the time: before stop0 and after recovered, only its own answer;
# from stop1 to start0 (memcached gone), only 503; across the stop and the
# restart (until recovered), either, or LOGGED_OUT before the sessions were
# written again.
my %case = map { $_->[0] =~ tr/ /_/r => $_ } cases(1);
my (%by_status, %by_outcome, @wrong, %closed_ids, %answered);
my $lines = 0;
for my $n (1 .. $CLIENTS) {
    for (split /\n/, slurp(testdir() . "/client-$n.txt")) {
        my ($id, $name, $t0, $t1, $outcome, $status, $code) = split / /;
        if ($id eq '-') {
            $by_outcome{stale}++;
            next;
        }
        $lines++;
        $by_outcome{$outcome}++;
        if ($outcome eq 'closed') {
            $closed_ids{$id} = 1;
            next;
        }
        next unless $outcome eq 'answer';
        $answered{$id} = $status;
        $by_status{$status}++;
        my $c = $case{$name};
        my $want = "$c->[3] " . ($c->[4] // '-');
        my $got = "$status $code";
        my %ok = ($want => 1);
        if ($c->[5] && $t1 >= $t{stop0} && $t0 <= $t{recovered}) {
            my $down = $t0 >= $t{stop1} && $t1 <= $t{start0};
            %ok = () if $down;
            $ok{'503 SESSION_STORE_UNAVAILABLE'} = 1;
            $ok{'401 LOGGED_OUT'} = 1 if !$down && $t0 <= $t{start1};
        }
        push @wrong, "$id $name at +" . sprintf('%.2f', $t0 - $t_start)
            . "s: got $got, want " . join(' or ', sort keys %ok)
            unless $ok{$got};
    }
}

my $errors = $lines - ($by_outcome{answer} // 0) - ($by_outcome{closed} // 0);
diag(sprintf 'load: %d answers (%s), %d idle keep-alive connections replaced, '
    . '%d closed as a request was sent (retried), %d connection errors; '
    . 'memcached down %.2fs..%.2fs, 503 allowed until %.2fs',
    $by_outcome{answer} // 0,
    join(', ', map { "$_: $by_status{$_}" } sort keys %by_status),
    $by_outcome{stale} // 0, $by_outcome{closed} // 0, $errors,
    $t{stop0} - $t_start, $t{start1} - $t_start, $t{recovered} - $t_start);

cmp_ok($by_outcome{answer} // 0, '>', 300, 'the load ran');
is($errors, 0, 'no connection error: nothing refused, dropped, cut or timed out')
    or diag(join ', ', map { "$_: $by_outcome{$_}" } sort keys %by_outcome);
is(scalar @wrong, 0, 'every answer is the one its request should get')
    or diag(join "\n", @wrong[0 .. ($#wrong < 19 ? $#wrong : 19)]);
cmp_ok($by_status{503} // 0, '>', 0, 'some requests came while memcached was down');
cmp_ok($by_status{200} // 0, '>', 0, 'and sessions were served');

# The access log: every answer the clients saw was logged with its status,
# and no retried attempt reached nginx (so none was dropped after being read).
my %logged = map { split / / } grep { /^\d/ } split /\n/, slurp(testdir() . '/load.log');
my @unlogged = grep { ($logged{$_} // '') ne $answered{$_} } keys %answered;
is(scalar @unlogged, 0, 'every answer is in the access log with its status')
    or diag("@unlogged[0 .. ($#unlogged < 9 ? $#unlogged : 9)]");
my @seen = grep { exists $logged{$_} } keys %closed_ids;
is(scalar @seen, 0, 'no retried request had been read by nginx')
    or diag(join ', ', map { "$_ logged as $logged{$_}" } @seen);

is(scalar(grep { /exited on signal/ } split /\n/, error_log()), 0,
    'no worker died');
no_log_alerts();

done_testing();
