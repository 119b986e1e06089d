#!/usr/bin/perl

# auth_jwt_key_request when the issuer fails.
#
# Cold start (no key ever fetched): 503 {"status":"KEYS_UNAVAILABLE"}
# within the proxy's timeouts (1 s), never a pass, never a hang; during the
# backoff that follows, 503 at once without a fetch; once the issuer is
# back and the backoff passed, requests pass. $jwt_auth_status is
# KEYS_UNAVAILABLE. A key file beside the failing request still serves.
#
# With good keys held (auth_jwt_key_cache 2s), the issuer then: down
# (connection refused), slow (beyond proxy_read_timeout), 500, 404 (both
# with a JWKS body of another key: a status other than 200 is a failure
# whatever the body), a body that is not a JWKS (HTML, truncated JSON), a
# JWKS over 256 KiB, a JWKS of only unusable keys ("use":"enc"), no keys
# at all, a good key beside a broken one (refused whole, as a key file
# would be), the connection closed without an answer. Under a stream of
# requests, for each: every valid token keeps passing on the old keys, and
# at once; the error log has one "[error] ... auth_jwt: key request "<uri>"
# failed: <reason>" line per failed fetch (not per request); the retries
# back off (1 s, then 2 s, ...; the 60 s cap is not waited for here). Once
# the issuer is good again, its new keys are used.

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
    A => mint(alg => 'RS256', key => 'rsa'),
    B => mint(alg => 'RS256', key => 'rsa2'),
    H => mint(alg => 'HS256', key => 'hmac'),
    # alg none, no signature: never a pass, keys or not
    none => b64u('{"alg":"none","kid":"rsa"}') . '.'
        . b64u(json_encode({ sub => 'alice', exp => now() + 300 })) . '.',
);
write_jwks('hmac.json', qw(hmac));

# The failure modes with keys held: name => issuer settings (down: its
# issuer is stopped).
my %MODES = (
    slow     => [ keys => [qw(rsa2)], delay => 3 ],
    s500     => [ status => 500, keys => [qw(rsa2)] ],
    s404     => [ status => 404, keys => [qw(rsa2)] ],
    html     => [ body => "<html><body><h1>502 Bad Gateway</h1></body></html>\n" ],
    truncated => [ body => substr(jwks_body(qw(rsa2)), 0, 60) ],
    big      => [ body => jwks_of_size(300 * 1024, 'rsa2', 'rsa2') ],
    enc      => [ keys => [ jwk_public('rsa', use => 'enc'),
        jwk_public('rsa2', use => 'enc') ] ],
    empty    => [ body => '{"keys":[]}' ],
    # a good key beside a broken one: refused whole, as auth_jwt_key_file
    # refuses such a file
    badkey   => [ keys => [ 'rsa2', { kty => 'RSA', kid => 'broken', e => 'AQAB',
        n => 'not base64url!' } ] ],
    close    => [ close => 1 ],
);
my @MODES = (sort(keys %MODES), 'down');
cmp_ok(length $MODES{big}[1], '>', 256 * 1024, 'fixture: the big JWKS is over 256 KiB');

my $locations = join '', map { <<"EOF" } sort keys %MODES;
        location /f_$_ {
            auth_jwt "test";
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/f_$_;
            empty_gif;
        }
EOF

start_jwks_server('jwks');
start_jwks_server('down2');
jwks_set('jwks', "/keys/f_$_", keys => [qw(rsa)]) for keys %MODES;
jwks_set('down2', '/keys/f', keys => [qw(rsa)]);
jwks_set('jwks', '/keys/cold_slow', keys => [qw(rsa)], delay => 10);
jwks_set('jwks', '/keys/cold_many', keys => [qw(rsa)], delay => 10);
jwks_set('jwks', '/keys/cold_html', body => '<html>Service Unavailable</html>');

start_nginx(<<"EOF");
    log_format kf '\$uri \$status \$jwt_auth_status';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        access_log %%TESTDIR%%/kf.log kf;

        location /_jwks/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }
        # nothing listens there until the test starts an issuer
        location /_down/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_down%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }
        location /_down2/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_down2%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }

        location /cold_down {
            auth_jwt "test";
            auth_jwt_key_request /_down/cold;
            empty_gif;
        }
        location /cold_slow {
            auth_jwt "test";
            auth_jwt_key_request /_jwks/cold_slow;
            empty_gif;
        }
        location /cold_many {
            auth_jwt "test";
            auth_jwt_key_request /_jwks/cold_many;
            empty_gif;
        }
        location /cold_html {
            auth_jwt "test";
            auth_jwt_key_request /_jwks/cold_html;
            empty_gif;
        }
        location /cold_combo {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/hmac.json;
            auth_jwt_key_request /_down/combo;
            empty_gif;
        }

        location /f_down {
            auth_jwt "test";
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_down2/f;
            empty_gif;
        }
$locations
    }
EOF

my $t_start = time();
my $res;

sub fetches { scalar jwks_fetches('jwks', "/keys/$_[0]", $_[1]) }

# A GET with a token, timed to its last byte.
sub tget { timed_get($_[0], Authorization => "Bearer $tok{ $_[1] }") }

###############################################################################
# Cold start

# The issuer refuses connections.
$res = tget('/cold_down', 'A');
is_rejected($res, 503, 'KEYS_UNAVAILABLE', 'cold start, issuer down');
cmp_ok($res->{time}, '<', slow(3),
    'cold start, issuer down: answered within the timeout');

# During the backoff: 503 at once, no new fetch.
my $quick = 0;
for (1 .. 5) {
    $res = tget('/cold_down', 'A');
    $quick++ if $res->{status} == 503 && $res->{time} < slow(0.3);
}
is($quick, 5, 'issuer down, during the backoff: 503 at once (5 of 5)');
my @fail = key_request_failures('/_down/cold');
is(scalar @fail, 1, 'issuer down: one failure logged for six requests')
    or diag(join "\n", @fail);
like($fail[0] // '', qr/\S/, 'issuer down: the line gives a reason');

$res = tget('/cold_down', 'none');
isnt($res->{status}, 200, 'cold start: an unsigned token does not pass');

# The issuer accepts and does not answer (10 s; proxy_read_timeout 1s).
$res = tget('/cold_slow', 'A');
is_rejected($res, 503, 'KEYS_UNAVAILABLE', 'cold start, issuer slow');
cmp_ok($res->{time}, '<', slow(3),
    'cold start, issuer slow: answered within the timeout');
$quick = 0;
for (1 .. 5) {
    $res = tget('/cold_slow', 'A');
    $quick++ if $res->{status} == 503 && $res->{time} < slow(0.3);
}
is($quick, 5, 'issuer slow, during the backoff: 503 at once (5 of 5)');
is(fetches('cold_slow'), 1, 'issuer slow: one fetch for six requests');
is(scalar(key_request_failures('/_jwks/cold_slow')), 1,
    'issuer slow: one failure logged');

# Concurrent first requests to a slow issuer: one fetch, all 503 in time.
my @h = map { http_start('/cold_many', Authorization => "Bearer $tok{A}") } 1 .. 6;
my @r = map { http_finish($_, 10) } @h;
is(scalar(grep { $_->{status} == 503 && $_->{body} =~ /KEYS_UNAVAILABLE/ } @r), 6,
    'cold start, 6 concurrent requests, issuer slow: six 503 KEYS_UNAVAILABLE')
    or diag(join ', ', map { "$_->{status} $_->{body}" } @r);
my ($slowest) = sort { $b <=> $a } map { $_->{time} } @r;
cmp_ok($slowest, '<', slow(3), '... all within the timeout');
is(fetches('cold_many'), 1, '... on one fetch');

# A 200 that is not a JWKS.
$res = tget('/cold_html', 'A');
is_rejected($res, 503, 'KEYS_UNAVAILABLE', 'cold start, issuer answers HTML');
is(scalar(key_request_failures('/_jwks/cold_html')), 1, 'HTML: one failure logged');

# A key file beside the failing key request still serves.
is_ok(tget('/cold_combo', 'H'), 'cold start, issuer down: the key file still serves');
isnt(tget('/cold_combo', 'A')->{status}, 200,
    'cold start, issuer down: a token of the issuer does not pass');

like(slurp(testdir() . '/kf.log'), qr{^/cold_down 503 KEYS_UNAVAILABLE$}m,
    '$jwt_auth_status is KEYS_UNAVAILABLE');

# The issuers come back: requests pass once the backoff has passed.
my $t_back = time();
start_jwks_server('down');
jwks_set('down', '/keys/cold', keys => [qw(rsa)]);
jwks_set('jwks', "/keys/$_", keys => [qw(rsa)]) for qw(cold_slow cold_many cold_html);
for my $loc (qw(cold_down cold_slow cold_many cold_html)) {
    ok(wait_for(8, sub { tget("/$loc", 'A')->{status} == 200 }),
        "$loc: passes once the issuer is back");
}
my $recovery = time() - $t_back;
cmp_ok($recovery, '<', slow(6), 'cold start: recovered within the backoff (< 6 s)');
is_rejected(tget('/cold_down', 'B'), 401, 'INVALID_TOKEN',
    'after recovery: other keys refused');

###############################################################################
# Failures while keys are held

for my $m (@MODES) {
    is_ok(tget("/f_$m", 'A'), "$m: keys fetched");
}
my $t_good = time();    # every location has fetched by now
my $log_from = length error_log();

my $t_fail = time();
jwks_set('jwks', "/keys/f_$_", @{ $MODES{$_} }) for keys %MODES;
stop_jwks_server('down2');

# A stream of requests over every location, from past the refresh period
# for 8.5 s: time for the retries 1 s, 2 s and 4 s apart.
sleep 0.05 while time() < $t_good + 2.2;
my (%n, %bad, %slow_answers, %worst);
my $t_flood = time();
while (time() < $t_flood + 8.5) {
    for my $m (@MODES) {
        $res = tget("/f_$m", 'A');
        $n{$m}++;
        push @{ $bad{$m} }, "$res->{status} $res->{body}" if $res->{status} != 200;
        $slow_answers{$m}++ if $res->{time} > slow(0.5);
        $worst{$m} = $res->{time} if $res->{time} > ($worst{$m} // 0);
    }
}
my $t_end = time();
sleep 1.3;    # the last fetches finish (proxy_read_timeout 1s)
my $t_count = time();

my %figures;
for my $m (@MODES) {
    my $uri = $m eq 'down' ? '/_down2/f' : "/_jwks/f_$m";
    my @reasons = key_request_failures($uri, $log_from);
    my @f = $m eq 'down' ? () : jwks_fetches('jwks', "/keys/f_$m", $t_fail);
    my @done = grep { $_ < $t_count - 1.2 } @f;
    my @gaps = map { $f[$_] - $f[ $_ - 1 ] } 1 .. $#f;
    $figures{$m} = sprintf '%d requests, %d fetches (gaps %s), %d lines',
        $n{$m}, scalar @f, join('/', map { sprintf '%.2f', $_ } @gaps) || '-',
        scalar @reasons;

    subtest "issuer $m, keys held" => sub {
        cmp_ok($n{$m}, '>=', 50, 'a stream of requests');
        is(scalar @{ $bad{$m} || [] }, 0, 'every valid token passed on the old keys')
            or diag(join "\n", @{ $bad{$m} }[0 .. 4]);
        is($slow_answers{$m} // 0, 0, 'no request waited (all answered < 0.5 s)')
            or diag(sprintf 'worst %.2f s', $worst{$m});
        cmp_ok(scalar @reasons, '>=', 2, 'the failure was logged, and retried');
        cmp_ok(scalar @reasons, '<=', 4,
            "not one line per request (retries back off: 1 s, 2 s, 4 s)");
        unless ($m eq 'down') {
            is(scalar @reasons, scalar @done, 'one line per failed fetch');
            my $k = 0;
            for my $gap (@gaps) {
                my $min = 2 ** $k++ - $EARLY;
                cmp_ok($gap, '>=', $min, "retry $k after at least $min s");
            }
        }
        like($reasons[0] // '', qr/\S/, 'the line gives a reason')
            or diag(join "\n", grep { /key request/ } split /\n/, error_log());
        like($reasons[0] // '', qr/\b500\b/, 'the reason names the status')
            if $m eq 's500';
        like($reasons[0] // '', qr/\b404\b/, 'the reason names the status')
            if $m eq 's404';
        like($reasons[0] // '', qr/large|big|size|long|limit|bytes|KiB|256/i,
            'the reason says the body is too large') if $m eq 'big';
        note("reason: $_") for @reasons;
    };
}
diag('failures with keys held, per mode (8.5 s of requests):');
diag("  $_: $figures{$_}") for @MODES;

# The issuer is good again, with a new key: it is used once the backoff
# has passed.
my $t_fix = time();
jwks_set('jwks', "/keys/f_$_", keys => [qw(rsa rsa2)]) for keys %MODES;
jwks_set('down2', '/keys/f', keys => [qw(rsa rsa2)]);
start_jwks_server('down2');
my %recovered;
wait_for(16, sub {
    for my $m (@MODES) {
        next if $recovered{$m};
        $recovered{$m} = time() - $t_fix if tget("/f_$m", 'B')->{status} == 200;
    }
    return keys %recovered == @MODES;
});
for my $m (@MODES) {
    ok(defined $recovered{$m}, "$m: the issuer's new keys are used once it is good")
        and note(sprintf "$m recovered in %.2f s", $recovered{$m});
    is_ok(tget("/f_$m", 'A'), "$m: and the old key still passes");
}

no_log_alerts_brief();
is(scalar(grep { /exited on signal/ } split /\n/, error_log()), 0, 'no worker died');

diag(sprintf 'key_request_fail.t ran %.1f s', time() - $t_start);

done_testing();
