#!/usr/bin/perl

# Logout during load: 4 keep-alive clients send 200 requests each on one
# session while the auth server deletes the record mid-run. The touch is a
# compare-and-swap, so a write racing the delete must not bring the session
# back: afterwards the key stays absent, and every request that started
# after the delete completed was answered LOGGED_OUT. Three rounds: touch=0
# (every request writes, the widest race) twice, then the default touch.
# The lookups of the 4 clients are in flight at once on the worker's event
# loop, each on its own memcached connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=2s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        keepalive_requests 10000;

        location /touch0 {
            auth_jwt_session key=$jwt_claim_tokenId touch=0;
            empty_gif;
        }
        location /touch1 {
            auth_jwt_session key=$jwt_claim_tokenId;
            empty_gif;
        }
    }
EOF

my $CLIENTS = 4;
my $BATCH = 40;          # requests per client answered before, and after, the delete

# A client: keep-alive requests until $stop exists (at most 20 s), each
# logged as "start end status code" to its file; exits by POSIX::_exit so
# that it never runs the harness's END blocks. Running until told to stop,
# not for a fixed count, so that a busy machine cannot end the run before
# the delete.
sub client {
    my ($path, $tok, $file, $stop) = @_;
    my $pid = fork() // die "fork: $!";
    return $pid if $pid;
    my @lines;
    my $deadline = time() + 20;
    my $k = keepalive_open();
    until (-e $stop) {
        last if time() > $deadline;
        $k ||= keepalive_open();
        my $t0 = time();
        my $r = $k ? keepalive_get($k, $path, Authorization => "Bearer $tok")
            : { status => 0, body => '', closed => 1 };
        my $t1 = time();
        my ($code) = $r->{body} =~ /"status"\s*:\s*"(\w+)"/;
        push @lines, sprintf "%.6f %.6f %d %s", $t0, $t1, $r->{status},
            $code // '-';
        $k = undef if $r->{closed};
    }
    if (open my $fh, '>', $file) {
        print $fh map { "$_\n" } @lines;
        close $fh;
    }
    POSIX::_exit(0);
}

sub access_lines { scalar(() = access_log() =~ /\n/g) }

for my $round (1 .. 3) {
    my $path = $round < 3 ? '/touch0' : '/touch1';
    my $key = "race-$round-$$";
    my $tok = session_token($key);
    mc_set('a', $key, record(last_access_time => now(),
        session_idle_timeout => -1, user => 'alice'));
    is(http_get_token($path, $tok)->{status}, 200, "round $round: session live");

    my $base = access_lines();
    my $stop = testdir() . "/race.$round.stop";
    my @files = map { testdir() . "/race.$round.$_" } 1 .. $CLIENTS;
    my @pids = map { client($path, $tok, $files[$_ - 1], $stop) } 1 .. $CLIENTS;

    # Delete once a batch was answered, stop the clients a batch later.
    wait_for(10, sub { access_lines() >= $base + $CLIENTS * $BATCH });
    my $deleted = mc_delete('a', $key);
    my $t_del = time();
    my $at_delete = access_lines();
    ok($deleted, "round $round: the auth server deleted the session mid-run");
    wait_for(10, sub { access_lines() >= $at_delete + $CLIENTS * $BATCH });
    write_file("race.$round.stop", '');

    for my $pid (@pids) {
        next if wait_for(30, sub { waitpid($pid, WNOHANG) != 0 });
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }

    my (@all, @after, @bad_after, @bad);
    for my $f (@files) {
        for (split /\n/, slurp($f)) {
            my ($t0, $t1, $status, $code) = split ' ';
            push @all, $_;
            push @bad, $_ unless $status == 200
                || $status == 401 && $code eq 'LOGGED_OUT';
            next unless $t0 > $t_del;
            push @after, $_;
            push @bad_after, $_ unless $status == 401 && $code eq 'LOGGED_OUT';
        }
    }
    my $ok_before = grep { (split ' ')[2] == 200 } @all;
    my $unanswered = grep { (split ' ')[2] == 0 } @all;
    cmp_ok(scalar @all, '>=', 2 * $CLIENTS * $BATCH, "round $round: requests made");
    is($unanswered, 0, "round $round: every request answered");
    is(scalar @bad, 0, "round $round: only 200 or 401 LOGGED_OUT")
        or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);
    cmp_ok($ok_before, '>', 0, "round $round: requests succeeded before the delete");
    cmp_ok(scalar @after, '>', 0, "round $round: requests started after the delete");
    is(scalar @bad_after, 0,
        "round $round: every request started after the delete got LOGGED_OUT")
        or diag(scalar(@bad_after) . " did not, e.g.:\n"
            . join "\n", @bad_after[0 .. ($#bad_after < 4 ? $#bad_after : 4)]);

    ok(!defined mc_meta('a', $key), "round $round: the key stays absent");
    sleep 0.3;
    ok(!defined mc_meta('a', $key), "round $round: still absent 0.3 s later");
    is_rejected(http_get_token($path, $tok), 401, 'LOGGED_OUT',
        "round $round: next request");
}

no_log_alerts();

done_testing();
