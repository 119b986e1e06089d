#!/usr/bin/perl

# Hostile input at the edge, before and around the module: header values at
# and past nginx's limits, binary bytes in the token and fingerprint
# headers, repeated headers, slow clients (slowloris), and clients that
# leave while their session lookup is in flight. Every request gets a clear
# answer (nginx's own 400 for what it refuses before the module runs, the
# module's 401 for the rest), slow clients are cut by nginx's timeouts, the
# one worker keeps answering others and never dies, and no client
# connection is left behind.
#
# What a user sees, decided by nginx before the module runs:
#   - a header line longer than a large_client_header_buffers buffer (8k by
#     default, CRLF included), or headers beyond its number of buffers:
#     400 "Request Header Or Cookie Too Large";
#   - NUL or a bare CR in a header: 400 "Bad Request";
#   - two Authorization headers: 400 (nginx keeps one Authorization only),
#     whatever their tokens;
#   - other repeated headers (the token= and fingerprint= sources, e.g.
#     X-Auth-Token, Finger-Print): $http_<name> is the FIRST copy on nginx
#     1.22, and all copies joined by ", " from 1.23 on (which never verifies
#     as a token). The upstream receives every copy unless the location sets
#     the header itself (proxy_set_header X-Auth-Token $http_x_auth_token),
#     which forwards the checked one only. See SECURITY.md.
# Other bytes (0x01-0x1F, 0x7F, 0x80-0xFF) reach the module: a token with
# them is INVALID_TOKEN, a fingerprint with them must match the record's
# bytes exactly.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

# Short timeouts keep the slow-client cases fast. Port 8080 has nginx's
# default header buffers (1k, then 4 8k); port "big" raises them to 4 32k.
my $SERVER = <<'EOF';
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location / { empty_gif; }
        location /x {
            auth_jwt "test" token=$http_x_auth_token;
            empty_gif;
        }
        location /s {
            auth_jwt_session key=$jwt_claim_tokenId
                             fingerprint=$http_finger_print;
            empty_gif;
        }
        location /open {
            auth_jwt off;
            empty_gif;
        }
        location /fwd-as-sent {
            auth_jwt "test" token=$http_x_auth_token;
            proxy_pass http://127.0.0.1:%%PORT_echo%%;
        }
        location /fwd-checked {
            auth_jwt "test" token=$http_x_auth_token;
            proxy_set_header X-Auth-Token $http_x_auth_token;
            proxy_pass http://127.0.0.1:%%PORT_echo%%;
        }
EOF

sub conf {
    my ($memcached) = @_;
    return <<"EOF";
    auth_jwt_memcached $memcached timeout=2s;
    keepalive_timeout 2s;
    send_timeout 2s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        client_header_timeout 1s;
$SERVER
    }

    server {
        listen 127.0.0.1:%%PORT_big%%;
        large_client_header_buffers 4 32k;
        client_header_timeout 5s;
$SERVER
    }
EOF
}

start_nginx(conf('127.0.0.1:%%PORT_mc_a%%'));
my ($WORKER) = nginx_workers();

my $T = mint();
my $nginx_version = (qx{@{[ $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' ]} -v 2>&1}
    =~ m{nginx/(\d+)\.(\d+)}) ? $1 * 1000 + $2 : 0;
my $JOINS = $nginx_version >= 1023;    # $http_<name> joins repeated headers

sub get {
    my ($path, @h) = @_;
    my $port = ref $path ? $path->[0] : 8080;
    $path = $path->[1] if ref $path;
    return http_request(port => $port, path => $path, headers => \@h);
}

# nginx's own 400 page: the request never reached the module.
sub refused_by_nginx {
    my ($r, $title, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest "$name: nginx's 400" => sub {
        is($r->{status}, 400, 'status 400');
        like($r->{body}, qr{<title>400 \Q$title\E</title>}, "page: $title");
        ok(!defined $r->{headers}{'www-authenticate'}, 'no WWW-Authenticate');
    };
}

sub invalid {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_rejected($r, 401, 'INVALID_TOKEN', $name)
        or diag("got $r->{status} " . ($r->{body} =~ s/[^\x20-\x7e]/./gr));
}

###############################################################################
# Header sizes: at and just past nginx's buffer, default and raised. The
# line "Authorization: Bearer <token>\r\n" may fill a whole buffer.

for my $case ([ 8080, 8192, 'default 4 8k' ], [ 'big', 32768, 'raised to 4 32k' ]) {
    my ($port, $size, $what) = @$case;
    my $fixed = length("Authorization: Bearer \r\n");
    is_ok(get([ $port, '/' ], Authorization => 'Bearer ' . token_of_length($size - $fixed)),
        "$what: a token header line of exactly $size bytes");
    refused_by_nginx(get([ $port, '/' ],
            Authorization => 'Bearer ' . token_of_length($size - $fixed + 1)),
        'Request Header Or Cookie Too Large', "$what: one byte longer");
}
refused_by_nginx(get('/x', 'X-Auth-Token' => token_of_length(9000)),
    'Request Header Or Cookie Too Large', 'a 9000-byte X-Auth-Token');
refused_by_nginx(get('/s', Authorization => "Bearer $T", 'FINGER-PRINT' => 'f' x 9000),
    'Request Header Or Cookie Too Large', 'a 9000-byte fingerprint');

# More large headers than the buffers hold.
my @pads = map { ("X-Pad-$_" => 'p' x 7000) } 1 .. 5;
is_ok(get('/', Authorization => "Bearer $T", @pads[0 .. 3]),
    'the token beside two 7000-byte headers');
refused_by_nginx(get('/', Authorization => "Bearer $T", @pads),
    'Request Header Or Cookie Too Large', 'the token beside five 7000-byte headers');

###############################################################################
# Binary and control bytes in the token.

refused_by_nginx(get('/', Authorization => "Bearer $T\0"), 'Bad Request',
    'NUL after the token');
refused_by_nginx(get('/', Authorization => 'Bearer ' . substr($T, 0, 20) . "\0"
    . substr($T, 20)), 'Bad Request', 'NUL inside the token');
refused_by_nginx(get('/', Authorization => 'Bearer ' . substr($T, 0, 20) . "\r"
    . substr($T, 20)), 'Bad Request', 'a bare CR inside the token');
refused_by_nginx(get('/x', 'X-Auth-Token' => "\0$T"), 'Bad Request',
    'NUL in X-Auth-Token');

my ($h, $p, $s) = split /\./, $T;
my %hostile = (
    'byte 0x80 appended'        => "$T\x80",
    'byte 0xFF appended'        => "$T\xff",
    'UTF-8 in the payload'      => "$h.$p\xc3\xa9.$s",
    'every byte 0x80-0xFF'      => join('', map { chr } 0x80 .. 0xff),
    'bytes 0x01-0x1F and 0x7F'  => join('', map { chr } 1 .. 8, 11, 12, 14 .. 31, 127),
    'a tab inside'              => "$h.$p\t.$s",
    'a DEL inside'              => "$h.\x7f$p.$s",
    'ESC sequence'              => "\e[31m$T",
    'the token, a space, more'  => "$T \xff",
    '4000 bytes of 0xFF'        => "\xff" x 4000,
);
for my $name (sort keys %hostile) {
    invalid(get('/', Authorization => "Bearer $hostile{$name}"), "Authorization: $name");
    invalid(get('/x', 'X-Auth-Token' => $hostile{$name}), "X-Auth-Token: $name");
}
is_ok(get('/', Authorization => "Bearer $T   "),
    'trailing spaces (nginx trims them): the token verifies');

###############################################################################
# Repeated headers.

my $bad = "$h.$p." . ($s =~ tr/A-Za-z/B-ZAb-za/r);
for my $pair ([ $T, $T, 'the same valid token' ], [ $T, $bad, 'valid, then invalid' ],
    [ $bad, $T, 'invalid, then valid' ])
{
    refused_by_nginx(get('/', Authorization => "Bearer $pair->[0]",
            Authorization => "Bearer $pair->[1]"),
        'Bad Request', "two Authorization headers: $pair->[2]");
}
refused_by_nginx(get('/', map { (Authorization => "Bearer $T") } 1 .. 100),
    'Bad Request', 'a hundred Authorization headers');
like(error_log(), qr/client sent duplicate header line: "Authorization/,
    'duplicate Authorization logged by nginx');

# What the application behind nginx receives: every copy, unless the
# location sets the header itself (SECURITY.md's advice).
my $echo = start_echo_server(port('echo'), 60);
my $fwd = get('/fwd-as-sent', 'X-Auth-Token' => $T, 'X-Auth-Token' => $bad);
my @copies = $fwd->{body} =~ /^X-Auth-Token: ([^\r\n]*)/mig;
if ($JOINS) {
    is($fwd->{status}, 401, 'repeated X-Auth-Token (joined): not forwarded');
} else {
    is_deeply(\@copies, [ $T, $bad ], 'proxied as sent: the upstream gets both copies');
}
$fwd = get('/fwd-checked', 'X-Auth-Token' => $T, 'X-Auth-Token' => $bad);
@copies = $fwd->{body} =~ /^X-Auth-Token: ([^\r\n]*)/mig;
if ($JOINS) {
    is($fwd->{status}, 401, 'repeated X-Auth-Token (joined), header set: not forwarded');
} else {
    is_deeply(\@copies, [ $T ],
        'proxy_set_header X-Auth-Token $http_x_auth_token: only the verified copy');
}
$fwd = get('/fwd-checked', 'X-Auth-Token' => $T);
@copies = $fwd->{body} =~ /^X-Auth-Token: ([^\r\n]*)/mig;
is_deeply(\@copies, [ $T ], 'one X-Auth-Token, header set: forwarded once');
stop_helper($echo);

if ($JOINS) {
    invalid(get('/x', 'X-Auth-Token' => $T, 'X-Auth-Token' => $bad),
        'two X-Auth-Token headers (joined): valid, then invalid');
    invalid(get('/x', 'X-Auth-Token' => $T, 'X-Auth-Token' => $T),
        'two X-Auth-Token headers (joined): the same valid token');
} else {
    is_ok(get('/x', 'X-Auth-Token' => $T, 'X-Auth-Token' => $bad),
        'two X-Auth-Token headers: the first, valid, decides');
    invalid(get('/x', 'X-Auth-Token' => $bad, 'X-Auth-Token' => $T),
        'two X-Auth-Token headers: the first, invalid, decides');
}

###############################################################################
# The fingerprint: bytes compared exactly, whatever they are.

my $utf8_fp = "caf\xc3\xa9-\xe2\x9c\x93";    # "café-✓" in UTF-8
my $long_fp = 'L' x 6000;
my %fp_record = (utf8 => $utf8_fp, ascii => 'device-1', long => $long_fp);
mc_set('a', "edge-$_", record(fingerprint => \qq("$fp_record{$_}"),
    last_access_time => now(), session_idle_timeout => -1)) for keys %fp_record;

sub fp_get {
    my ($key, @fp) = @_;
    return get('/s', Authorization => 'Bearer ' . session_token("edge-$key"),
        map { ('FINGER-PRINT' => $_) } @fp);
}

sub mismatch {
    my ($r, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_rejected($r, 401, 'FINGERPRINT_MISMATCH', $name)
        or diag("got $r->{status} " . ($r->{body} =~ s/[^\x20-\x7e]/./gr));
}

is_ok(fp_get('utf8', $utf8_fp), 'UTF-8 fingerprint, the same bytes');
mismatch(fp_get('utf8', "caf\xe9-\xe2\x9c\x93"), 'UTF-8 fingerprint sent as Latin-1');
mismatch(fp_get('utf8', 'cafe-?'), 'UTF-8 fingerprint sent as ASCII');
is_ok(fp_get('ascii', 'device-1'), 'ASCII fingerprint');
mismatch(fp_get('ascii', "device-1\xff"), 'fingerprint with 0xFF appended');
mismatch(fp_get('ascii', "device-\x01"), 'fingerprint with a control byte');
mismatch(fp_get('ascii', join('', map { chr } 0x80 .. 0xff)), 'fingerprint of 0x80-0xFF');
mismatch(fp_get('ascii', ''), 'empty fingerprint header');
mismatch(fp_get('ascii', "\t"), 'fingerprint of a tab');
mismatch(fp_get('ascii', 'device-1' . ' ' x 10 . 'x'), 'fingerprint with a suffix');
refused_by_nginx(fp_get('ascii', "device-1\0"), 'Bad Request', 'NUL in the fingerprint');
is_ok(fp_get('long', $long_fp), '6000-byte fingerprint, equal');
mismatch(fp_get('long', $long_fp . 'L'), '6000-byte fingerprint, one byte more');
mismatch(fp_get('long', substr($long_fp, 1)), '6000-byte fingerprint, one byte less');
if ($JOINS) {
    mismatch(fp_get('ascii', 'device-1', 'device-1'), 'two fingerprints (joined)');
} else {
    is_ok(fp_get('ascii', 'device-1', 'other'), 'two fingerprints: the first decides');
    mismatch(fp_get('ascii', 'other', 'device-1'), 'two fingerprints: the first decides (2)');
}

###############################################################################
# Slow clients. On port 8080 (client_header_timeout 1s): clients sending
# the token one byte every 0.2 s, clients that connect and send nothing,
# and kept-alive clients idle after an answer (keepalive_timeout 2s). nginx
# closes each after its timeout (the header timeout is not renewed by each
# byte), and meanwhile answers everyone else.

sub connect_to {
    my ($port) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port($port),
        Proto => 'tcp', Timeout => 5) or die "connect: $!";
    binmode $c;
    $c->autoflush(1);
    return $c;
}

my $slow_head = "GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ";
my $slow_req = "$slow_head$T\r\n\r\n";
my @slow;    # { sock, kind, sent, answer, closed }
for (1 .. 10) {
    my $c = connect_to(8080);
    print $c $slow_head;
    push @slow, { sock => $c, kind => 'byte by byte', sent => length $slow_head };
}
push @slow, { sock => connect_to(8080), kind => 'silent' } for 1 .. 5;
for (1 .. 5) {
    my $c = connect_to(8080);
    print $c $slow_req;
    push @slow, { sock => $c, kind => 'idle keep-alive' };
}
my $t0 = time();
my (@others, $next_other);
$next_other = $t0 + 0.3;
{
    local $SIG{PIPE} = 'IGNORE';
    while (time() - $t0 < 8 && grep { !$_->{closed} } @slow) {
        my $sel = IO::Select->new(map { $_->{sock} } grep { !$_->{closed} } @slow);
        for my $fh ($sel->can_read(0.2)) {
            my ($c) = grep { $_->{sock} == $fh } @slow;
            my $n = sysread($fh, my $buf, 4096);
            $c->{answer} .= $buf if $n;
            $c->{closed} = time() - $t0 unless $n;
        }
        for my $c (grep { $_->{kind} eq 'byte by byte' && !$_->{closed} } @slow) {
            syswrite($c->{sock}, substr($slow_req, $c->{sent}++ % length $slow_req, 1));
        }
        if (time() > $next_other) {
            push @others, get('/', Authorization => "Bearer $T")->{status};
            $next_other = time() + 0.3;
        }
    }
}
for my $kind ('byte by byte', 'silent', 'idle keep-alive') {
    my @c = grep { $_->{kind} eq $kind } @slow;
    my @open = grep { !$_->{closed} } @c;
    is(scalar @open, 0, "slow clients, $kind: all closed by nginx")
        or next;
    my ($last) = sort { $b <=> $a } map { $_->{closed} } @c;
    cmp_ok($last, '<', 5, "slow clients, $kind: closed after the timeout (last at "
        . sprintf('%.1f', $last) . 's)');
}
my @idle = grep { $_->{kind} eq 'idle keep-alive' } @slow;
is(scalar(grep { defined $_->{answer} } grep { $_->{kind} ne 'idle keep-alive' } @slow),
    0, 'slow clients: the unfinished requests got no answer');
is(scalar(grep { ($_->{answer} // '') =~ m{^HTTP/1\.1 200 } } @idle), 5,
    'idle keep-alive clients got their answer first');
cmp_ok(scalar @others, '>=', 3, 'other clients were served meanwhile');
is(scalar(grep { $_ != 200 } @others), 0, 'and got 200') or diag("@others");
like(error_log(), qr/client timed out .* while reading client request headers/,
    'nginx logged the header timeout');

# A whole request sent one byte at a time (within the 5s header timeout
# of port "big"): the module sees the reassembled token.
{
    my $c = connect_to('big');
    for my $i (0 .. length($slow_req) - 1) {
        syswrite($c, substr($slow_req, $i, 1));
        sleep 0.001;
    }
    my $answer = '';
    my $sel = IO::Select->new($c);
    while ($sel->can_read(5)) {
        my $n = sysread($c, my $buf, 4096) or last;
        $answer .= $buf;
        last if $answer =~ /\r\n\r\n/ && $answer =~ /GIF89a/;
    }
    like($answer, qr{^HTTP/1\.1 200 }, 'a request sent one byte at a time: 200');
    close $c;
}

is_deeply([ nginx_workers() ], [ $WORKER ], 'the same worker throughout');
no_log_alerts('no alert, crit or emerg (direct memcached)');

###############################################################################
# Clients that leave while their session lookup is in flight: memcached
# answers through a proxy that delays every answer by 0.5 s. They close
# (FIN), reset (RST), or half-close (and still get their answer). The worker
# answers others meanwhile, and keeps no client connection afterwards.

my $proxy = start_slow_proxy(port('slow'), memcached_port('a'), 0.5, 60);
start_nginx(conf('127.0.0.1:%%PORT_slow%%'));
($WORKER) = nginx_workers();
mc_set('a', 'edge-live', record(last_access_time => now(), session_idle_timeout => -1));
my $live = session_token('edge-live');
my @session = (Authorization => "Bearer $live");

is_ok(http_finish(http_start('/s', @session)), 'through the slow proxy: 200');

# The worker's TCP connections with clients: its socket inodes that
# /proc/net/tcp lists on the local port 8080, other than the listener.
sub client_connections {
    my $port = sprintf '%04X', port(8080);
    my %inode;
    for (split /\n/, slurp('/proc/net/tcp')) {
        my @f = split ' ';
        next unless @f > 9 && $f[1] =~ /:$port$/ && $f[3] ne '0A';
        $inode{ $f[9] } = 1;
    }
    return scalar grep { /^socket:\[(\d+)\]$/ && $inode{$1} }
        map { readlink($_) // '' } glob "/proc/$WORKER/fd/*";
}

my @fin  = map { http_start('/s', @session) } 1 .. 20;
my @rst  = map { http_start('/s', @session) } 1 .. 10;
my @half = map { http_start('/s', @session) } 1 .. 5;
sleep 0.2;
close $_->{sock} for @fin;
for (@rst) {
    setsockopt($_->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $_->{sock};
}
shutdown($_->{sock}, 1) for @half;
my $open = http_request(port => 8080, path => '/open');
is($open->{status}, 200, 'during the lookups: another location answers');
for my $i (0 .. $#half) {
    is_ok(http_finish($half[$i], 10), "half-closed client $i: its answer");
}
ok(wait_for(5, sub { client_connections() == 0 }),
    'after the lookups: the worker holds no client connection')
    or diag(client_connections() . ' left');
is_ok(http_finish(http_start('/s', @session)), 'after the lookups: sessions served');
is_deeply([ nginx_workers() ], [ $WORKER ], 'the same worker throughout');

stop_nginx();    # graceful: an abandoned request would log "open socket"
stop_helper($proxy);
my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal|open socket/ }
    split /\n/, error_log();
is(scalar @bad, 0, 'no alert, crit, emerg, crash or "open socket" in the log')
    or diag(join "\n", @bad);

done_testing();
