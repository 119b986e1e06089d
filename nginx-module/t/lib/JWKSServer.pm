package JWKSServer;

# Helpers for the key-request tests (auth_jwt_key_request), beside
# AuthJWTTest:
#
#   - a small issuer: an HTTP server on 127.0.0.1:port(<name>) (so that a
#     configuration names it %%PORT_<name>%%), a process per connection,
#     that answers every request as its control files say at that moment
#     (re-read on each request). The test changes the answer between
#     requests with jwks_set(): status, body (a JWKS built from the named
#     keys, or any bytes), extra headers (Cache-Control), a delay before
#     answering, or closing the connection without answering; per request
#     path, with a default for the others. Every request is logged (time,
#     method, path, headers, body length, what was done) before it is
#     answered, so the test counts fetches (jwks_fetches) and sees what
#     reached the issuer; stopping it (stop_jwks_server) makes its port
#     refuse connections, starting it again serves the same settings;
#   - a timed GET that returns as soon as the whole answer (per its
#     Content-Length) has arrived, whether or not nginx keeps the
#     connection open afterwards (a background subrequest holds it);
#   - bounded keep-alive load clients (forked) that log every answer.
#
# Every process started here binds 127.0.0.1 only, lives a bounded time,
# and is stopped by its PID when the test ends, dies or is interrupted.

use strict;
use warnings;

use Exporter qw(import);
use Carp qw(croak);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use AuthJWTTest;

our @EXPORT = qw(
    start_jwks_server stop_jwks_server jwks_set jwks_body jwk_x5c jwks_of_size
    jwks_requests client_headers_at
    jwks_fetches jwks_pid
    timed_get key_request_failures no_log_alerts_brief
    run_clients
);

my $OWNER = $$;
my %SERVERS;     # name => pid
my $JSON = JSON::PP->new->canonical;

END {
    local $?;    # keep the test's exit status
    if ($$ == $OWNER) {
        stop_jwks_server($_) for keys %SERVERS;
    }
}

my $SERIAL = 0;   # settings written (names the body files)

sub _log_file { testdir() . "/jwks-$_[0].log" }

###############################################################################
# Control

# jwks_body(@keys): the text of a JWKS of the named keys (or JWK hashes),
# as AuthJWTTest's write_jwks writes one; extra top-level members with
# jwks_body({ pad => ... }, @keys).
sub jwks_body {
    my (@keys) = @_;
    my %extra = ref $keys[0] eq 'HASH' && !exists $keys[0]{kty}
        ? %{ shift @keys } : ();
    my @jwks = map { ref $_ ? $_ : jwk_public($_) } @keys;
    return $JSON->encode({ keys => \@jwks, %extra });
}

# jwk_x5c($key, $kid): the public JWK of an RSA test key with "use":"sig",
# "alg":"RS256" and a certificate chain (x5c, two self-signed certificates
# of the key), as real issuers publish them, so that a JWKS reaches real
# sizes with real keys.
my %CERT;
sub jwk_x5c {
    my ($name, $kid) = @_;
    $CERT{$name} //= do {
        my $der = testdir() . "/$name.cert.der";
        openssl('req', '-x509', '-key', key_file($name, 'priv'), '-subj',
            "/CN=$name.issuer.test", '-days', '2', '-outform', 'DER',
            '-out', $der);
        encode_base64(slurp($der), '');
    };
    return jwk_public($name, kid => $kid, use => 'sig', alg => 'RS256',
        x5c => [ $CERT{$name}, $CERT{$name} ]);
}

# jwks_of_size($size, $first, $pad): a JWKS of $first's key (kid $first)
# followed by keys of $pad (kids pad-1, pad-2, ...), all with x5c, of at
# least $size bytes (a key more than needed).
sub jwks_of_size {
    my ($size, $first, $pad) = @_;
    my @keys = (jwk_x5c($first, $first));
    my $i = 0;
    push @keys, jwk_x5c($pad, 'pad-' . ++$i)
        while length(jwks_body(@keys)) < $size;
    return jwks_body(@keys);
}

# jwks_set($name, $path, status => 200, keys => [...] | body => $text,
#          headers => { 'Cache-Control' => 'max-age=5' }, delay => $seconds,
#          close => 1): how the issuer $name answers requests for $path
# from now on ($path undef: every path without its own setting). Each
# path has its settings (JSON) and its body (raw bytes) in files of their
# own, written first and renamed into place, the body first: the server
# reads them on each request.
sub jwks_set {
    my ($name, $path, %s) = @_;
    if (my $keys = delete $s{keys}) {
        $s{body} = jwks_body(@$keys);
    }
    my $body = delete $s{body} // '';
    $s{status} //= 200;
    $s{serial} = ++$SERIAL;
    my $base = _ctl_base($name, $path);
    make_path(dirname($base));
    my $prev = eval { $JSON->decode(slurp("$base.json"))->{serial} } // 0;
    for ([ "$base.body.$SERIAL", $body ], [ "$base.json", $JSON->encode(\%s) ]) {
        my ($file, $text) = @$_;
        write_file("$file.tmp", $text);
        rename "$file.tmp", $file or croak "rename $file.tmp: $!";
    }
    # (the previous body stays for a request that read the previous settings)
    unlink grep { /\.(\d+)$/ && $1 != $SERIAL && $1 != $prev } glob "$base.body.*";
}

# The file names of a path's settings: a directory per issuer, a file per
# path (escaped), "default" for the others.
sub _ctl_base {
    my ($name, $path) = @_;
    my $file = defined $path
        ? 'p' . join('', map { sprintf '%02x', ord } split //, $path) : 'default';
    return testdir() . "/jwks-$name.ctl/$file";
}

# What the server does for a request of $path: (settings, body).
sub _ctl {
    my ($name, $path) = @_;
    for my $base (_ctl_base($name, $path), _ctl_base($name, undef)) {
        my $s = eval { $JSON->decode(slurp("$base.json")) } or next;
        return ($s, slurp("$base.body.$s->{serial}"));
    }
    return ({ status => 404 }, '');
}

###############################################################################
# The server

sub jwks_pid { $SERVERS{ $_[0] } }

# start_jwks_server($name, $seconds): the issuer on 127.0.0.1:port($name),
# living at most $seconds (default 300); returns its PID once it accepts.
# It keeps its control and log files across a stop and a start.
sub start_jwks_server {
    my ($name, $life) = @_;
    stop_jwks_server($name);
    my $port = port($name);
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Proto => 'tcp', Listen => 128, ReuseAddr => 1)
        or croak "cannot listen on 127.0.0.1:$port: $!";
    jwks_set($name, undef, status => 404, body => 'no such path')
        unless -e _ctl_base($name, undef) . '.json';
    my $pid = fork() // croak "fork: $!";
    if ($pid == 0) {
        _serve($name, $l, $life // 300);
        POSIX::_exit(0);
    }
    close $l;
    $SERVERS{$name} = $pid;
    croak "issuer $name did not accept on port $port"
        unless wait_for(5, sub {
            IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                Proto => 'tcp') });
    return $pid;
}

# Stops the issuer by its PID (its connection handlers go with it) and
# waits until it is gone, so that its port refuses connections.
sub stop_jwks_server {
    my ($name) = @_;
    my $pid = delete $SERVERS{$name} or return;
    for my $sig (qw(TERM KILL)) {
        kill $sig, $pid;
        return if wait_for(3, sub { waitpid($pid, WNOHANG) != 0 });
    }
}

# The server's main loop: a process per connection, each bounded by an
# alarm; TERM stops the handlers it started, then the server.
sub _serve {
    my ($name, $l, $life) = @_;
    my %kids;
    $SIG{$_} = 'DEFAULT' for qw(INT HUP);
    $SIG{PIPE} = 'IGNORE';
    my $stop = sub {
        kill 'KILL', keys %kids;
        1 while waitpid(-1, WNOHANG) > 0;
        POSIX::_exit(0);
    };
    $SIG{TERM} = $stop;
    $SIG{ALRM} = $stop;
    alarm($life);
    my $sel = IO::Select->new($l);
    while (1) {
        while ((my $k = waitpid(-1, WNOHANG)) > 0) { delete $kids{$k} }
        next unless $sel->can_read(0.2);
        my $c = $l->accept or next;
        my $pid = fork();
        unless (defined $pid) { close $c; next; }
        if ($pid == 0) {
            $SIG{TERM} = 'DEFAULT';
            $SIG{ALRM} = 'DEFAULT';
            alarm(60);
            close $l;
            eval { _handle($name, $c) };
            POSIX::_exit(0);
        }
        $kids{$pid} = 1;
        close $c;
    }
}

sub _handle {
    my ($name, $c) = @_;
    binmode $c;
    my $sel = IO::Select->new($c);
    my $in = '';
    my $deadline = time() + 5;
    while ($in !~ /\r?\n\r?\n/ && time() < $deadline) {
        last unless $sel->can_read($deadline - time());
        my $n = sysread($c, my $buf, 65536);
        last unless $n;
        $in .= $buf;
    }
    my ($head, $rest) = split /\r?\n\r?\n/, $in, 2;
    $head //= '';
    my ($line, @lines) = split /\r?\n/, $head;
    my ($method, $target, $proto) = split ' ', $line // '';
    unless (defined $target) {    # a connection without a request (a probe)
        close $c;
        return;
    }
    my ($path, $query) = split /\?/, $target, 2;
    my @headers = map { /^([^:]+):\s*(.*)$/ ? [ $1, $2 ] : [ $_, '' ] } @lines;
    my ($cl) = map { $_->[1] } grep { lc $_->[0] eq 'content-length' } @headers;
    my $body = $rest // '';
    while (defined $cl && $cl =~ /^\d+$/ && length $body < $cl
        && time() < $deadline && $sel->can_read($deadline - time()))
    {
        my $n = sysread($c, my $buf, 65536);
        last unless $n;
        $body .= $buf;
    }

    my ($s, $resp_body) = _ctl($name, $path);

    my $action = $s->{close} ? 'close' : 'answer';
    my $entry = $JSON->encode({ t => time(), pid => $$, method => $method,
        path => $path, query => $query, proto => $proto,
        headers => \@headers, body_len => length $body,
        status => $s->{status}, delay => $s->{delay} // 0,
        action => $action });
    if (open my $log, '>>', _log_file($name)) {
        syswrite $log, "$entry\n";    # one write: lines never interleave
        close $log;
    }

    sleep $s->{delay} if $s->{delay};
    if ($s->{close}) {
        close $c;
        return;
    }
    my $reason = { 200 => 'OK', 404 => 'Not Found', 500 => 'Internal Server Error',
        503 => 'Service Unavailable' }->{ $s->{status} } // 'Status';
    my $resp = "HTTP/1.1 $s->{status} $reason\r\n"
        . "Content-Type: application/json\r\n"
        . 'Content-Length: ' . length($resp_body) . "\r\n"
        . "Connection: close\r\n";
    my %h = %{ $s->{headers} || {} };
    $resp .= "$_: $h{$_}\r\n" for sort keys %h;
    $resp .= "\r\n$resp_body";
    local $SIG{PIPE} = 'IGNORE';
    for (my $off = 0; $off < length $resp;) {
        my $n = syswrite($c, $resp, 65536, $off);
        last unless $n;
        $off += $n;
    }
    # the peer closes first: no TIME_WAIT on the server's side to wait on
    my $linger = time() + 2;
    while (time() < $linger && $sel->can_read($linger - time())) {
        last unless sysread($c, my $buf, 65536);
    }
    close $c;
}

###############################################################################
# What reached the issuer

# jwks_requests($name, path => $path, since => $t, until => $t): the logged
# requests, oldest first, each { t, method, path, query, proto, headers
# ([name, value] pairs as received), body_len, status, delay, action }.
sub jwks_requests {
    my ($name, %f) = @_;
    my @r;
    for (split /\n/, slurp(_log_file($name))) {
        my $e = eval { $JSON->decode($_) } or next;
        next if defined $f{path} && ($e->{path} // '') ne $f{path};
        next if defined $f{since} && $e->{t} < $f{since};
        next if defined $f{until} && $e->{t} > $f{until};
        push @r, $e;
    }
    return @r;
}

# client_headers_at($name): the requests that reached the issuer with a
# header a client sent nginx (Authorization, Cookie) or with a method other
# than GET, as "<method> <path>: <header>" lines.
sub client_headers_at {
    my ($name) = @_;
    my @bad;
    for my $r (jwks_requests($name)) {
        push @bad, "$r->{method} $r->{path}: method" if $r->{method} ne 'GET';
        push @bad, map { "$r->{method} $r->{path}: $_->[0]" }
            grep { $_->[0] =~ /^(authorization|cookie)$/i } @{ $r->{headers} };
    }
    return @bad;
}

# jwks_fetches($name, $path, $since): the times of the requests for $path.
sub jwks_fetches {
    my ($name, $path, $since) = @_;
    return map { $_->{t} } jwks_requests($name, path => $path, since => $since);
}

# key_request_failures($uri, $from): the reasons of the error log's
# "[error] ... auth_jwt: key request "<uri>" failed: <reason>" lines, from
# byte offset $from of the log.
sub key_request_failures {
    my ($uri, $from) = @_;
    my $log = substr(error_log(), $from // 0);
    return map { /auth_jwt: key request "\Q$uri\E" failed: ([^\n]*)/ ? $1 : () }
        grep { /\[error\]/ } split /\n/, $log;
}

# no_log_alerts_brief($name): as AuthJWTTest's no_log_alerts (no [alert],
# [emerg] or [crit] line in the error log), but a failure shows each
# distinct message once with its count, not every line (a load can log
# hundreds of thousands).
sub no_log_alerts_brief {
    my ($name) = @_;
    my %seen;
    for (grep { /\[(alert|emerg|crit)\]/ } split /\n/, error_log()) {
        (my $m = $_) =~ s/^\S+ \S+ //;           # the time
        $m =~ s/^(\[\w+\]) \d+#\d+: (\*\d+ )?/$1 /; # pid, connection
        $m =~ s/, client: .*//;
        $seen{$m}++;
    }
    my $n = 0;
    $n += $_ for values %seen;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($n, 0, $name || 'no alert, emerg or crit in error log')
        or Test::More::diag(join "\n", map { "$seen{$_} x $_" } grep { defined }
            (sort { $seen{$b} <=> $seen{$a} || $a cmp $b } keys %seen)[0 .. 9]);
}

###############################################################################
# HTTP

# timed_get($path, Header => value, ...): a GET (HTTP/1.1, Connection:
# close) to port 8080 that returns as soon as the answer is whole by its
# Content-Length: { status, headers, body, time (seconds from connect to the
# last byte of the answer) }; status 0 when no whole answer came within 10
# seconds. Headers may include port => $name first.
sub timed_get {
    my ($path, @h) = @_;
    my $port = port(8080);
    if (@h && $h[0] eq 'port') {
        (undef, my $p, @h) = @h;
        $port = port($p);
    }
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    while (my ($n, $v) = splice @h, 0, 2) {
        $req .= "$n: $v\r\n";
    }
    my $t0 = time();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5)
        or return { status => 0, headers => {}, body => '', time => time() - $t0 };
    binmode $s;
    local $SIG{PIPE} = 'IGNORE';
    print $s "$req\r\n";
    my $sel = IO::Select->new($s);
    my $raw = '';
    my $deadline = $t0 + slow(10);
    while (time() < $deadline) {
        if ($raw =~ /\A(.*?\r\n\r\n)/s) {
            my $hl = length $1;
            my ($cl) = $1 =~ /^content-length:\s*(\d+)/mi;
            last if defined $cl && length($raw) >= $hl + $cl;
        }
        last unless $sel->can_read($deadline - time());
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }
    my $t = time() - $t0;
    close $s;
    my $r = AuthJWTTest::_parse_response($raw);
    $r->{time} = $t;
    return $r;
}

###############################################################################
# Load

# run_clients(clients => $n, until => $abs_time, max => $per_client,
#             reconnect => $requests, pause => $seconds,
#             next => sub { my ($client, $seq, $now) = @_; ... },
#             during => sub { ... }):
# forks $n clients, each sending requests on a keep-alive connection
# (a new one after $reconnect requests, so that the kernel spreads them
# over the workers of a reuseport listener, and when nginx closes it) until
# the time, $max requests, or next() returning undef, pausing $pause
# seconds between two requests (default none). next() returns
# [$tag, $path, Header => value, ...]. during() runs in the test process
# while the clients run. Returns the records of every attempt, in no
# particular order:
# { client, tag, t0, t1, status (0: no answer), code (the JSON body's
# status), closed (a reused connection closed before the answer: retried,
# not counted as an answer) }.
sub run_clients {
    my (%o) = @_;
    my $max = $o{max} // 20000;
    my @kids;
    my $base = testdir() . '/clients.' . int(time() * 1000);
    for my $n (1 .. $o{clients}) {
        my $pid = fork() // croak "fork: $!";
        if ($pid == 0) {
            $SIG{ALRM} = sub { POSIX::_exit(1) };
            alarm(int($o{until} - time()) + 30);
            _client($n, \%o, $max, "$base.$n");
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    $o{during}->() if $o{during};
    for my $pid (@kids) {
        unless (wait_for($o{until} - time() + 20,
            sub { waitpid($pid, WNOHANG) != 0 }))
        {
            kill 'KILL', $pid;
            waitpid($pid, 0);
        }
    }
    my @r;
    for my $n (1 .. $o{clients}) {
        for (split /\n/, slurp("$base.$n")) {
            my ($tag, $t0, $t1, $status, $code, $closed) = split / /;
            push @r, { client => $n, tag => $tag, t0 => $t0, t1 => $t1,
                status => $status, code => $code, closed => $closed };
        }
    }
    return @r;
}

sub _client {
    my ($n, $o, $max, $file) = @_;
    open my $fh, '>', $file or die "$file: $!";
    my ($sock, $buf, $reused);
    local $SIG{PIPE} = 'IGNORE';
    for (my $seq = 1; $seq <= $max && time() < $o->{until}; $seq++) {
        sleep $o->{pause} if $o->{pause} && $seq > 1;
        my $req = $o->{next}->($n, $seq, time()) or last;
        my ($tag, $path, @h) = @$req;
        if ($sock && $o->{reconnect} && $seq % $o->{reconnect} == 0) {
            close $sock;
            undef $sock;
        }
        my $head = "GET $path HTTP/1.1\r\nHost: localhost\r\n";
        while (my ($k, $v) = splice @h, 0, 2) {
            $head .= "$k: $v\r\n";
        }
        for my $attempt (1 .. 2) {
            if ($sock && IO::Select->new($sock)->can_read(0)) {
                close $sock;    # closed by nginx while idle
                undef $sock;
            }
            unless ($sock) {
                $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                    PeerPort => port(8080), Proto => 'tcp', Timeout => 5);
                $buf = '';
                $reused = 0;
            }
            my $t0 = time();
            my ($status, $code, $close) = (0, '-', 1);
            if ($sock && print $sock "$head\r\n") {
                ($status, $code, $close) = _read_answer($sock, \$buf);
            }
            my $retry = !$status && $reused && $attempt == 1;
            printf $fh "%s %.4f %.4f %d %s %d\n", $tag, $t0, time(), $status,
                $code, $retry ? 1 : 0;
            if ($status && !$close) {
                $reused = 1;
            } else {
                close $sock if $sock;
                undef $sock;
            }
            last unless $retry;
        }
    }
    close $fh;
}

# One answer from a keep-alive connection: (status, code, closing).
sub _read_answer {
    my ($s, $buf) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time() + 10;
    while (time() < $deadline) {
        if ($$buf =~ /\A(HTTP\/1\.\d (\d{3})[^\r]*\r\n(.*?)\r\n\r\n)/s) {
            my ($hl, $status, $headers) = (length $1, $2, $3);
            my ($cl) = $headers =~ /^content-length:\s*(\d+)/mi;
            $cl //= 0;
            if (length($$buf) >= $hl + $cl) {
                my $body = substr($$buf, $hl, $cl);
                substr($$buf, 0, $hl + $cl) = '';
                my ($code) = $body =~ /^\{"status":"(\w+)"\}$/;
                my $close = $headers =~ /^connection:\s*close/mi ? 1 : 0;
                return ($status, $code // '-', $close);
            }
        }
        last unless $sel->can_read($deadline - time());
        my $n = sysread($s, my $chunk, 65536);
        last unless $n;
        $$buf .= $chunk;
    }
    return (0, '-', 1);
}

1;
