#!/usr/bin/perl

# auth_jwt_session against a real memcached: every status in the contract's
# order, the idle timeout, the touch (last_access_time moved, every other
# byte and the entry's expiry and flags kept, coalesced per touch interval
# or half the idle timeout, whichever is sooner),
# key composition, the fingerprint from the article's FINGER-PRINT header,
# inheritance and `off`, and no session check where auth_jwt is off.
# Records are written and read with Cache::Memcached::Fast and memcached's
# meta commands, as an auth server would see them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId fingerprint=$http_finger_print;
        add_header X-Auth-Status $jwt_auth_status always;

        location / { empty_gif; }

        location /touch0 {
            auth_jwt_session key=$jwt_claim_tokenId
                             fingerprint=$http_finger_print touch=0;
            empty_gif;
        }
        location /touch5 {
            auth_jwt_session key=$jwt_claim_tokenId
                             fingerprint=$http_finger_print touch=5s;
            empty_gif;
        }
        location /touch1h {
            auth_jwt_session key=$jwt_claim_tokenId touch=1h;
            empty_gif;
        }
        location /prefix {
            auth_jwt_session key=session:$jwt_claim_tokenId;
            empty_gif;
        }
        location /nofp {
            auth_jwt_session key=$jwt_claim_tokenId touch=0;
            empty_gif;
        }
        location /outer {
            empty_gif;
            location /outer/off {
                auth_jwt_session off;
                empty_gif;
            }
        }
        location /offlevel {
            auth_jwt_session off;
            empty_gif;
            location /offlevel/on {
                auth_jwt_session key=$jwt_claim_tokenId;
                empty_gif;
            }
        }
        location /open {
            auth_jwt off;
            empty_gif;
        }
        location /admin {
            auth_jwt_require $jwt_claim_admin;
            empty_gif;
        }
        location /admin403 {
            auth_jwt_require $jwt_claim_admin error=403;
            empty_gif;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt "other";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        location / { empty_gif; }
    }
EOF

my $now = now();
my $n = 0;

# A fresh session: a new tokenId, its record written (exptime 0 unless
# given); returns (token, key).
sub session {
    my ($json, %o) = @_;
    my $tid = $o{tid} // 'tid-' . ++$n . "-$$";
    mc_set('a', ($o{prefix} // '') . $tid, $json, $o{exptime} // 0)
        if defined $json;
    return (session_token($tid), ($o{prefix} // '') . $tid);
}

sub get { my ($path, $tok, @h) = @_; http_get_token($path, $tok, @h) }

###############################################################################
# Statuses

my $fresh = record(fingerprint => 'fp-1', last_access_time => $now,
    session_idle_timeout => 1800, expires_at => $now + 3600);

my ($tok, $key) = session($fresh, exptime => $now + 3600);
my $res = get('/', $tok, 'FINGER-PRINT' => 'fp-1');
is_ok($res, 'live session, matching fingerprint');
is($res->{headers}{'x-auth-status'}, 'OK', '$jwt_auth_status OK');

($tok) = session(undef);
$res = get('/', $tok, 'FINGER-PRINT' => 'fp-1');
is_rejected($res, 401, 'LOGGED_OUT', 'no record');
is($res->{headers}{'x-auth-status'}, 'LOGGED_OUT', '$jwt_auth_status LOGGED_OUT');

# Logout: the auth server deletes the key.
($tok, $key) = session($fresh);
is_ok(get('/', $tok, 'FINGER-PRINT' => 'fp-1'), 'before logout');
ok(mc_delete('a', $key), 'auth server deletes the session');
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-1'), 401, 'LOGGED_OUT',
    'after logout');
ok(!defined mc_meta('a', $key), 'a rejected request does not recreate the key');

# expires_at passed (the entry itself has no memcached expiry).
($tok) = session(record(fingerprint => 'fp-1', last_access_time => $now,
    session_idle_timeout => -1, expires_at => $now - 5));
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-1'), 401, 'LOGGED_OUT',
    'expires_at passed');
($tok) = session(record(last_access_time => $now, session_idle_timeout => -1,
    expires_at => $now + 60));
is_ok(get('/nofp', $tok), 'expires_at ahead');

# Fingerprint.
($tok) = session($fresh);
is_ok(get('/', $tok, 'FINGER-PRINT' => 'fp-1'), 'FINGER-PRINT matches');
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-2'), 401,
    'FINGERPRINT_MISMATCH', 'other fingerprint');
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-'), 401,
    'FINGERPRINT_MISMATCH', 'fingerprint a prefix of the record\'s');
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-12'), 401,
    'FINGERPRINT_MISMATCH', 'fingerprint extending the record\'s');
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'FP-1'), 401,
    'FINGERPRINT_MISMATCH', 'fingerprint compared case-sensitively');
$res = get('/', $tok);
is_rejected($res, 401, 'FINGERPRINT_MISMATCH', 'no fingerprint, record has one');
is($res->{headers}{'x-auth-status'}, 'FINGERPRINT_MISMATCH',
    '$jwt_auth_status FINGERPRINT_MISMATCH');
is_rejected(get('/', $tok, 'FINGER-PRINT' => ''), 401,
    'FINGERPRINT_MISMATCH', 'empty fingerprint, record has one');
is_rejected(get('/nofp', $tok), 401, 'FINGERPRINT_MISMATCH',
    'no fingerprint= configured, record has one');

my $nofp = record(last_access_time => $now, session_idle_timeout => 1800);
($tok) = session($nofp);
is_ok(get('/', $tok, 'FINGER-PRINT' => 'anything'),
    'record without fingerprint: any request fingerprint');
is_ok(get('/', $tok), 'record without fingerprint: none in the request');

# Unreadable records.
my %invalid = (
    'not JSON'                      => 'not json at all',
    'truncated JSON'                => substr($fresh, 0, -3),
    'JSON array'                    => '[1,2,3]',
    'JSON string'                   => '"session"',
    'empty value'                   => '',
    'no last_access_time'           => record(session_idle_timeout => 60),
    'no session_idle_timeout'       => record(last_access_time => $now),
    'last_access_time a string'     => record(last_access_time => \qq{"$now"},
        session_idle_timeout => 60),
    'last_access_time a fraction'   => record(last_access_time => \"$now.5",
        session_idle_timeout => 60),
    'last_access_time null'         => record(last_access_time => undef,
        session_idle_timeout => 60),
    'session_idle_timeout a string' => record(last_access_time => $now,
        session_idle_timeout => \'"60"'),
    'session_idle_timeout true'     => record(last_access_time => $now,
        session_idle_timeout => \'true'),
    'fingerprint a number'          => record(fingerprint => 42,
        last_access_time => $now, session_idle_timeout => 60),
    'expires_at a string'           => record(last_access_time => $now,
        session_idle_timeout => 60, expires_at => \qq{"@{[$now + 60]}"}),
);
my %invalid_keys;
for my $what (sort keys %invalid) {
    ($tok, $key) = session($invalid{$what});
    $invalid_keys{$key} = $what;
    $res = get('/', $tok, 'FINGER-PRINT' => 'fp-1');
    is_rejected($res, 401, 'INVALID_SESSION', "record: $what");
}
is($res->{headers}{'x-auth-status'}, 'INVALID_SESSION',
    '$jwt_auth_status INVALID_SESSION');
my @err = grep { /\[error\]/ } split /\n/, error_log();
for my $k (sort keys %invalid_keys) {
    ok((grep { /\Q$k\E/ } @err),
        "INVALID_SESSION logged at [error] with the key ($invalid_keys{$k})");
}

# The order of the checks.
($tok) = session(record(fingerprint => 'fp-1', last_access_time => $now - 100,
    session_idle_timeout => 10, expires_at => $now - 1));
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-2'), 401, 'LOGGED_OUT',
    'order: expires_at before fingerprint and idle');
($tok) = session(record(fingerprint => 'fp-1', last_access_time => $now - 100,
    session_idle_timeout => 10));
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-2'), 401,
    'FINGERPRINT_MISMATCH', 'order: fingerprint before idle');
($tok) = session(record(fingerprint => 'fp-1', last_access_time => $now));
is_rejected(get('/', $tok, 'FINGER-PRINT' => 'fp-2'), 401,
    'INVALID_SESSION', 'order: unreadable before fingerprint');

# The JWT checks come first: no store lookup decides for a bad token.
is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no token');
is_rejected(get('/', 'x.y.z'), 401, 'INVALID_TOKEN', 'malformed token');
is_rejected(get('/', session_token('tid-x', exp => $now - 60)), 401,
    'TOKEN_EXPIRED', 'expired token without a session');
($tok) = session($nofp);
is_rejected(get('/admin', $tok), 401, 'INVALID_TOKEN',
    'auth_jwt_require fails (error=401) before the session check');
is_rejected(get('/admin403', $tok), 403, 'FORBIDDEN',
    'auth_jwt_require fails (error=403) before the session check');
my $admin_tid = 'tid-admin-' . $$;
my $admin_tok = session_token($admin_tid, admin => JSON::PP::true());
is_rejected(get('/admin', $admin_tok), 401, 'LOGGED_OUT',
    'auth_jwt_require passes, then the session check runs');
mc_set('a', $admin_tid, $nofp);
is_ok(get('/admin', $admin_tok), 'auth_jwt_require passes, session live');

###############################################################################
# Keys

my $long = 'k' x 250;
mc_set('a', $long, $nofp);
is_ok(get('/', session_token($long)), 'a 250-byte key');
is_rejected(get('/', session_token('k' x 251)), 401, 'INVALID_TOKEN',
    'a 251-byte key');
is_rejected(get('/', session_token(undef)), 401, 'INVALID_TOKEN',
    'no tokenId claim: empty key');
is_rejected(get('/', session_token('')), 401, 'INVALID_TOKEN',
    'empty tokenId: empty key');
mc_set('a', 'victim', $nofp);
is_rejected(get('/', session_token('a b')), 401, 'INVALID_TOKEN',
    'key with a space');
is_rejected(get('/', session_token("a\tb")), 401, 'INVALID_TOKEN',
    'key with a tab');
is_rejected(get('/', session_token("x\r\ndelete victim")), 401,
    'INVALID_TOKEN', 'key with CR LF and a command');
is_rejected(get('/', session_token("x\r\nflush_all")), 401,
    'INVALID_TOKEN', 'key with CR LF flush_all');
ok(defined mc_meta('a', 'victim'), 'no command injected into memcached');

# key=session:$jwt_claim_tokenId
($tok, $key) = session($nofp, prefix => 'session:');
is_ok(get('/prefix', $tok), 'key=session:$jwt_claim_tokenId finds session:<tid>');
is_rejected(get('/', $tok), 401, 'LOGGED_OUT',
    'key=$jwt_claim_tokenId does not find session:<tid>');
my ($tok2, $key2) = session($nofp);
is_rejected(get('/prefix', $tok2), 401, 'LOGGED_OUT',
    'key=session:... does not find the bare <tid>');

###############################################################################
# Where the check runs

($tok) = session(undef);    # no record: a session check would say LOGGED_OUT
is_ok(get('/outer/off', $tok), 'auth_jwt_session off in a nested location');
is_rejected(get('/outer', $tok), 401, 'LOGGED_OUT',
    'inherited from server into /outer');
is_ok(get('/offlevel', $tok), 'auth_jwt_session off at location level');
is_rejected(get('/offlevel/on', $tok), 401, 'LOGGED_OUT',
    'nested location turns it on again');
is_rejected(get('/offlevel/on', 'x.y.z'), 401, 'INVALID_TOKEN',
    'nested location still checks the JWT');
is_ok(get('/open', $tok), 'auth_jwt off: no session check');
is_ok(http_get('/open'), 'auth_jwt off, no token: no session check');
is_ok(http_request(path => '/', port => 8081,
    headers => [ Authorization => "Bearer $tok" ]),
    'server without auth_jwt_session: no session check');

###############################################################################
# Idle timeout

($tok) = session(record(last_access_time => $now - 10,
    session_idle_timeout => 5));
$res = get('/', $tok);
is_rejected($res, 401, 'SESSION_IDLE_TIMEOUT', 'idle 10s > 5s');
is($res->{headers}{'x-auth-status'}, 'SESSION_IDLE_TIMEOUT',
    '$jwt_auth_status SESSION_IDLE_TIMEOUT');
($tok) = session(record(last_access_time => $now - 1, session_idle_timeout => 0));
is_rejected(get('/', $tok), 401, 'SESSION_IDLE_TIMEOUT',
    'session_idle_timeout 0: any idle second times out');
($tok) = session(record(last_access_time => $now - 2,
    session_idle_timeout => 30));
is_ok(get('/', $tok), 'idle 2s < 30s');
($tok) = session(record(last_access_time => $now - 10 ** 8,
    session_idle_timeout => -1));
is_ok(get('/', $tok), 'session_idle_timeout -1: idle check off');
($tok) = session(record(last_access_time => 0, session_idle_timeout => -1));
is_ok(get('/', $tok), 'session_idle_timeout -1, last_access_time 0');
($tok) = session(record(last_access_time => $now + 100,
    session_idle_timeout => 5));
is_ok(get('/', $tok), 'last_access_time in the future is not idle');

# Exactly at the limit: now - last_access_time == timeout is not idle.
my $t = second_start();
($tok) = session(record(last_access_time => $t - 3, session_idle_timeout => 3));
is_ok(get('/', $tok), 'idle exactly session_idle_timeout: still live');
$t = second_start();
($tok) = session(record(last_access_time => $t - 4, session_idle_timeout => 3));
is_rejected(get('/', $tok), 401, 'SESSION_IDLE_TIMEOUT',
    'idle session_idle_timeout + 1: timed out');

# Idle is counted from the last touch: a session used within its timeout
# stays live past the timeout counted from its original last_access_time.
($tok, $key) = session(record(last_access_time => now() - 3,
    session_idle_timeout => 4));
is_ok(get('/', $tok), 'idle 3s of 4s');
sleep 2.1;
is_ok(get('/', $tok), 'touched: live 5s after the original last access');
($tok) = session(record(last_access_time => now() - 3,
    session_idle_timeout => 4));
my $tok_untouched = $tok;

# A session used with idle timeout 1 and touch=0 times out after 2s unused.
($tok, $key) = session(record(last_access_time => now(),
    session_idle_timeout => 1));
is_ok(get('/touch0', $tok), 'idle timeout 1: used now');
sleep 2.2;
is_rejected(get('/touch0', $tok), 401, 'SESSION_IDLE_TIMEOUT',
    'idle timeout 1: unused for 2.2s');
is_rejected(get('/', $tok_untouched), 401, 'SESSION_IDLE_TIMEOUT',
    'untouched session (3s + 2s idle of 4s) timed out');

###############################################################################
# The touch

# Every byte but the top-level last_access_time's digits is kept: odd
# spacing, member order, nested and quoted look-alikes, escapes, UTF-8.
my $exp = now() + 500;
my $before_lat = now() - 50;
my $odd = qq({ "user" : "alice\\"x",\t"meta":{"last_access_time":1},)
    . qq("note":"\\"last_access_time\\":2","fingerprint" :"fp-1",)
    . qq( "last_access_time" : $before_lat ,"session_idle_timeout":-1,)
    . qq("expires_at":$exp,"roles":["a","b"],"z":"\xc3\xa9\\u00e9",)
    . qq("n":1.5e3,"t":true,"nul":null }\n);
($tok, $key) = session($odd, exptime => $exp);
my $m0 = mc_meta('a', $key);
my $t0 = now();
is_ok(get('/', $tok, 'FINGER-PRINT' => 'fp-1'), 'touch: request accepted');
my $t1 = now();
my $m1 = mc_meta('a', $key);
my ($pre, $post) = split /\Q$before_lat\E/, $odd, 2;
my ($new) = $m1->{value} =~ /^\Q$pre\E(\d+)\Q$post\E\z/;
ok(defined $new, 'touch: every byte but last_access_time kept')
    or diag("before: $odd\nafter:  $m1->{value}");
ok(defined $new && $new >= $t0 && $new <= $t1,
    'touch: last_access_time set to now') or diag("got " . ($new // 'none'));
cmp_ok($m1->{cas}, '!=', $m0->{cas}, 'touch: the entry was rewritten');
# (memcached's clock ticks once a second: a TTL may read one more.)
my $want_ttl = $exp - now();
ok($m1->{ttl} >= $want_ttl - 2 && $m1->{ttl} <= $want_ttl + 1
    && abs($m1->{ttl} - $m0->{ttl}) <= 2, 'touch: memcached expiry kept')
    or diag("ttl before $m0->{ttl}, after $m1->{ttl}, expires_at in $want_ttl s");
is($m1->{flags}, 0, 'touch: item flags kept');
is(mc_get('a', $key), $m1->{value}, 'touched record readable by the auth server');

# No expires_at and no memcached expiry: none after the touch.
($tok, $key) = session(record(last_access_time => now() - 50,
    session_idle_timeout => -1, data => 'x' x 3000));
is_ok(get('/nofp', $tok), 'touch: record without expires_at');
$m1 = mc_meta('a', $key);
is($m1->{ttl}, -1, 'touch: no expiry without expires_at');
like($m1->{value}, qr/"last_access_time":(\d+)/, 'touched');
cmp_ok(($m1->{value} =~ /"last_access_time":(\d+)/)[0], '>=', now() - 1,
    'touch: 3 KB record updated');

# A record whose new last_access_time has more digits than the old.
($tok, $key) = session(record(last_access_time => 7,
    session_idle_timeout => -1, tail => 'end'));
is_ok(get('/nofp', $tok), 'touch: one-digit last_access_time');
like(mc_get('a', $key), qr/^\{"last_access_time":\d{10},"session_idle_timeout":-1,"tail":"end"\}\z/,
    'touch: the record grows by the digits, and only them');

# Rejections write nothing.
($tok, $key) = session(record(fingerprint => 'fp-1',
    last_access_time => now() - 50, session_idle_timeout => -1));
$m0 = mc_meta('a', $key);
get('/touch0', $tok, 'FINGER-PRINT' => 'bad');
get('/touch0', $tok);
is(mc_meta('a', $key)->{cas}, $m0->{cas}, 'FINGERPRINT_MISMATCH writes nothing');
($tok, $key) = session(record(last_access_time => now() - 50,
    session_idle_timeout => 10));
$m0 = mc_meta('a', $key);
get('/touch0', $tok);
is(mc_meta('a', $key)->{cas}, $m0->{cas}, 'SESSION_IDLE_TIMEOUT writes nothing');

# Coalescing, observed through the entry's CAS unique (a write changes it
# even when the value does not).
sub cas_changes {
    my ($path, $tok, $count, @h) = @_;
    my ($changes, $last) = (0, mc_meta('a', $key)->{cas});
    for (1 .. $count) {
        get($path, $tok, @h);
        my $cas = mc_meta('a', $key)->{cas};
        $changes++ if $cas != $last;
        $last = $cas;
    }
    return $changes;
}

# touch=0: every request writes.
($tok, $key) = session(record(last_access_time => now(),
    session_idle_timeout => -1));
is(cas_changes('/touch0', $tok, 5, 'FINGER-PRINT' => 'x'), 5,
    'touch=0: each of 5 requests writes');

# touch=1s (the default): within one second, no write; after a second, one.
$t = second_start();
($tok, $key) = session(record(last_access_time => $t,
    session_idle_timeout => -1));
is(cas_changes('/', $tok, 5), 0, 'touch=1s: 5 requests in the same second write nothing');
sleep 1.1;
$m0 = mc_meta('a', $key);
is(cas_changes('/', $tok, 1), 1, 'touch=1s: a request a second later writes');
is(cas_changes('/', $tok, 4), 0, 'touch=1s: the next ones within the second do not')
    or diag('(may flake only if the 4 requests straddled a second boundary)');
like(mc_get('a', $key), qr/"last_access_time":(\d+)/, 'record still there');

# touch=5s: 3 s idle writes nothing; 6 s idle writes once.
($tok, $key) = session(record(last_access_time => now() - 3,
    session_idle_timeout => -1));
is(cas_changes('/touch5', $tok, 3), 0, 'touch=5s: 3s since the last touch: no write');
($tok, $key) = session(record(last_access_time => now() - 6,
    session_idle_timeout => -1));
is(cas_changes('/touch5', $tok, 4), 1, 'touch=5s: 6s since the last touch: one write');
cmp_ok((mc_get('a', $key) =~ /"last_access_time":(\d+)/)[0], '>=', now() - 1,
    'touch=5s: last_access_time moved');

# touch=1h with an idle timeout of 4 s: a touch is due once half the idle
# timeout has passed, so an active session never goes idle.
$t = second_start();
($tok, $key) = session(record(last_access_time => $t - 2,
    session_idle_timeout => 4));
is(cas_changes('/touch1h', $tok, 1), 1, 'touch=1h, idle 4s: 2s since the last touch: a write');
cmp_ok((mc_get('a', $key) =~ /"last_access_time":(\d+)/)[0], '>=', $t,
    'touch=1h, idle 4s: last_access_time moved');
$t = second_start();
($tok, $key) = session(record(last_access_time => $t - 1,
    session_idle_timeout => 4));
is(cas_changes('/touch1h', $tok, 3), 0, 'touch=1h, idle 4s: 1s since the last touch: no write')
    or diag('(may flake only if the requests straddled a second boundary)');
($tok, $key) = session(record(last_access_time => now() - 1000,
    session_idle_timeout => -1));
is(cas_changes('/touch1h', $tok, 3), 0, 'touch=1h, idle check off: only the interval counts');

# An active user, a request a second for 10 s with touch=1h and an idle
# timeout of 4 s, is never logged out, and not written every request.
($tok, $key) = session(record(last_access_time => now(),
    session_idle_timeout => 4));
my (@refused, $writes);
my $last_cas = mc_meta('a', $key)->{cas};
for my $i (1 .. 10) {
    sleep 1;
    my $r = get('/touch1h', $tok);
    push @refused, "request $i: $r->{status} $r->{body}" if $r->{status} != 200;
    my $cas = mc_meta('a', $key)->{cas};
    $writes++ if $cas != $last_cas;
    $last_cas = $cas;
}
is(scalar @refused, 0, 'touch=1h, idle 4s: an active user stays logged in for 10s')
    or diag(join "\n", @refused);
ok($writes >= 3 && $writes <= 6, 'touch=1h, idle 4s: a write about every 2s')
    or diag("$writes writes in 10 requests");

###############################################################################

my $admin_sig = (split /\./, $admin_tok)[2];
ok(index(error_log(), $admin_sig) < 0, 'no token signature in the error log');
no_log_alerts();

done_testing();
