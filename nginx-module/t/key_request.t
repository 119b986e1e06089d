#!/usr/bin/perl

# auth_jwt_key_request and auth_jwt_key_cache: keys fetched from the issuer
# by a subrequest (typically an internal location that proxy_passes to the
# issuer's jwks_uri), one nginx worker, the issuer a small controllable
# HTTP server (JWKSServer.pm). Covered here:
#   - nginx -t: contexts, several per level, variables, the directives'
#     argument errors;
#   - keys from the body (a JWKS, the key file's rules: key types, "use",
#     realistic and large sizes); auth_jwt_key_file combined at one level;
#     several key requests at one level; inheritance; limit_except;
#     variables in the uri (each evaluated uri its own keys);
#   - the subrequest is a GET carrying none of the client's headers (nor
#     its body);
#   - the refresh period: Cache-Control max-age clamped to [5s, 24h]
#     when auth_jwt_key_cache is unset, an explicit time regardless of
#     max-age, 0 = one fetch per request;
#   - the first requests wait on one fetch; stale-while-revalidate; an
#     unknown kid refetches (at most once per 10 s) and the request waits
#     for it; the token cache drops a token whose key left the set;
#   - nginx -s reload.
# Failures of the issuer: key_request_fail.t. Two workers and load:
# key_request_load.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest qw(http_start http_finish keepalive_open keepalive_get);
use JWKSServer;

require_module();

# How early a refresh or a retry may come, in seconds: nginx's millisecond
# clock (ngx_current_msec) allows a few ms; a clock of whole seconds
# (ngx_time()) would come up to a second early, which these tests count as
# a failure (a 2 s period refreshed after 1.1 s is two fetches in one).
my $EARLY = 0.1;

my ($rc, $out);

###############################################################################
# nginx -t

# A configuration around $text (server-level lines); the issuer need not
# run for nginx -t.
sub conf {
    my ($text, $http) = @_;
    return <<"EOF";
    @{[ $http // '' ]}
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location /_jwks/ {
            internal;
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
        }
        $text
    }
EOF
}

sub accepts {
    my ($conf, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = nginx_t($conf);
    is($rc, 0, "nginx -t accepts $name") or diag($out);
}

sub refuses {
    my ($conf, $re, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = nginx_t($conf);
    isnt($rc, 0, "nginx -t refuses $name");
    like($out, $re, "$name: the message names the directive") or diag($out);
}

accepts(conf('auth_jwt "t"; auth_jwt_key_request /_jwks/a;
        location / { empty_gif; }'),
    'auth_jwt with only auth_jwt_key_request (no key file), server level');
accepts(conf('location / { auth_jwt "t"; auth_jwt_key_request /_jwks/a;
        empty_gif; }'), 'auth_jwt_key_request in a location');
accepts(conf('auth_jwt "t"; location / { empty_gif; }',
        'auth_jwt_key_request /_jwks/a; auth_jwt_key_cache 10m;'),
    'auth_jwt_key_request and auth_jwt_key_cache at http level');
accepts(conf('location / { auth_jwt "t"; auth_jwt_key_request /_jwks/a;
        auth_jwt_key_request /_jwks/b; auth_jwt_key_request /_jwks/c;
        empty_gif; }'), 'several auth_jwt_key_request at one level');
accepts(conf('location / { auth_jwt "t"; auth_jwt_key_request /_jwks/$host/$arg_t;
        empty_gif; }'), 'variables in the uri');
accepts(conf('location / { auth_jwt off; limit_except GET { auth_jwt "w";
        auth_jwt_key_request /_jwks/a; } empty_gif; }'),
    'auth_jwt_key_request in limit_except');
accepts(conf('auth_jwt_key_cache 0; location / { auth_jwt "t";
        auth_jwt_key_cache 2s; auth_jwt_key_request /_jwks/a; empty_gif; }
        location /b { auth_jwt "t"; auth_jwt_key_cache 1h;
        auth_jwt_key_request /_jwks/a; empty_gif; }'),
    'auth_jwt_key_cache at server and location level (0, 2s, 1h)');
write_jwks('hmac.json', qw(hmac));
accepts(conf('location / { auth_jwt "t"; auth_jwt_key_file %%TESTDIR%%/hmac.json;
        auth_jwt_key_request /_jwks/a; empty_gif; }'),
    'auth_jwt_key_file and auth_jwt_key_request at one level');

refuses(conf('location / { auth_jwt "t"; auth_jwt_key_request; empty_gif; }'),
    qr/auth_jwt_key_request/, 'auth_jwt_key_request without an argument');
refuses(conf('location / { auth_jwt "t"; auth_jwt_key_request /_jwks/a jwks extra;
        empty_gif; }'), qr/auth_jwt_key_request/,
    'auth_jwt_key_request with three arguments');
refuses(conf('location / { auth_jwt "t"; auth_jwt_key_request /_jwks/a /_jwks/b;
        empty_gif; }'), qr{auth_jwt_key_request|"/_jwks/b"},
    'auth_jwt_key_request with two uris (the second is no format)');
for my $bad ('abc', '-1', '5x', '') {
    refuses(conf("location / { auth_jwt \"t\"; auth_jwt_key_request /_jwks/a;
        auth_jwt_key_cache $bad; empty_gif; }"), qr/auth_jwt_key_cache/,
        "auth_jwt_key_cache '$bad'");
}
refuses(conf('location / { auth_jwt off; limit_except GET { auth_jwt "w";
        auth_jwt_key_request /_jwks/a; auth_jwt_key_cache 2s; } empty_gif; }'),
    qr/"auth_jwt_key_cache" directive is not allowed here/,
    'auth_jwt_key_cache in limit_except (not a context)');

###############################################################################
# The issuer and nginx

# Keys: A = rsa, B = rsa2, C = p256; the hmac key comes from a file.
my %tok = (
    A => mint(alg => 'RS256', key => 'rsa'),
    B => mint(alg => 'RS256', key => 'rsa2'),
    C => mint(alg => 'ES256', key => 'p256'),
    Ed => mint(alg => 'EdDSA', key => 'ed25519'),
    H => mint(alg => 'HS256', key => 'hmac'),
);

start_jwks_server('jwks');
my $big = jwks_of_size(200 * 1024, 'rsa', 'rsa2');
cmp_ok(length $big, '>', 200 * 1024, 'fixture: the large JWKS is over 200 KiB');
cmp_ok(length $big, '<', 256 * 1024, 'fixture: ... and under 256 KiB');
my %paths = (
    basic  => [ keys => [qw(rsa)] ],
    s1     => [ keys => [qw(rsa)] ],
    s2     => [ keys => [qw(rsa2)] ],
    ta     => [ keys => [qw(rsa)] ],
    tb     => [ keys => [qw(rsa2)] ],
    hdr    => [ keys => [qw(rsa)] ],
    zero   => [ keys => [qw(rsa)] ],
    types  => [ keys => [ 'rsa', 'p256', 'ed25519',
        jwk_public('rsa2', use => 'enc') ] ],
    mid    => [ body => jwks_of_size(16 * 1024, 'rsa', 'rsa2') ],
    big    => [ body => $big ],
    cold   => [ keys => [qw(rsa)], delay => 1 ],
    swr    => [ keys => [qw(rsa)] ],
    rot    => [ keys => [qw(rsa)] ],
    tc     => [ keys => [qw(rsa rsa2)] ],
    ma3    => [ keys => [qw(rsa)], headers => { 'Cache-Control' => 'max-age=3' } ],
    ma6    => [ keys => [qw(rsa)],
        headers => { 'Cache-Control' => 'public, max-age=6' } ],
    nocc   => [ keys => [qw(rsa)] ],
    mabig  => [ keys => [qw(rsa)],
        headers => { 'Cache-Control' => 'max-age=99999999999' } ],
    exp2   => [ keys => [qw(rsa)], headers => { 'Cache-Control' => 'max-age=600' } ],
);
jwks_set('jwks', "/keys/$_", @{ $paths{$_} }) for keys %paths;

my $CONF = <<'EOF';
    log_format kr '$uri $status $jwt_auth_status';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        access_log %%TESTDIR%%/kr.log kr;
        auth_jwt "test";
        # (auth_jwt at server level needs keys there; every location below
        # has its own)
        auth_jwt_key_request /_jwks/basic;

        location /_jwks/ {
            internal;
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }
        location /_jwks_slow/ {
            internal;
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
            proxy_read_timeout 5s;
        }

        location /basic { auth_jwt_key_request /_jwks/basic; empty_gif; }
        location /combine {
            auth_jwt_key_file %%TESTDIR%%/hmac.json;
            auth_jwt_key_request /_jwks/basic;
            empty_gif;
        }
        location /two {
            auth_jwt_key_request /_jwks/s1;
            auth_jwt_key_request /_jwks/s2;
            empty_gif;
        }
        location /types { auth_jwt_key_request /_jwks/types; empty_gif; }
        location /mid { auth_jwt_key_request /_jwks/mid; empty_gif; }
        location /big { auth_jwt_key_request /_jwks/big; empty_gif; }
        location /tenant0 {
            auth_jwt_key_cache 0;
            auth_jwt_key_request /_jwks/$arg_tenant;
            empty_gif;
        }
        location /tenant { auth_jwt_key_request /_jwks/$arg_tenant; empty_gif; }
        location /hdr {
            auth_jwt_key_cache 0;
            auth_jwt_key_request /_jwks/hdr;
            empty_gif;
        }
        location /zero {
            auth_jwt_key_cache 0;
            auth_jwt_key_request /_jwks/zero;
            empty_gif;
        }
        location /le {
            auth_jwt off;
            limit_except GET {
                auth_jwt "le";
                auth_jwt_key_request /_jwks/s2;
            }
            proxy_pass http://127.0.0.1:%%PORT_8082%%/;
        }
        location /cold { auth_jwt_key_request /_jwks_slow/cold; empty_gif; }
        location /swr {
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks_slow/swr;
            empty_gif;
        }
        location /rot {
            auth_jwt_key_cache 1h;
            auth_jwt_key_request /_jwks_slow/rot;
            empty_gif;
        }
        location /tc {
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/tc;
            empty_gif;
        }
        location /ma3 { auth_jwt_key_request /_jwks/ma3; empty_gif; }
        location /ma6 { auth_jwt_key_request /_jwks/ma6; empty_gif; }
        location /nocc { auth_jwt_key_request /_jwks/nocc; empty_gif; }
        location /mabig { auth_jwt_key_request /_jwks/mabig; empty_gif; }
        location /exp2 {
            auth_jwt_key_cache 2s;
            auth_jwt_key_request /_jwks/exp2;
            empty_gif;
        }
    }

    # Plus's usual layout: auth_jwt and the key request at server level,
    # inherited by the internal location too (a subrequest skips the access
    # phase, so it is not checked itself).
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        auth_jwt "srv";
        auth_jwt_key_request /_jwks/s1;

        location /_jwks/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_jwks%%/keys/;
            proxy_read_timeout 1s;
        }
        location /inh { empty_gif; }
        location /own { auth_jwt_key_request /_jwks/s2; empty_gif; }
    }

    server {
        listen 127.0.0.1:%%PORT_8082%%;
        location / { return 200 "upstream $request_method\n"; }
    }
EOF
start_nginx($CONF, main => 'error_log %%TESTDIR%%/debug.log debug;');

my $t_start = time();
my ($res, @f);

sub fetches { scalar jwks_fetches('jwks', "/keys/$_[0]", $_[1]) }

sub get { http_get_token($_[0], $tok{ $_[1] }, @_[2 .. $#_]) }

# /rot's first fetch: its unknown-kid refetch is tested more than 10 s later.
is_ok(get('/rot', 'A'), 'rot: A before rotation');
my ($t_rot0) = jwks_fetches('jwks', '/keys/rot');

###############################################################################
# Cold start: concurrent first requests wait on one fetch (the issuer takes
# 1 s to answer).

my @h = map { http_start('/cold', Authorization => "Bearer $tok{A}") } 1 .. 8;
my @cold = map { http_finish($_, 10) } @h;
is(scalar(grep { $_->{status} == 200 } @cold), 8,
    'cold start: 8 concurrent first requests pass')
    or diag(join ', ', map { "$_->{status} $_->{body}" } @cold);
is(fetches('cold'), 1, 'cold start: one fetch for the 8 requests');
my ($slowest) = sort { $b <=> $a } map { $_->{time} } @cold;
cmp_ok($slowest, '<', slow(3), 'cold start: answered within the fetch time (< 3 s)');

###############################################################################
# Keys from the body

is_ok(get('/basic', 'A'), 'basic: token of a published key');
is_rejected(get('/basic', 'B'), 401, 'INVALID_TOKEN', 'basic: unpublished key');
is_rejected(get('/basic', 'H'), 401, 'INVALID_TOKEN',
    'basic: a key file of another location is not used');
is_rejected(http_get('/basic'), 401, 'TOKEN_MISSING', 'basic: no token');
# (the unknown kids may have refetched once: at most one per 10 s)
my $n_basic = fetches('basic');
ok($n_basic >= 1 && $n_basic <= 2, 'basic: one fetch, or two with the unknown kids')
    or diag("$n_basic fetches");
is_rejected(get('/basic', 'B'), 401, 'INVALID_TOKEN', 'basic: unpublished key again');
is_rejected(get('/basic', 'C'), 401, 'INVALID_TOKEN', 'basic: another unknown kid');
is_ok(get('/basic', 'A'), 'basic: published key again');
is(fetches('basic'), $n_basic, 'basic: no more fetches');

is_ok(get('/types', 'A'), 'types: RS256');
is_ok(get('/types', 'C'), 'types: ES256 (P-256 JWK)');
is_ok(get('/types', 'Ed'), 'types: EdDSA (OKP JWK)');
is_rejected(get('/types', 'B'), 401, 'INVALID_TOKEN',
    'types: a key published with "use":"enc" does not verify');

is_ok(get('/mid', 'A'), 'a 16 KiB JWKS (keys with x5c chains) is read');
is_ok(get('/big', 'A'), 'a 200 KiB JWKS (under the 256 KiB bound) is read');

is_ok(get('/combine', 'A'), 'key file + key request: key of the request');
is_ok(get('/combine', 'H'), 'key file + key request: key of the file');
is_rejected(get('/combine', 'B'), 401, 'INVALID_TOKEN',
    'key file + key request: a key of neither');

is_ok(get('/two', 'A'), 'two key requests: key of the first');
is_ok(get('/two', 'B'), 'two key requests: key of the second');
is_rejected(get('/two', 'C'), 401, 'INVALID_TOKEN', 'two key requests: a key of neither');

is_ok(http_request(port => 8081, path => '/inh',
    headers => [ Authorization => "Bearer $tok{A}" ]), 'inherited from the server level');
is_rejected(http_request(port => 8081, path => '/inh',
    headers => [ Authorization => "Bearer $tok{B}" ]), 401, 'INVALID_TOKEN',
    'inherited: other key refused', realm => 'srv');
is_ok(http_request(port => 8081, path => '/own',
    headers => [ Authorization => "Bearer $tok{B}" ]),
    "a location's own key request");
is_rejected(http_request(port => 8081, path => '/own',
    headers => [ Authorization => "Bearer $tok{A}" ]), 401, 'INVALID_TOKEN',
    "a location's own key request replaces the inherited one", realm => 'srv');

$res = http_get('/le');
is_ok($res, 'limit_except GET: GET without a token');
is($res->{body}, "upstream GET\n", 'limit_except GET: GET proxied');
$res = http_request(method => 'POST', path => '/le', body => '',
    headers => [ Authorization => "Bearer $tok{B}" ]);
is_ok($res, 'limit_except GET: POST with a token of the fetched keys');
is($res->{body}, "upstream POST\n", 'limit_except GET: POST proxied');
is_rejected(http_request(method => 'POST', path => '/le', body => '',
    headers => [ Authorization => "Bearer $tok{A}" ]), 401, 'INVALID_TOKEN',
    'limit_except GET: POST with another key', realm => 'le');

# Variables: each evaluated uri has its own keys, with and without caching.
for my $loc ('/tenant0', '/tenant') {
    is_ok(get("$loc?tenant=ta", 'A'), "$loc: tenant a, a's key");
    is_rejected(get("$loc?tenant=tb", 'A'), 401, 'INVALID_TOKEN',
        "$loc: tenant b refuses a's key");
    is_ok(get("$loc?tenant=tb", 'B'), "$loc: tenant b, b's key");
    is_rejected(get("$loc?tenant=ta", 'B'), 401, 'INVALID_TOKEN',
        "$loc: tenant a refuses b's key");
    is_ok(get("$loc?tenant=ta", 'A'), "$loc: tenant a again");
}
cmp_ok(fetches('ta'), '>=', 3, 'tenant a: fetched (3 times uncached)');
cmp_ok(fetches('tb'), '>=', 2, 'tenant b: fetched');

###############################################################################
# The subrequest: a GET, none of the client's headers, no body

my $t_hdr = time();
my @client = (Authorization => "Bearer $tok{A}", Cookie => 'sid=cookie-secret-42',
    'X-Client-Secret' => 'xcs-secret-43', 'User-Agent' => 'client-agent/9.9',
    'Accept-Language' => 'fr-CA', 'X-Forwarded-For' => '10.9.9.9',
    'If-None-Match' => '"etag-44"', Range => 'bytes=0-1');
is_ok(http_get('/hdr', @client), 'GET with client headers');
is(http_request(method => 'HEAD', path => '/hdr', headers => \@client)->{status},
    200, 'HEAD with client headers');
is(http_request(method => 'POST', path => '/hdr', headers => [ @client,
    'Content-Type' => 'application/x-www-form-urlencoded' ],
    body => 'password=body-secret-45')->{status}, 405,
    'POST with a body: auth passes (empty_gif answers 405)');
my @reqs = jwks_requests('jwks', path => '/keys/hdr', since => $t_hdr);
is(scalar @reqs, 3, 'auth_jwt_key_cache 0: three requests, three fetches');
my @leaks;
for my $r (@reqs) {
    push @leaks, "method $r->{method}" if $r->{method} ne 'GET';
    push @leaks, "body of $r->{body_len} bytes" if $r->{body_len};
    for my $h (@{ $r->{headers} }) {
        my ($n, $v) = @$h;
        push @leaks, "$n: $v" if $n =~ /^(authorization|cookie|x-client-secret|
            accept-language|x-forwarded-for|if-none-match|range|content-type|
            content-length|transfer-encoding)$/xi
            || $v =~ /secret|client-agent|\Q$tok{A}\E|etag-44/;
    }
}
is(scalar @leaks, 0, 'the issuer got GETs with none of the client headers, no body')
    or diag(join "\n", @leaks);

for my $i (1 .. 5) {
    is_ok(get('/zero', 'A'), "auth_jwt_key_cache 0: request $i");
}
is(fetches('zero'), 5, 'auth_jwt_key_cache 0: five requests, five fetches');

###############################################################################
# Stale-while-revalidate: past the period, the request that triggers the
# refresh is answered at once with the keys held; the refresh (slow: 2 s)
# happens in the background, once.

is_ok(get('/swr', 'A'), 'swr: first request');
my ($t_swr0) = jwks_fetches('jwks', '/keys/swr');
jwks_set('jwks', '/keys/swr', keys => [qw(rsa rsa2)], delay => 2);
sleep 0.05 while time() < $t_swr0 + 2.3;
$res = timed_get('/swr', Authorization => "Bearer $tok{A}");
is($res->{status}, 200, 'swr: the request past the period passes');
cmp_ok($res->{time}, '<', slow(1),
    'swr: ... without waiting for the slow issuer (< 1 s)');
ok(wait_for(1, sub { fetches('swr') == 2 }), 'swr: it started a refresh');
my ($t_swr1) = (jwks_fetches('jwks', '/keys/swr'))[1];
$res = timed_get('/swr', Authorization => "Bearer $tok{A}");
is($res->{status}, 200, 'swr: a request during the refresh passes');
cmp_ok($res->{time}, '<', slow(1), 'swr: ... at once');
is(fetches('swr'), 2, 'swr: ... and does not start another refresh');
sleep 0.05 while defined $t_swr1 && time() < $t_swr1 + 2.4;
$res = timed_get('/swr', Authorization => "Bearer $tok{B}");
is($res->{status}, 200, "swr: the refreshed keys are used (B's key came with it)");
is(fetches('swr'), 2, 'swr: without another fetch');

# The same on a keep-alive connection (browsers, API clients): neither the
# request that starts the slow refresh nor the client's next ones wait for
# it. nginx reads the next request on a connection only once the background
# refresh is over, so the request that starts it answers "Connection:
# close", and the client goes on with a new connection, as clients do.
my $n_swr = fetches('swr');
my $ka = keepalive_open();
my ($worst, $sent, $closed_by) = (0, 0, 0);
my $t_ka = time();
while (time() < $t_ka + 5.5 && fetches('swr') == $n_swr) {
    my $t = time();
    my $r = keepalive_get($ka, '/swr', Authorization => "Bearer $tok{A}");
    $sent++;
    $worst = time() - $t if time() - $t > $worst;
    last unless $r->{status} == 200;
    $closed_by = $sent if $r->{closed};
    last if $r->{closed};
    sleep 0.1;
}
ok(wait_for(1, sub { fetches('swr') == $n_swr + 1 }), 'swr, keep-alive: a refresh started');
is($closed_by, $sent, 'swr, keep-alive: the request that started it closed its connection');
close $ka->{sock};
$ka = keepalive_open();
for (1 .. 3) {
    my $t = time();
    my $r = keepalive_get($ka, '/swr', Authorization => "Bearer $tok{A}");
    $sent++;
    $worst = time() - $t if time() - $t > $worst;
    $worst = 99 unless $r->{status} == 200 && !$r->{closed};
}
is(fetches('swr'), $n_swr + 1, 'swr, keep-alive: the refresh was still under way');
cmp_ok($worst, '<', slow(1), "swr, keep-alive: no request of the client waited "
    . "for the slow refresh ($sent requests)");
close $ka->{sock};
jwks_set('jwks', '/keys/swr', keys => [qw(rsa rsa2)]);

###############################################################################
# The token cache never keeps accepting a token whose key left the set.

# Hits are seen in the debug log ("auth_jwt: token cache hit"), as in
# cache.t: the A token below is verified once, then served from the cache.
sub get_hits {
    my ($path, $which) = @_;
    my $before = length slurp(testdir() . '/debug.log');
    my $r = get($path, $which);
    my $new = substr slurp(testdir() . '/debug.log'), $before;
    return ($r, scalar(() = $new =~ /auth_jwt: token cache hit/g));
}
my $hits;
is_ok(get('/tc', 'A'), 'token cache: A');
($res, $hits) = get_hits('/tc', 'A');
is_ok($res, 'token cache: A again');
is($hits, 1, 'token cache: ... from the cache');
is_ok(get('/tc', 'B'), 'token cache: B');
my ($t_tc0) = jwks_fetches('jwks', '/keys/tc');
my $t_drop = time();
jwks_set('jwks', '/keys/tc', keys => [qw(rsa2)]);
sleep 0.05 while time() < $t_tc0 + 2.2;
$res = get('/tc', 'A');
like($res->{status}, qr/^(200|401)$/,
    'token cache: the request that triggers the refresh (old or new keys)');
ok(wait_for(3, sub { fetches('tc', $t_drop) >= 1 }), 'token cache: refreshed');
sleep 0.3;
($res, $hits) = get_hits('/tc', 'A');
is_rejected($res, 401, 'INVALID_TOKEN',
    'token cache: A refused once its key left the set');
is($hits, 0, 'token cache: ... not a cache hit');
is_rejected(get('/tc', 'A'), 401, 'INVALID_TOKEN', 'token cache: A refused again');
is_ok(get('/tc', 'B'), 'token cache: B still passes');

###############################################################################
# An unknown kid refetches (more than 10 s after the first fetch), and the
# request waits for it: the issuer signs with a new key before nginx
# refreshed (auth_jwt_key_cache 1h).

sleep 0.05 while time() < $t_rot0 + 10.6;
jwks_set('jwks', '/keys/rot', keys => [qw(rsa rsa2)], delay => 0.5);
$res = timed_get('/rot', Authorization => "Bearer $tok{B}");
is($res->{status}, 200, 'rot: a token of the new key passes')
    or diag("body: $res->{body}");
cmp_ok($res->{time}, '>=', 0.45, 'rot: ... after waiting for the refetch');
is(fetches('rot'), 2, 'rot: one refetch');
my $t_rot1 = (jwks_fetches('jwks', '/keys/rot'))[-1];
jwks_set('jwks', '/keys/rot', keys => [qw(rsa rsa2 p256)]);
$res = timed_get('/rot', Authorization => "Bearer $tok{C}");
is($res->{status}, 401, 'rot: another unknown kid within 10 s: refused');
cmp_ok($res->{time}, '<', slow(0.4), 'rot: ... at once');
is(fetches('rot'), 2, 'rot: ... without a fetch (one refetch per 10 s)');
is_ok(get('/rot', 'A'), 'rot: the old key still passes');

###############################################################################
# The refresh period, all locations at once for 7.6 s, a request to each
# every 0.2 s:
#   max-age=3 -> 5 s (clamped); "public, max-age=6" -> 6 s; no
#   Cache-Control -> 600 s; max-age beyond 24 h -> 24 h (no refresh, no
#   overflow); auth_jwt_key_cache 2s with max-age=600 -> 2 s.

my @periodic = qw(ma3 ma6 nocc mabig exp2);
my (%status, %slow);
for my $p (@periodic) {
    $res = timed_get("/$p", Authorization => "Bearer $tok{A}");
    $status{$p}{ $res->{status} }++;
}
my $t_w = time();
while (time() < $t_w + 7.6) {
    for my $p (@periodic) {
        $res = timed_get("/$p", Authorization => "Bearer $tok{A}");
        $status{$p}{ $res->{status} }++;
        $slow{$p}++ if $res->{time} > slow(0.5);
    }
    sleep 0.2;
}
for my $p (@periodic) {
    is_deeply([ keys %{ $status{$p} } ], [200], "$p: every request passed")
        or diag(explain $status{$p});
    ok(!$slow{$p}, "$p: no request waited for a refresh");
}

sub gaps {
    my @t = @_;
    return map { sprintf '%.2f', $t[$_] - $t[ $_ - 1 ] } 1 .. $#t;
}

my %want = (ma3 => [ 2, 5 - $EARLY, 5.6 ], ma6 => [ 2, 6 - $EARLY, 6.6 ],
    nocc => [ 1 ], mabig => [ 1 ]);
for my $p (sort keys %want) {
    my ($n, $lo, $hi) = @{ $want{$p} };
    @f = jwks_fetches('jwks', "/keys/$p");
    is(scalar @f, $n, "$p: $n fetch(es) in 7.6 s") or diag("gaps: @{[ gaps(@f) ]}");
    next unless $lo;
    my ($gap) = gaps(@f);
    ok(defined $gap && $gap >= $lo && $gap <= $hi,
        "$p: refreshed after $lo..$hi s") or diag('gap: ' . ($gap // 'none'));
}
@f = jwks_fetches('jwks', '/keys/exp2');
my @g = gaps(@f);
ok(@f >= 3 && @f <= 4, 'auth_jwt_key_cache 2s (max-age=600): 3-4 fetches in 7.6 s')
    or diag(scalar(@f) . " fetches, gaps @g");
is(scalar(grep { $_ < 2 - $EARLY || $_ > 2.6 } @g), 0,
    'auth_jwt_key_cache 2s: refreshed every 2 s') or diag("gaps @g");

###############################################################################
# The unknown-kid refetch again, more than 10 s after the last.

sleep 0.05 while time() < $t_rot1 + 10.6;
$res = timed_get('/rot', Authorization => "Bearer $tok{C}");
is($res->{status}, 200, 'rot: 10 s later, the next unknown kid refetches and passes')
    or diag("body: $res->{body}");
is(fetches('rot'), 3, 'rot: one more fetch');

###############################################################################
# Nothing failed, and the access log has the decisions.

is(scalar(map { key_request_failures("/_jwks/$_") } keys %paths), 0,
    'no key request failure logged for a good issuer')
    or diag(join "\n", grep { /key request/ } split /\n/, error_log());
my @leaked = client_headers_at('jwks');
is(scalar @leaked, 0, 'no fetch (first, refresh, unknown kid) carried '
    . 'Authorization or Cookie, or was not a GET')
    or diag(join "\n", grep { defined } @leaked[0 .. 9]);
like(slurp(testdir() . '/kr.log'), qr{^/basic 200 OK$}m,
    '$jwt_auth_status OK in the access log');

no_log_alerts_brief();

###############################################################################
# nginx -s reload keeps working.

for my $round (1, 2) {
    my %old = map { $_ => 1 } nginx_workers();
    ($rc, $out) = reload_nginx();
    is($rc, 0, "reload $round: nginx -s reload") or diag($out);
    ok(wait_for(10, sub { grep { !$old{$_} } nginx_workers() }),
        "reload $round: a new worker");
    my $bad = 0;
    for (1 .. 20) {
        $bad++ unless get('/basic', 'A')->{status} == 200;
        $bad++ unless get('/two', 'B')->{status} == 200;
        $bad++ unless get('/swr', 'B')->{status} == 200;
    }
    is($bad, 0, "reload $round: requests pass after the reload");
    is_rejected(get('/basic', 'B'), 401, 'INVALID_TOKEN',
        "reload $round: other keys still refused");
}

# A reload that points /basic at other keys: they are fetched, the old
# ones no longer pass.
(my $conf3 = $CONF) =~ s{(location /basic \{ auth_jwt_key_request /_jwks/)basic;}{$1s2;}
    or die 'no /basic location to change';
my %old = map { $_ => 1 } nginx_workers();
($rc, $out) = reload_nginx($conf3, main => 'error_log %%TESTDIR%%/debug.log debug;');
is($rc, 0, 'reload 3 (/basic now requests /_jwks/s2)') or diag($out);
ok(wait_for(10, sub { grep { !$old{$_} } nginx_workers() }), 'reload 3: a new worker');
# (until the old worker has gone, it may still take a connection)
ok(wait_for(15, sub { nginx_workers() == 1 }), 'reload 3: the old worker exited');
ok(wait_for(5, sub { get('/basic', 'B')->{status} == 200 }),
    "reload 3: /basic passes the new uri's key");
is_rejected(get('/basic', 'A'), 401, 'INVALID_TOKEN',
    "reload 3: /basic refuses the old uri's key");
is_ok(get('/combine', 'A'), 'reload 3: /combine still has /_jwks/basic');

no_log_alerts_brief('no alert, emerg or crit after the reloads');
is(scalar(grep { /exited on signal/ } split /\n/, error_log()), 0,
    'no worker died');

diag(sprintf 'key_request.t ran %.1f s', time() - $t_start);

done_testing();
