#!/usr/bin/perl

# auth_jwt_status: a scripted sequence of requests with known outcomes
# through two workers, then the counters, read by prometheus_client's own
# parser (Debian's python3-prometheus-client); the JSON form equal to the
# text; counters continuing after a reload; each memcached error kind
# produced on purpose and counted once; the directives' nginx -t errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;
use SessionTest;

require_module();
system('/usr/bin/python3', '-c', 'import prometheus_client') == 0
    or BAIL_OUT('python3-prometheus-client is required (make deps)');

write_jwks('jwks.json', qw(hmac));

my $CHECK = "$FindBin::Bin/lib/prometheus_check.py";
my $T = testdir();

# status($query, headers...): the samples, as prometheus_check.py prints
# them, in a hash; fails the test on any parse error or JSON difference.
sub status {
    my $text = http_get('/status');
    my $json = http_get('/status?format=json');
    is($text->{headers}{'content-type'}, 'text/plain; version=0.0.4',
        'status: the exposition format');
    is($json->{headers}{'content-type'}, 'application/json',
        'status ?format=json: JSON');
    write_file('status.txt', $text->{body});
    write_file('status.json', $json->{body});
    my $out = qx{/usr/bin/python3 $CHECK $T/status.txt $T/status.json 2>&1};
    is($?, 0, 'parsed by prometheus_client, JSON equal to text')
        or diag($out);
    return { map { /^(\S+) (\S+)$/ ? ($1 => $2) : () } split /\n/, $out };
}

my @CODES = qw(OK TOKEN_MISSING INVALID_TOKEN TOKEN_EXPIRED LOGGED_OUT
    FINGERPRINT_MISMATCH SESSION_IDLE_TIMEOUT INVALID_SESSION FORBIDDEN
    SESSION_STORE_UNAVAILABLE KEYS_UNAVAILABLE);

# decisions_are($samples, { zone => { CODE => n } }, $name): every decision
# counter of the zones named, zero unless given.
sub decisions_are {
    my ($s, $want, $name) = @_;
    my (%got, %exp);
    for my $zone (keys %$want) {
        for my $code (@CODES) {
            my $k = qq{auth_jwt_decisions_total{status="$code",zone="$zone"}};
            $got{"$zone/$code"} = $s->{$k};
            $exp{"$zone/$code"} = $want->{$zone}{$code} // 0;
        }
    }
    is_deeply(\%got, \%exp, $name);
}

start_memcached('a');

my $CONF = <<'EOF';
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location = /status {
            allow 127.0.0.1;
            deny all;
            auth_jwt_status;
        }
        location / {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            empty_gif;
        }
        location /z/ {
            auth_jwt_status_zone api;
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_require $jwt_claim_role error=403;
            empty_gif;
        }
        location /s/ {
            auth_jwt_status_zone sess;
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_session key=$jwt_claim_tokenId
                             fingerprint=$http_x_fp touch=1h;
            empty_gif;
        }
        location /k/ {
            auth_jwt_status_zone keys;
            auth_jwt "test";
            auth_jwt_key_request /_down/;
            empty_gif;
        }
        location /_down/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_down%%/keys/;
            proxy_connect_timeout 1s;
        }
    }
EOF

start_nginx($CONF, workers => 2);

my $now = now();
my $good = mint(claims => { sub => 'alice', exp => $now + 600 });
my $role = mint(claims => { sub => 'alice', exp => $now + 600, role => 'a' });
my $expired = mint(claims => { sub => 'alice', exp => $now - 600 });

mc_set('a', 'live', record(last_access_time => $now,
    session_idle_timeout => -1, fingerprint => 'f1'));
mc_set('a', 'idle', record(last_access_time => $now - 100,
    session_idle_timeout => 10));
mc_set('a', 'bad', 'not a record');
# Last written 2 h ago, no idle check: touch=1h is due, a cas is sent.
mc_set('a', 'stale', record(last_access_time => $now - 7200,
    session_idle_timeout => -1));

is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no token');
is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no token again');
is_rejected(http_get_token('/', 'a.b.c'), 401, 'INVALID_TOKEN', 'garbage');
is_rejected(http_get_token('/', $expired), 401, 'TOKEN_EXPIRED', 'expired');
is_ok(http_get_token('/', $good), "OK $_") for 1 .. 3;

is_ok(http_get_token('/z/', $role), 'zone api: OK');
is_rejected(http_get_token('/z/', $good), 403, 'FORBIDDEN', 'zone api: 403');

is_ok(http_get_token('/s/', session_token('live'), 'X-FP' => 'f1'),
    'session OK');
is_ok(http_get_token('/s/', session_token('stale')), 'session OK, touched');
is_rejected(http_get_token('/s/', session_token('gone'), 'X-FP' => 'f1'),
    401, 'LOGGED_OUT', 'no record');
is_rejected(http_get_token('/s/', session_token('live'), 'X-FP' => 'f2'),
    401, 'FINGERPRINT_MISMATCH', 'another fingerprint');
is_rejected(http_get_token('/s/', session_token('idle')), 401,
    'SESSION_IDLE_TIMEOUT', 'idle');
is_rejected(http_get_token('/s/', session_token('bad')), 401,
    'INVALID_SESSION', 'not a record');

is_rejected(http_get_token('/k/', $good), 503, 'KEYS_UNAVAILABLE',
    'the issuer is down');

my $s = status();

decisions_are($s, {
    ''   => { TOKEN_MISSING => 2, INVALID_TOKEN => 1, TOKEN_EXPIRED => 1,
              OK => 3 },
    api  => { OK => 1, FORBIDDEN => 1 },
    sess => { OK => 2, LOGGED_OUT => 1, FINGERPRINT_MISMATCH => 1,
              SESSION_IDLE_TIMEOUT => 1, INVALID_SESSION => 1 },
    keys => { KEYS_UNAVAILABLE => 1 },
}, 'every decision counted once, in its zone');

my $mc = '127.0.0.1:' . memcached_port('a');
is($s->{qq{auth_jwt_memcached_lookups_total{server="$mc"}}}, 6,
    'memcached: 6 lookups');
is($s->{qq{auth_jwt_memcached_touches_total{server="$mc"}}}, 1,
    'memcached: 1 touch (the stale record)');
is($s->{qq{auth_jwt_memcached_cas_conflicts_total{server="$mc"}}}, 0,
    'memcached: no cas conflict');
is($s->{qq{auth_jwt_memcached_lookup_duration_seconds_count{server="$mc"}}},
    6, 'memcached: 6 lookups timed');
is($s->{qq{auth_jwt_memcached_lookup_duration_seconds_bucket{le="+Inf",server="$mc"}}},
    6, 'memcached: +Inf bucket = count');
is($s->{qq{auth_jwt_memcached_errors_total{kind="$_",server="$mc"}}}, 0,
    "memcached: no $_ error") for qw(refused reset timeout unreadable local);
cmp_ok($s->{qq{auth_jwt_memcached_connections_open{server="$mc"}}}, '>=', 1,
    'memcached: a connection kept open');
is($s->{qq{auth_jwt_memcached_connections_open{server="$mc"}}},
    $s->{qq{auth_jwt_memcached_connections_idle{server="$mc"}}},
    'memcached: every open connection idle between requests');

# every token presented where the cache is on was looked up once: 13
is($s->{'auth_jwt_token_cache_hits_total{}'}
    + $s->{'auth_jwt_token_cache_misses_total{}'}, 13,
    'token cache: one lookup per token presented');
cmp_ok($s->{'auth_jwt_token_cache_entries{}'}, '>=', 1,
    'token cache: entries kept');
is($s->{'auth_jwt_key_fetches_total{outcome="failed"}'}, 1,
    'key fetches: one failed');
is($s->{'auth_jwt_key_fetches_total{outcome="ok"}'}, 0, 'key fetches: none ok');

my $accept = http_get('/status', Accept => 'text/html, application/json');
is($accept->{headers}{'content-type'}, 'application/json',
    'Accept: application/json gives JSON');

# A reload: the zone is the same; the new workers count on.

my ($rc, $out) = reload_nginx();
is($rc, 0, 'reload') or diag($out);
wait_for(10, sub { http_get('/')->{status} == 401 });
sleep 1;
$s = status();
my $missing = $s->{q{auth_jwt_decisions_total{status="TOKEN_MISSING",zone=""}}};
cmp_ok($missing, '>=', 3, 'after a reload, the counters continue');
is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no token after reload');
$s = status();
is($s->{q{auth_jwt_decisions_total{status="TOKEN_MISSING",zone=""}}},
    $missing + 1, 'and count on');
is($s->{q{auth_jwt_decisions_total{status="OK",zone="api"}}}, 1,
    'a zone keeps its counters across the reload');

# Refused: the server stopped.

stop_memcached('a');
is_rejected(http_get_token('/s/', session_token('live'), 'X-FP' => 'f1'),
    503, 'SESSION_STORE_UNAVAILABLE', 'memcached stopped');
$s = status();
is($s->{qq{auth_jwt_memcached_errors_total{kind="refused",server="$mc"}}}, 1,
    'refused: counted once');
is($s->{qq{auth_jwt_memcached_trips_total{server="$mc"}}}, 1,
    'refused: the server marked down once');
is($s->{q{auth_jwt_decisions_total{status="SESSION_STORE_UNAVAILABLE",zone="sess"}}},
    1, 'SESSION_STORE_UNAVAILABLE counted');
stop_nginx();

# Timeout and unreadable, each on a fresh nginx (a restart resets).

sub one_error {
    my ($kind, $helper) = @_;
    start_nginx(<<'EOF', workers => 2);
    auth_jwt_memcached 127.0.0.1:%%PORT_fake%% timeout=300ms;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location = /status { auth_jwt_status; }
        location /s/ {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            auth_jwt_session key=$jwt_claim_tokenId;
            empty_gif;
        }
    }
EOF
    is_rejected(http_get_token('/s/', session_token('x')), 503,
        'SESSION_STORE_UNAVAILABLE', "$kind: fails closed");
    my $s = status();
    my $fake = '127.0.0.1:' . port('fake');
    for my $k (qw(refused reset timeout unreadable local)) {
        is($s->{qq{auth_jwt_memcached_errors_total{kind="$k",server="$fake"}}},
            $k eq $kind ? 1 : 0, "$kind: $k errors");
    }
    stop_nginx();
    stop_helper($helper);
}

one_error('timeout', start_fake_memcached(port('fake'), 30));
one_error('unreadable',
    start_scripted_memcached(port('fake'), sub { "HELLO\r\n" }, undef));
like(error_log(), qr/unexpected reply from memcached: "HELLO%0D%0A"/,
    'the unexpected reply is named, escaped');

# nginx -t

($rc, $out) = nginx_t(<<'EOF');
    server { location = /s { auth_jwt_status on; } }
EOF
isnt($rc, 0, 'auth_jwt_status takes no argument');
like($out, qr/invalid number of arguments in "auth_jwt_status"/,
    'auth_jwt_status on: the message');

($rc, $out) = nginx_t(<<'EOF');
    server { auth_jwt_status; }
EOF
isnt($rc, 0, 'auth_jwt_status in a server');
like($out, qr/"auth_jwt_status" directive is not allowed here/,
    'auth_jwt_status in a server: the message');

my $zones = join '', map { "location /l$_ { auth_jwt_status_zone z$_; }\n" }
    1 .. 33;
($rc, $out) = nginx_t("server { $zones }");
isnt($rc, 0, '33 zones');
like($out, qr/too many auth_jwt_status_zone names: at most 32/,
    '33 zones: the message');

$zones = join '', map { "location /l$_ { auth_jwt_status_zone z$_; }\n" }
    1 .. 32;
($rc, $out) = nginx_t("server { $zones location = /s { auth_jwt_status; } }");
is($rc, 0, '32 zones are fine') or diag($out);

($rc, $out) = nginx_t('server { auth_jwt_status_zone "a b"; }');
like($out, qr/invalid zone name "a b"/, 'a zone name that needs escaping');

unlike(error_log(), qr/\[alert\]|\[emerg\]|exited on signal/,
    'no alert or crash');

done_testing();
