#!/usr/bin/perl

# The session store failing and recovering: memcached stopped (connection
# refused), paused (SIGSTOP: connects, never answers) and a fake memcached
# that never answers all give 503 SESSION_STORE_UNAVAILABLE within about
# the configured timeout, logged at [error], and never block the worker:
# a location without session checks answers during the hang. A server that
# failed gets 503 at once for the next 1 to 2 seconds, then is tried again.
# When memcached comes back, sessions work again without a reload. With two
# servers, keys are spread over both and each is found on the server that
# holds it.

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

# The server block, for the given auth_jwt_memcached line.
sub conf {
    my ($memcached) = @_;
    return <<"EOF";
    $memcached

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=\$jwt_claim_tokenId;

        location / { empty_gif; }
        location /nosession {
            auth_jwt_session off;
            empty_gif;
        }
        location /open {
            auth_jwt off;
            empty_gif;
        }
    }
EOF
}

my $LIVE = record(last_access_time => now(), session_idle_timeout => -1);
my $BOUND = 1.5;    # seconds: a failure-policy bound for timeout=250ms/300ms

sub timed_get {
    my ($path, $tok) = @_;
    my $t0 = time();
    my $r = $tok ? http_get_token($path, $tok) : http_get($path);
    $r->{time} = time() - $t0;
    return $r;
}

sub unavailable {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_rejected($r, 503, 'SESSION_STORE_UNAVAILABLE', $name);
    cmp_ok($r->{time}, '<', $BOUND, "$name: answered within ${BOUND}s");
}

# Error-log lines written since a mark.
sub log_since {
    my ($mark) = @_;
    return substr(error_log(), $mark);
}

###############################################################################
# One memcached: stopped, restarted, paused.

start_memcached('a');
start_nginx(conf('auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=250ms;'));
my $pid = nginx_pid();
my $tok = session_token('store-1');
mc_set('a', 'store-1', $LIVE);
is_ok(http_get_token('/', $tok), 'memcached up');

stop_memcached('a');
my $mark = length error_log();
unavailable(timed_get('/', $tok), 'memcached stopped');
unavailable(timed_get('/', $tok), 'memcached stopped, again') for 1 .. 3;
like(log_since($mark), qr/\[error\].*/, 'store failure logged at [error]');
unlike(log_since($mark), qr/\[(alert|crit|emerg)\]/, 'and not higher');
my $r = timed_get('/', 'x.y.z');
is_rejected($r, 401, 'INVALID_TOKEN', 'memcached stopped: a bad token is still 401');
is_rejected(timed_get('/'), 401, 'TOKEN_MISSING',
    'memcached stopped: no token is still 401');
is_ok(timed_get('/nosession', $tok), 'memcached stopped: auth_jwt_session off');
is_ok(timed_get('/open'), 'memcached stopped: auth_jwt off');

start_memcached('a');    # the same port, empty
mc_set('a', 'store-1', $LIVE);
my $t0 = time();
my $back = wait_for(4, sub { http_get_token('/', $tok)->{status} == 200 });
ok($back, 'memcached restarted: 200 again without a reload');
cmp_ok(time() - $t0, '<', 2.5, 'memcached restarted: recovered within 2.5s');
is(nginx_pid(), $pid, 'the same nginx master');
unlike(error_log(), qr/reconfiguring/, 'no reload happened');
is_rejected(http_get_token('/', session_token('store-absent')), 401,
    'LOGGED_OUT', 'after the restart: an absent session');

# Paused: the kernel still accepts connections, nothing answers.
kill 'STOP', memcached_pid('a');
sleep(0.2);    # SIGSTOP takes effect asynchronously
unavailable(timed_get('/', $tok), 'memcached paused (SIGSTOP)');
$r = timed_get('/', $tok);
unavailable($r, 'memcached paused, again');
kill 'CONT', memcached_pid('a');
$back = wait_for(4, sub { http_get_token('/', $tok)->{status} == 200 });
ok($back, 'memcached resumed: 200 again');

no_log_alerts('one server: no alert, crit or emerg');
stop_nginx();

###############################################################################
# A fake memcached that accepts and never answers, timeout=300ms.

my $fake = start_fake_memcached(port('fake'), 40);
start_nginx(conf('auth_jwt_memcached 127.0.0.1:%%PORT_fake%% timeout=300ms;'));

$r = timed_get('/', $tok);
unavailable($r, 'fake memcached never answers');
cmp_ok($r->{time}, '>=', 0.25, 'fake memcached: 503 after about the timeout')
    or diag("took $r->{time}s");
# A server that failed is not waited on again for 1 to 2 seconds.
$r = timed_get('/', $tok);
unavailable($r, 'fake memcached, again');
cmp_ok($r->{time}, '<', 0.15, 'a server that just failed: 503 at once')
    or diag("took $r->{time}s");
sleep 2.1;

# Hanging lookups do not block the event loop of the single worker.
my @hang = map { http_start('/', Authorization => "Bearer $tok") } 1 .. 3;
sleep 0.05;
my $open = timed_get('/open');
is_ok($open, 'during the hang: auth_jwt off location');
cmp_ok($open->{time}, '<', 0.15, 'during the hang: answered at once')
    or diag("took $open->{time}s");
my $nos = timed_get('/nosession', $tok);
is_ok($nos, 'during the hang: auth_jwt_session off location');
cmp_ok($nos->{time}, '<', 0.15, 'during the hang: answered at once');
is(scalar(grep { http_pending($_) } @hang), 3, 'the hanging lookups were still in flight');
for my $i (0 .. $#hang) {
    my $h = http_finish($hang[$i], 5);
    is_rejected($h, 503, 'SESSION_STORE_UNAVAILABLE', "hanging request $i");
    ok($h->{time} >= 0.25 && $h->{time} < $BOUND,
        "hanging request $i: answered after about the timeout")
        or diag("took $h->{time}s");
}

# Clients that disconnect during a hanging lookup leak nothing: the worker
# answers after the timeout as before, and logs no alert.
sleep 2.1;
my @gone = map { http_start('/', Authorization => "Bearer $tok") } 1 .. 3;
sleep 0.05;
close $_->{sock} for @gone;
sleep 0.5;
unavailable(timed_get('/', $tok), 'after clients left during a lookup');
is_ok(timed_get('/open'), 'after clients left during a lookup: auth_jwt off');

no_log_alerts('fake memcached: no alert, crit or emerg');
stop_nginx();
stop_helper($fake);

###############################################################################
# Two servers, consistent hashing.
#
# Which server holds a key is the module's choice (libmemcached's ketama),
# which another client's ketama need not reproduce. So the test learns it
# from nginx: every record is first written to server a only; a key nginx
# then finds (200) hashes to a, a key it does not (LOGGED_OUT) hashes to b.
# Those are moved to b, and then every key must be found. If nginx asked
# only one server, one side would be empty; if its choice were unstable,
# moved keys would be lost.

start_memcached('a');
start_memcached('b');
start_nginx(conf('auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% '
    . '127.0.0.1:%%PORT_mc_b%% timeout=250ms;'));

my @keys = map { "multi-$_-$$" } 1 .. 40;
my $old = now() - 30;
mc_set('a', $_, record(last_access_time => $old, session_idle_timeout => -1))
    for @keys;
my (@on_a, @on_b, @odd);
for my $k (@keys) {
    my $res = http_get_token('/', session_token($k));
    if ($res->{status} == 200) {
        push @on_a, $k;
    } elsif ($res->{status} == 401 && $res->{body} =~ /LOGGED_OUT/) {
        push @on_b, $k;
    } else {
        push @odd, "$k: $res->{status} $res->{body}";
    }
}
is(scalar @odd, 0, 'two servers: every key found or LOGGED_OUT') or diag(join "\n", @odd);
cmp_ok(scalar @on_a, '>=', 4, 'two servers: keys hashed to a (' . @on_a . ')');
cmp_ok(scalar @on_b, '>=', 4, 'two servers: keys hashed to b (' . @on_b . ')');

for my $k (@on_b) {
    mc_delete('a', $k);
    mc_set('b', $k, record(last_access_time => $old, session_idle_timeout => -1));
}
my @lost = grep { http_get_token('/', session_token($_))->{status} != 200 } @keys;
is(scalar @lost, 0, 'two servers: every key found on the server holding it')
    or diag("not found: @lost");
@lost = grep { http_get_token('/', session_token($_))->{status} != 200 } @keys;
is(scalar @lost, 0, 'two servers: the mapping is stable');
is(scalar(grep { (mc_get('b', $_) // '') =~ /"last_access_time":$old\b/ } @on_b), 0,
    'two servers: keys on b were touched on b');
is(scalar(grep { defined mc_meta('a', $_) } @on_b), 0,
    'two servers: no b key written to a');

# One server down: only its keys are unavailable.
stop_memcached('b');
my @a_fail = grep { http_get_token('/', session_token($_))->{status} != 200 } @on_a;
is(scalar @a_fail, 0, 'b down: keys on a still found') or diag("@a_fail");
my @b_res = map { timed_get('/', session_token($_)) } @on_b[0 .. 2];
unavailable($b_res[$_], "b down: key on b ($_)") for 0 .. 2;

start_memcached('b');
mc_set('b', $_, $LIVE) for @on_b;
ok(wait_for(4, sub {
    !grep { http_get_token('/', session_token($_))->{status} != 200 } @on_b[0 .. 2]
}), 'b restarted: its keys found again');

no_log_alerts('two servers: no alert, crit or emerg');

done_testing();
