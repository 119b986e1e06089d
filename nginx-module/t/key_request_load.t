#!/usr/bin/perl

# auth_jwt_key_request with two workers (a reuseport listener, so that the
# kernel spreads connections over both) under bounded keep-alive loads:
#   - cold start: concurrent first requests, in both workers, wait on ONE
#     fetch;
#   - the workers share the keys: the issuer sees at most one fetch per
#     refresh period (auth_jwt_key_cache 2s) plus the first;
#   - 10,000 tokens with random kids cause at most one refetch per 10 s;
#   - an outage under load: the issuer answers 500 while keys are held, and
#     is down before any key was fetched: the workers share the backoff,
#     so the flood of requests makes a few fetches, each logged once;
#   - rotation under load, no reload: the issuer publishes A, then A+B,
#     tokens signed by B start arriving, then it publishes B only: no
#     valid token fails, and A's tokens are refused once A is gone and the
#     keys refreshed.
# The figures (requests, fetches) are printed as diagnostics.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest qw(http_start http_finish);
use JWKSServer;

require_module();

# How early a refresh or a retry may come, in seconds: nginx's millisecond
# clock (ngx_current_msec) allows a few ms; a clock of whole seconds
# (ngx_time()) would come up to a second early, which these tests count as
# a failure (a 2 s period refreshed after 1.1 s is two fetches in one).
my $EARLY = 0.1;

my %tok = (
    A => mint(alg => 'RS256', key => 'rsa',
        claims => { sub => 'alice', exp => now() + 600 }),
    B => mint(alg => 'RS256', key => 'rsa2',
        claims => { sub => 'bob', exp => now() + 600 }),
);

start_jwks_server('jwks');
jwks_set('jwks', '/keys/cold', keys => [qw(rsa)], delay => 1);
jwks_set('jwks', "/keys/$_", keys => [qw(rsa)]) for qw(per kid rot out);

start_nginx(<<'EOF', workers => 2);
    log_format kl '$pid $uri $status';

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        access_log %%TESTDIR%%/kl.log kl;
        keepalive_requests 100000;

        location /_jwks/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 5s;
        }

        location /cold {
            auth_jwt "test";
            auth_jwt_key_request /_jwks/cold;
            empty_gif;
        }
        location /per {
            auth_jwt "test";
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/per;
            empty_gif;
        }
        location /kid {
            auth_jwt "test";
            auth_jwt_key_cache 1h;
            auth_jwt_key_request /_jwks/kid;
            empty_gif;
        }
        location /out {
            auth_jwt "test";
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/out;
            empty_gif;
        }
        # nothing listens there
        location /_down/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_down%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }
        location /outcold {
            auth_jwt "test";
            auth_jwt_key_request /_down/outcold;
            empty_gif;
        }
        location /rot {
            auth_jwt "test";
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/rot;
            empty_gif;
        }
    }
EOF

my $t_start = time();
my $master = nginx_pid();
ok(wait_for(5, sub { nginx_workers() == 2 }), 'two workers');

sub gaps {
    my @t = @_;
    return map { $t[$_] - $t[ $_ - 1 ] } 1 .. $#t;
}

sub fmt { join '/', map { sprintf '%.2f', $_ } @_ }

# The workers (pids) that answered requests for $uri, from the access log.
sub workers_of {
    my ($uri) = @_;
    my %pid;
    for (split /\n/, slurp(testdir() . '/kl.log')) {
        my ($pid, $u) = split / /;
        $pid{$pid}++ if $u eq $uri;
    }
    return \%pid;
}

###############################################################################
# Cold start: 12 concurrent first requests, over both workers, while the
# issuer takes 1 s: one fetch.

my @h = map { http_start('/cold', Authorization => "Bearer $tok{A}") } 1 .. 12;
my @cold = map { http_finish($_, 10) } @h;
is(scalar(grep { $_->{status} == 200 } @cold), 12,
    'cold start: 12 concurrent first requests pass')
    or diag(join ', ', map { "$_->{status} $_->{body}" } @cold);
my $cold_pids = workers_of('/cold');
is(scalar keys %$cold_pids, 2, 'cold start: both workers had first requests')
    or diag(explain $cold_pids);
is(scalar(jwks_fetches('jwks', '/keys/cold')), 1,
    'cold start: one fetch for the whole nginx');

# The key sources of the next parts fetch now.
is(http_get_token("/$_", $tok{A})->{status}, 200, "$_: first fetch")
    for qw(kid rot out per);
my ($t_kid0) = jwks_fetches('jwks', '/keys/kid');
my ($t_rot0) = jwks_fetches('jwks', '/keys/rot');

###############################################################################
# Fetches under load: 4 clients, 8 s, auth_jwt_key_cache 2s.

my ($t_per0) = jwks_fetches('jwks', '/keys/per');
my $t0 = time();
my @rec = run_clients(clients => 4, until => $t0 + 8, reconnect => 50,
    max => 200000, pause => 0.0005,
    next => sub { [ 'A', '/per', Authorization => "Bearer $tok{A}" ] });
my $t1 = time();
my @answers = grep { !$_->{closed} } @rec;
my @failed = grep { $_->{status} != 200 } @answers;
my @f = jwks_fetches('jwks', '/keys/per', $t_per0 + 0.001);
my @g = gaps($t_per0, @f);
my $per_pids = workers_of('/per');
diag(sprintf 'per-period load (2 workers, 4 clients, %.1f s): %d requests '
    . '(%s by worker), %d failed, %d fetches after the first, gaps %s s',
    $t1 - $t0, scalar @answers,
    join(' / ', map { $per_pids->{$_} } sort keys %$per_pids),
    scalar @failed, scalar @f, fmt(@g));
cmp_ok(scalar @answers, '>', 1000, 'load: the load ran');
my %failed;
$failed{"$_->{status} $_->{code}"}++ for @failed;
is(scalar @failed, 0, 'load: every request passed')
    or diag(join ', ', map { "$failed{$_} x $_" } sort keys %failed);
is(scalar keys %$per_pids, 2, 'load: both workers served');
my $max = int(($t1 - $t_per0) / 2) + 1;
cmp_ok(scalar @f, '<=', $max, "load: at most one fetch per 2 s period ($max)");
cmp_ok(scalar @f, '>=', 3, 'load: the keys were refreshed');
is(scalar(grep { $_ < 2 - $EARLY } @g), 0,
    'load: never two fetches within one period (all gaps >= 2 s)')
    or diag('gaps ' . fmt(@g));

###############################################################################
# 10,000 tokens with random kids (RS256 headers naming no published key),
# from 4 keep-alive clients: at most one refetch per 10 s.

sleep 0.05 while time() < $t_kid0 + 10.5;
my ($p) = $tok{A} =~ /^[^.]+\.([^.]+)\./;
my ($sig) = $tok{A} =~ /\.([^.]+)$/;
my $t_kid = time();
@rec = run_clients(clients => 4, until => $t_kid + 60, max => 2500,
    reconnect => 100, next => sub {
        my ($c, $seq) = @_;
        my $kid = sprintf 'rnd-%d-%d-%08x', $c, $seq, int rand 0xffffffff;
        my $t = b64u(qq({"alg":"RS256","typ":"JWT","kid":"$kid"})) . ".$p.$sig";
        return [ 'R', '/kid', Authorization => "Bearer $t" ];
    });
my $t_kid_end = time();
@answers = grep { !$_->{closed} } @rec;
my %by = map { ("$_->{status} $_->{code}" => 0) } @answers;
$by{"$_->{status} $_->{code}"}++ for @answers;
@f = jwks_fetches('jwks', '/keys/kid', $t_kid);
@g = gaps(@f);
my $span = $t_kid_end - $t_kid;
diag(sprintf 'random kids: %d requests in %.1f s (%s), %d refetches%s',
    scalar @answers, $span, join(', ', map { "$_: $by{$_}" } sort keys %by),
    scalar @f, @f ? ' at +' . fmt(map { $_ - $t_kid } @f) . ' s' : '');
is(scalar @answers, 10000, 'random kids: 10,000 answers');
is($by{'401 INVALID_TOKEN'} // 0, 10000,
    'random kids: every one refused 401 INVALID_TOKEN');
cmp_ok(scalar @f, '>=', 1, 'random kids: an unknown kid refetched');
cmp_ok(scalar @f, '<=', 1 + int($span / 10),
    'random kids: at most one refetch per 10 s');
is(scalar(grep { $_ < 9.9 } @g), 0, 'random kids: refetches at least 10 s apart')
    or diag('gaps ' . fmt(@g));
is(http_get_token('/kid', $tok{A})->{status}, 200, 'random kids: a valid token passes');

###############################################################################
# An outage under load, 4 clients for 6.5 s alternating between /out (keys
# held, the issuer now answers 500) and /outcold (no key ever fetched, the
# issuer refuses connections): /out keeps passing on the keys held,
# /outcold answers 503 KEYS_UNAVAILABLE at once; for each, both workers
# together make the fetches of one backoff (1 s, 2 s, ...: 3 or 4 in
# 6.5 s), each logged once.

my $log_from = length error_log();
jwks_set('jwks', '/keys/out', status => 500, keys => [qw(rsa)]);
my $t_out = time();
@rec = run_clients(clients => 4, until => $t_out + 6.5, reconnect => 50,
    max => 200000, pause => 0.0005, next => sub {
        my ($c, $seq) = @_;
        my $loc = $seq % 2 ? '/out' : '/outcold';
        return [ $loc, $loc, Authorization => "Bearer $tok{A}" ];
    });
@answers = grep { !$_->{closed} } @rec;
my %out;
for my $r (@answers) {
    $out{ $r->{tag} }{"$r->{status} $r->{code}"}++;
    $out{ $r->{tag} }{slow}++ if $r->{t1} - $r->{t0} > slow(1.5);
}
my @f_out = jwks_fetches('jwks', '/keys/out', $t_out);
my @l_out = key_request_failures('/_jwks/out', $log_from);
my @l_cold = key_request_failures('/_down/outcold', $log_from);
diag(sprintf 'outage under load (2 workers, 4 clients, 6.5 s): /out (500s): %s; '
    . '%d fetches (at +%s s), %d failure lines; /outcold (down): %s; %d failure '
    . 'lines',
    join(', ', map { "$_: $out{'/out'}{$_}" } sort keys %{ $out{'/out'} }),
    scalar @f_out, fmt(map { $_ - $t_out } @f_out), scalar @l_out,
    join(', ', map { "$_: $out{'/outcold'}{$_}" } sort keys %{ $out{'/outcold'} }),
    scalar @l_cold);
my $n_out = 0;
$n_out += $_ for map { $out{'/out'}{$_} } grep { /^\d/ } keys %{ $out{'/out'} };
cmp_ok($n_out, '>', 1000, 'outage: the load ran');
is($out{'/out'}{'200 -'}, $n_out, 'outage, keys held: every valid token passed');
my $n_cold = 0;
$n_cold += $_ for map { $out{'/outcold'}{$_} } grep { /^\d/ } keys %{ $out{'/outcold'} };
is($out{'/outcold'}{'503 KEYS_UNAVAILABLE'}, $n_cold,
    'outage, no keys: every request 503 KEYS_UNAVAILABLE');
ok(!$out{'/outcold'}{slow} && !$out{'/out'}{slow}, 'outage: no request waited (> 1.5 s)');
ok(@f_out >= 2 && @f_out <= 4, 'outage, keys held: 2-4 fetches for the flood');
is(scalar @l_out, scalar @f_out, 'outage, keys held: one line per failed fetch');
my @g_out = gaps(@f_out);
is(scalar(grep { $g_out[$_] < 2 ** $_ - $EARLY } 0 .. $#g_out), 0,
    'outage, keys held: the retries back off (1 s, 2 s, ...)')
    or diag('gaps ' . fmt(@g_out));
ok(@l_cold >= 2 && @l_cold <= 4, 'outage, no keys: 2-4 failed fetches for the flood');
is(scalar(keys %{ workers_of('/out') }), 2, 'outage: both workers served /out');
jwks_set('jwks', '/keys/out', keys => [qw(rsa)]);

###############################################################################
# Rotation under load (auth_jwt_key_cache 2s), no reload: from T0, A only;
# at T0+1.5 the issuer publishes A+B; from T0+4.5 clients send B tokens
# too; at T0+6.5 the issuer publishes B only; the load ends at T0+10.

my $T0 = time() + 0.3;
my %at = (add => $T0 + 1.5, b_start => $T0 + 4.5, drop => $T0 + 6.5, end => $T0 + 10);
my %done;
@rec = run_clients(clients => 4, until => $at{end}, reconnect => 50,
    max => 200000, pause => 0.0005,
    next => sub {
        my ($c, $seq, $now) = @_;
        sleep 0.01 while time() < $T0;
        my $which = time() < $at{b_start} || $seq % 2 ? 'A' : 'B';
        return [ $which, '/rot', Authorization => "Bearer $tok{$which}" ];
    },
    during => sub {
        sleep 0.01 while time() < $at{add};
        jwks_set('jwks', '/keys/rot', keys => [qw(rsa rsa2)]);
        $done{add} = time();
        sleep 0.01 while time() < $at{drop};
        jwks_set('jwks', '/keys/rot', keys => [qw(rsa2)]);
        $done{drop} = time();
    });
@answers = grep { !$_->{closed} } @rec;
my (%count, @wrong);
for my $r (@answers) {
    my $got = "$r->{status} $r->{code}";
    $count{"$r->{tag} $got"}++;
    my $ok;
    if ($r->{tag} eq 'B') {
        $ok = $r->{status} == 200;
    } elsif ($r->{t1} <= $done{drop}) {
        $ok = $r->{status} == 200;
    } elsif ($r->{t0} >= $done{drop} + 2.6) {
        $ok = $got eq '401 INVALID_TOKEN';
        $count{'A refused after removal'}++ if $ok;
    } else {
        $ok = $r->{status} == 200 || $got eq '401 INVALID_TOKEN';
    }
    push @wrong, [ $r, $got ] unless $ok;
}
# The wrong answers by token, answer and phase: "count x tag answer, phase
# (first at +t s)".
my %phase_of = (0 => 'A only', 1 => 'A+B published', 2 => 'B tokens sent',
    3 => 'A removed', 4 => 'A removed +2.6 s');
my %wrong;
for (@wrong) {
    my ($r, $got) = @$_;
    my $ph = $r->{t0} < $done{add} ? 0 : $r->{t0} < $at{b_start} ? 1
        : $r->{t0} < $done{drop} ? 2 : $r->{t0} < $done{drop} + 2.6 ? 3 : 4;
    my $w = $wrong{"$r->{tag} $got, phase '$phase_of{$ph}'"} //= [ 0, $r->{t0} ];
    $w->[0]++;
    $w->[1] = $r->{t0} if $r->{t0} < $w->[1];
}
@f = jwks_fetches('jwks', '/keys/rot', $T0);
@g = gaps(@f);
my $valid = grep { $_->{tag} eq 'B' || $_->{t1} <= $done{drop} } @answers;
my $valid_failed = grep { ($_->{tag} eq 'B' || $_->{t1} <= $done{drop})
    && $_->{status} != 200 } @answers;
my $last_a_ok = (sort { $b <=> $a } map { $_->{t1} }
    grep { $_->{tag} eq 'A' && $_->{status} == 200 } @answers)[0];
diag(sprintf 'rotation under load (2 workers, 4 clients, %.1f s): %d requests '
    . '(%s); valid tokens: %d, failed: %d; A last accepted %.2f s after its '
    . 'removal; %d fetches (at +%s s; A+B published at +%.2f, A removed at +%.2f)',
    $at{end} - $T0, scalar @answers,
    join(', ', map { "$_: $count{$_}" } sort keys %count), $valid, $valid_failed,
    ($last_a_ok // $T0) - $done{drop}, scalar @f, fmt(map { $_ - $T0 } @f),
    $done{add} - $T0, $done{drop} - $T0);
cmp_ok(scalar @answers, '>', 1000, 'rotation: the load ran');
is($valid_failed, 0, 'rotation: zero failed requests for valid tokens');
is(scalar @wrong, 0, 'rotation: every answer is the one its token should get')
    or diag(join "\n", map { sprintf '%d x %s (first at +%.2f s)', $wrong{$_}[0], $_,
        $wrong{$_}[1] - $T0 } sort keys %wrong);
cmp_ok($count{'B 200 -'} // 0, '>', 100, 'rotation: B tokens passed');
cmp_ok($count{'A refused after removal'} // 0, '>', 50,
    'rotation: A tokens refused once A was gone and the keys refreshed');
# One fetch per period, plus the refetches of unknown kids (A's, once A is
# gone), at most one per 10 s.
my $rot_max = int(($at{end} - $T0) / 2) + 1 + int(($at{end} - $T0) / 10) + 1;
cmp_ok(scalar @f, '<=', $rot_max,
    "rotation: at most one fetch per period, plus one refetch per 10 s ($rot_max)")
    or diag('gaps ' . fmt(@g));
my @short = grep { $_ < 2 - $EARLY } @g;
cmp_ok(scalar @short, '<=', 1 + int(($at{end} - $T0) / 10),
    'rotation: fetches closer than a period are only unknown-kid refetches')
    or diag('gaps ' . fmt(@g));
is(scalar(grep { $_->{status} == 0 } @answers), 0, 'rotation: no connection error');
is(nginx_pid(), $master, 'rotation: the same nginx master');
unlike(error_log(), qr/reconfiguring/, 'rotation: no reload');

my @leaked = client_headers_at('jwks');
is(scalar @leaked, 0, 'no fetch carried Authorization or Cookie, or was not a GET')
    or diag(join "\n", grep { defined } @leaked[0 .. 9]);

no_log_alerts_brief();
is(scalar(grep { /exited on signal/ } split /\n/, error_log()), 0, 'no worker died');
is(scalar(grep { /key request .* failed/ && !m{"/_jwks/out"|"/_down/outcold"} }
    split /\n/, error_log()), 0, 'no key request failed (but the outage\'s)');

diag(sprintf 'key_request_load.t ran %.1f s', time() - $t_start);

done_testing();
