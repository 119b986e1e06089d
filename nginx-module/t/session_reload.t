#!/usr/bin/perl

# `nginx -s reload` and a graceful quit while session lookups are in flight:
# memcached sits behind a proxy that delays every answer by 0.6 s, so the
# requests are waiting on memcached when the signal comes. Every one of
# them completes with its correct answer (200, or 401 with the right code),
# none is dropped or reset, clients that leave mid-lookup leak nothing, the
# old worker exits, and nothing is logged at [alert] (a worker leaving with
# a request blocked on a lookup, or with a memcached connection still open,
# logs "open socket ... left in connection").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');
my $proxy = start_slow_proxy(port('slow'), memcached_port('a'), 0.6, 60);

my $CONF = <<'EOF';
    auth_jwt_memcached 127.0.0.1:%%PORT_slow%% timeout=3s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId fingerprint=$http_finger_print;
        location / { empty_gif; }
    }
EOF

start_nginx($CONF);

# The processes whose parent is $ppid (from /proc/<pid>/stat).
sub children_of {
    my ($ppid) = @_;
    return grep {
        my (undef, $parent) = split ' ', slurp("/proc/$_/stat") =~ s/^.*\)\s//sr;
        defined $parent && $parent == $ppid;
    } map { m{^/proc/(\d+)$} ? $1 : () } glob '/proc/[0-9]*';
}

# Sessions and what each must get: live (200), absent (LOGGED_OUT), idle
# (SESSION_IDLE_TIMEOUT), another fingerprint (FINGERPRINT_MISMATCH).
sub setup {
    my ($round) = @_;
    my @cases;
    for my $i (1 .. 4) {
        my $k = "live-$round-$i";
        mc_set('a', $k, record(fingerprint => 'fp', last_access_time => now() - 5,
            session_idle_timeout => -1));
        push @cases, [ $k, 200, undef ];
        push @cases, [ "absent-$round-$i", 401, 'LOGGED_OUT' ];
    }
    for my $i (1 .. 2) {
        my $k = "idle-$round-$i";
        mc_set('a', $k, record(fingerprint => 'fp', last_access_time => now() - 100,
            session_idle_timeout => 10));
        push @cases, [ $k, 401, 'SESSION_IDLE_TIMEOUT' ];
        $k = "fp-$round-$i";
        mc_set('a', $k, record(fingerprint => 'other', last_access_time => now(),
            session_idle_timeout => -1));
        push @cases, [ $k, 401, 'FINGERPRINT_MISMATCH' ];
    }
    return @cases;
}

sub fire {
    my (@cases) = @_;
    return map {
        http_start('/', Authorization => 'Bearer ' . session_token($_->[0]),
            'FINGER-PRINT' => 'fp')
    } @cases;
}

sub check {
    my ($name, $cases, $inflight) = @_;
    my @wrong;
    for my $i (0 .. $#$cases) {
        my ($k, $status, $code) = @{ $cases->[$i] };
        my $r = http_finish($inflight->[$i], 10);
        my ($got) = $r->{body} =~ /"status"\s*:\s*"(\w+)"/;
        my $cl_ok = defined $r->{headers}{'content-length'}
            && $r->{headers}{'content-length'} == length $r->{body};
        push @wrong, "$k: want $status " . ($code // '') . ", got $r->{status} "
            . ($got // '') . ($r->{reset} ? ' (reset)' : '')
            . ($cl_ok ? '' : ' (incomplete body)')
            unless $r->{status} == $status && $cl_ok && !$r->{reset}
                && (!defined $code || ($got // '') eq $code);
    }
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is(scalar @wrong, 0, "$name: every in-flight request completed correctly")
        or diag(join "\n", @wrong);
}

my @cases = setup(0);
my @inflight = fire(@cases);
check('no reload (control)', \@cases, \@inflight);

for my $round (1 .. 2) {
    @cases = setup($round);
    @inflight = fire(@cases);
    # two more clients give up during their lookups
    my @gone = fire([ "live-$round-1" ], [ "absent-$round-9" ]);
    sleep 0.25;
    close $_->{sock} for @gone;
    is(scalar(grep { http_pending($_) } @inflight), scalar @cases,
        "reload $round: all lookups in flight");
    my ($rc, $out) = reload_nginx();
    is($rc, 0, "reload $round: nginx -s reload") or diag($out);
    check("reload $round", \@cases, \@inflight);
    ok(wait_for(15, sub { children_of(nginx_pid()) == 1 }),
        "reload $round: the old worker exited");
    # (http_finish: through the slow proxy a lookup and its touch take 1.2 s)
    is_ok(http_finish(http_start('/', 'FINGER-PRINT' => 'fp',
        Authorization => 'Bearer ' . session_token("live-$round-2"))),
        "reload $round: the new worker serves sessions");
}

# A graceful quit: the worker finishes the in-flight lookups first.
@cases = setup(9);
@inflight = fire(@cases);
sleep 0.25;
is(scalar(grep { http_pending($_) } @inflight), scalar @cases,
    'quit: all lookups in flight');
kill 'QUIT', nginx_pid();
check('graceful quit', \@cases, \@inflight);
stop_nginx();

my @bad = grep { /\[(alert|emerg|crit)\]|open socket/ } split /\n/, error_log();
is(scalar @bad, 0, 'no alert, crit, emerg or "open socket left" in the log')
    or diag(join "\n", @bad);

stop_helper($proxy);
done_testing();
