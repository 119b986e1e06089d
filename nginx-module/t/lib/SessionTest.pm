package SessionTest;

# Session-store helpers for the nginx tests, beside AuthJWTTest:
#
#   - real memcached servers on free loopback ports (start, stop, restart on
#     the same port), each known by a name whose port is port("mc_<name>"),
#     so that a configuration names it as %%PORT_mc_<name>%%;
#   - session records written, read and deleted the way an auth server
#     would, with Cache::Memcached::Fast (an independent client), and read
#     back raw (value, remaining TTL, flags, CAS unique) with memcached's
#     meta command `mg`, so that a test sees exactly what the module wrote;
#   - a FAKE memcached that accepts connections and never answers, a
#     scripted one that answers each command with given bytes, and a slow
#     proxy in front of a real memcached that delays every answer;
#   - HTTP helpers the session tests need: a request fired without waiting
#     for its answer, and a keep-alive client.
#
# Every process started here binds 127.0.0.1 only, lives a bounded time,
# and is stopped by its PID when the test ends, dies or is interrupted.

use strict;
use warnings;

use Exporter qw(import);
use Carp qw(croak);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use Cache::Memcached::Fast;
use AuthJWTTest;

our @EXPORT = qw(
    start_memcached stop_memcached restart_memcached memcached_port
    memcached_pid
    mc mc_multi mc_set mc_get mc_delete mc_meta mc_raw mc_flush
    start_fake_memcached start_scripted_memcached start_slow_proxy
    stop_helper
    record session_token http_start http_finish http_pending
    keepalive_open keepalive_get second_start elapsed
);

my $OWNER = $$;
my %MC;          # name => { pid, port }
my @HELPERS;     # pids of forked fake servers and proxies

END {
    local $?;    # waitpid here must not change the test's exit status
    if ($$ == $OWNER) {
        stop_helper($_) for @HELPERS;
        stop_memcached($_) for keys %MC;
    }
}

###############################################################################
# memcached

sub memcached_port { port("mc_$_[0]") }

sub memcached_pid { $MC{ $_[0] // 'a' } && $MC{ $_[0] // 'a' }{pid} }

# start_memcached($name): a memcached on 127.0.0.1:port("mc_<name>");
# returns its port once it answers (dies after 5 seconds otherwise).
sub start_memcached {
    my ($name) = @_;
    $name //= 'a';
    stop_memcached($name);
    my $port = memcached_port($name);
    my @user = $> == 0 ? ('-u', 'nobody') : ();
    my $log = testdir() . "/memcached-$name.log";
    my $pid = fork() // croak "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec('memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0',
            '-m', '16', '-t', '2', @user) or POSIX::_exit(127);
    }
    $MC{$name} = { pid => $pid, port => $port };
    my $up = wait_for(5, sub {
        croak "memcached $name exited at start: " . slurp($log)
            if waitpid($pid, WNOHANG) == $pid;
        my $r = mc_raw($name, "version\r\n");
        return defined $r && $r =~ /^VERSION/;
    });
    croak "memcached $name did not answer on port $port: " . slurp($log)
        unless $up;
    return $port;
}

# Stops a memcached by its PID and waits until its port refuses.
sub stop_memcached {
    my ($name) = @_;
    $name //= 'a';
    my $m = delete $MC{$name} or return;
    kill 'CONT', $m->{pid};    # in case a test paused it
    _stop_pid($m->{pid});
}

sub restart_memcached {
    my ($name) = @_;
    stop_memcached($name);
    return start_memcached($name);
}

sub _stop_pid {
    my ($pid) = @_;
    for my $sig (qw(TERM KILL)) {
        kill $sig, $pid;
        return if wait_for(3, sub { waitpid($pid, WNOHANG) != 0 });
    }
}

# A Cache::Memcached::Fast client of one server, as an auth server would
# hold (raw bytes: no utf8 upgrade, no compression).
sub mc {
    my ($name) = @_;
    return mc_multi($name // 'a');
}

# A client of several servers (ketama, as the auth server might configure).
sub mc_multi {
    my (@names) = @_;
    return Cache::Memcached::Fast->new({
        servers => [ map { '127.0.0.1:' . memcached_port($_) } @names ],
        utf8 => 0, compress_threshold => -1, connect_timeout => 1,
        io_timeout => 1, ketama_points => 150,
    });
}

# mc_set($name, $key, $json, $exptime): writes a record (exptime 0: none;
# an absolute Unix time or seconds from now, as memcached reads it).
sub mc_set {
    my ($name, $key, $value, $exptime) = @_;
    my $ok = mc($name)->set($key, $value, $exptime // 0);
    croak "memcached $name: set $key failed" unless $ok;
    return $ok;
}

sub mc_get {
    my ($name, $key) = @_;
    return mc($name)->get($key);
}

sub mc_delete {
    my ($name, $key) = @_;
    return mc($name)->delete($key);
}

sub mc_flush {
    my ($name) = @_;
    return mc($name)->flush_all;
}

# mc_raw($name, $text): sends a raw command, returns what came back within
# half a second of the last byte (undef when the server cannot be reached).
sub mc_raw {
    my ($name, $text, $port) = @_;
    $port //= memcached_port($name);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 1) or return undef;
    binmode $s;
    print $s $text;
    my $sel = IO::Select->new($s);
    my $out = '';
    my $deadline = time() + 1;
    while (time() < $deadline && $sel->can_read($deadline - time())) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $out .= $buf;
        last if $out =~ /(?:^|\r\n)(?:END|EN|HD|NF|NS|EX|ERROR|VERSION [^\r]*)\r\n\z/
            || $out =~ /^VA (\d+)[^\r]*\r\n/ && length($out) >= length($&) + $1 + 2;
    }
    close $s;
    return $out;
}

# mc_meta($name, $key): { value, ttl (-1: none), flags, cas } of the item
# as memcached holds it, or undef when it is absent.
sub mc_meta {
    my ($name, $key) = @_;
    my $r = mc_raw($name, "mg $key v t f c\r\n");
    croak "memcached $name: no answer to mg" unless defined $r;
    return undef if $r =~ /^EN\r\n/;
    $r =~ /^VA (\d+) ([^\r]*)\r\n/ or croak "memcached $name: mg said: $r";
    my ($len, $flags) = ($1, $2);
    my %m = (value => substr($r, length $&, $len));
    $m{ttl}   = $1 if $flags =~ /\bt(-?\d+)/;
    $m{flags} = $1 if $flags =~ /\bf(\d+)/;
    $m{cas}   = $1 if $flags =~ /\bc(\d+)/;
    return \%m;
}

###############################################################################
# Records and tokens

# record(last_access_time => ..., session_idle_timeout => ...,
# fingerprint => ..., expires_at => ..., ...): a record's JSON text, members
# in the order given (strings quoted, numbers as they are; a value passed as
# \'text' is written raw).
sub record {
    my (@kv) = @_;
    my @m;
    while (my ($k, $v) = splice @kv, 0, 2) {
        my $t = ref $v eq 'SCALAR' ? $$v
            : !defined $v ? 'null'
            : $v =~ /^-?\d+$/ ? $v
            : json_encode([$v]) =~ s/^\[|\]$//gr;
        push @m, qq{"$k":$t};
    }
    return '{' . join(',', @m) . '}';
}

# A valid HS256 token carrying tokenId => $tid (undef: no tokenId).
sub session_token {
    my ($tid, %claims) = @_;
    my %c = (sub => 'alice', exp => now() + 600, %claims);
    $c{tokenId} = $tid if defined $tid;
    return mint(claims => \%c);
}

# Sleeps until just after a second boundary, so that the next few hundred
# milliseconds fall within one whole second (for whole-second comparisons).
sub second_start {
    my $t = time();
    my $frac = $t - int $t;
    sleep(1 - $frac + 0.02) if $frac > 0.05;
    return now();
}

# elapsed(sub { ... }): (seconds taken, the sub's result).
sub elapsed {
    my ($code) = @_;
    my $t0 = time();
    my $r = $code->();
    return (time() - $t0, $r);
}

###############################################################################
# Fake and slow servers (forked children, bounded lifetime)

sub _child {
    my ($life, $code) = @_;
    my $pid = fork() // croak "fork: $!";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP ALRM);
        alarm($life);
        eval { $code->() };
        POSIX::_exit(0);
    }
    push @HELPERS, $pid;
    return $pid;
}

sub stop_helper {
    my ($pid) = @_;
    @HELPERS = grep { $_ != $pid } @HELPERS;
    _stop_pid($pid);
}

sub _listen {
    my ($port) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Proto => 'tcp', Listen => 128, ReuseAddr => 1)
        or croak "cannot listen on 127.0.0.1:$port: $!";
    return $l;
}

# start_fake_memcached($port, $seconds): accepts connections, reads what
# they send and never answers, for $seconds (default 60). Returns its PID.
sub start_fake_memcached {
    my ($port, $life) = @_;
    my $l = _listen($port);
    my $pid = _child($life // 60, sub {
        my $sel = IO::Select->new($l);
        while (1) {
            for my $h ($sel->can_read(1)) {
                if ($h == $l) {
                    my $c = $l->accept or next;
                    $sel->add($c);
                } elsif (!sysread($h, my $buf, 65536)) {
                    $sel->remove($h);
                    close $h;
                }
            }
        }
    });
    close $l;
    return $pid;
}

# start_scripted_memcached($port, $reply, $chunk, $seconds): answers every
# command line (and a "cas" command's data line) with
# $reply->($line, $connection_number), a byte string, written $chunk bytes at a time (default: at once), 10 ms
# apart; keeps each connection open unless the reply is undef. Returns its
# PID.
sub start_scripted_memcached {
    my ($port, $reply, $chunk, $life) = @_;
    my $l = _listen($port);
    my $pid = _child($life // 60, sub {
        my $sel = IO::Select->new($l);
        my (%in, %id, $accepted);
        while (1) {
            for my $h ($sel->can_read(1)) {
                if ($h == $l) {
                    my $c = $l->accept or next;
                    $sel->add($c);
                    $in{fileno $c} = '';
                    $id{fileno $c} = ++$accepted;
                    next;
                }
                my $n = sysread($h, my $buf, 65536);
                my $close = !$n;
                $in{fileno $h} .= $buf if $n;
                while (!$close && $in{fileno $h} =~ s/^([^\n]*\n)//) {
                    my $line = $1;
                    next if $line !~ /^(gets|cas) /;   # a cas data line
                    my $out = $reply->($line, $id{fileno $h});
                    if (!defined $out) { $close = 1; last; }
                    for (my $i = 0; $i < length $out; $i += $chunk // length $out) {
                        syswrite($h, substr($out, $i, $chunk // length $out));
                        sleep(0.01) if $chunk;
                    }
                }
                if ($close) {
                    delete $in{fileno $h};
                    $sel->remove($h);
                    close $h;
                }
            }
        }
    });
    close $l;
    return $pid;
}

# start_slow_proxy($port, $upstream_port, $delay, $seconds): forwards TCP
# connections to 127.0.0.1:$upstream_port, delaying every chunk of the
# upstream's answers by $delay seconds (order kept). Returns its PID.
sub start_slow_proxy {
    my ($port, $up, $delay, $life) = @_;
    my $l = _listen($port);
    my $pid = _child($life // 60, sub {
        my $sel = IO::Select->new($l);
        my (%peer, %queue);    # fileno => handle; client fileno => [[due, data]]
        my %client_of;          # upstream fileno => client handle
        my $drop = sub {
            my ($c) = @_;
            my $u = $peer{fileno $c};
            for my $h ($c, $u) {
                next unless $h;
                $sel->remove($h);
                delete $peer{fileno $h};
                delete $client_of{fileno $h};
                delete $queue{fileno $h};
                close $h;
            }
        };
        while (1) {
            my $now = time();
            my $next = 1;
            for my $fd (keys %queue) {
                my $q = $queue{$fd};
                my $c = $client_of{ fileno $peer{$fd} } or next;
                while (@$q && $q->[0][0] <= $now) {
                    my $chunk = shift @$q;
                    syswrite($c, $chunk->[1]);
                }
                $next = $q->[0][0] - $now if @$q && $q->[0][0] - $now < $next;
            }
            $next = 0.001 if $next < 0.001;
            for my $h ($sel->can_read($next)) {
                next unless defined fileno $h;    # dropped with its peer
                if ($h == $l) {
                    my $c = $l->accept or next;
                    my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                        PeerPort => $up, Proto => 'tcp');
                    unless ($u) { close $c; next; }
                    $peer{fileno $c} = $u;
                    $peer{fileno $u} = $c;
                    $client_of{fileno $u} = $c;
                    $queue{fileno $c} = [];
                    $sel->add($c, $u);
                    next;
                }
                my $n = sysread($h, my $buf, 65536);
                my $is_up = exists $client_of{fileno $h};
                my $c = $is_up ? $client_of{fileno $h} : $h;
                unless ($n) { $drop->($c); next; }
                if ($is_up) {
                    push @{ $queue{fileno $c} }, [ time() + $delay, $buf ];
                } else {
                    syswrite($peer{fileno $h}, $buf);
                }
            }
        }
    });
    close $l;
    return $pid;
}

###############################################################################
# HTTP

# http_start($path, Header => value, ...): sends a GET (HTTP/1.0) to port
# 8080 without waiting; returns { sock, t0 } for http_finish.
sub http_start {
    my ($path, @h) = @_;
    my $port = ref $path eq 'HASH' ? port($path->{port}) : port(8080);
    $path = $path->{path} if ref $path eq 'HASH';
    my $req = "GET $path HTTP/1.0\r\nHost: localhost\r\n";
    while (my ($n, $v) = splice @h, 0, 2) {
        $req .= "$n: $v\r\n";
    }
    my $t0 = time();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or croak "connect: $!";
    binmode $s;
    local $SIG{PIPE} = 'IGNORE';
    print $s "$req\r\n";
    return { sock => $s, t0 => $t0 };
}

# True while no byte of the answer has arrived.
sub http_pending {
    my ($h) = @_;
    return !IO::Select->new($h->{sock})->can_read(0);
}

# http_finish($h, $timeout): the response (as http_request returns it, plus
# time: seconds from http_start to the end of the answer, and reset: the
# connection failed before a whole answer).
sub http_finish {
    my ($h, $timeout) = @_;
    my $s = $h->{sock};
    my $sel = IO::Select->new($s);
    my $deadline = time() + ($timeout // 10);
    my ($raw, $reset) = ('', 0);
    while (time() < $deadline) {
        last unless $sel->can_read($deadline - time());
        my $n = sysread($s, my $buf, 65536);
        $reset = 1 unless defined $n;
        last unless $n;
        $raw .= $buf;
    }
    my $t = time() - $h->{t0};
    close $s;
    my $r = AuthJWTTest::_parse_response($raw);
    $r->{time} = $t;
    $r->{reset} = $reset;
    return $r;
}

# A keep-alive connection to port 8080 (HTTP/1.1).
sub keepalive_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => port($port), Proto => 'tcp', Timeout => 5) or return undef;
    binmode $s;
    return { sock => $s, buf => '' };
}

# keepalive_get($conn, $path, Header => value, ...): one request on the
# connection; returns { status, body, closed } (status 0: no whole answer
# within 10 seconds, or the connection closed).
sub keepalive_get {
    my ($k, $path, @h) = @_;
    my $s = $k->{sock};
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\n";
    while (my ($n, $v) = splice @h, 0, 2) {
        $req .= "$n: $v\r\n";
    }
    local $SIG{PIPE} = 'IGNORE';
    print $s "$req\r\n" or return { status => 0, body => '', closed => 1 };
    my $sel = IO::Select->new($s);
    my $deadline = time() + 10;
    while (time() < $deadline) {
        if ($k->{buf} =~ /\A(HTTP\/1\.\d (\d{3})[^\r]*\r\n(.*?)\r\n\r\n)/s) {
            my ($head_len, $status, $headers) = (length $1, $2, $3);
            my ($cl) = $headers =~ /^content-length:\s*(\d+)/mi;
            $cl //= 0;
            if (length($k->{buf}) >= $head_len + $cl) {
                my $body = substr($k->{buf}, $head_len, $cl);
                substr($k->{buf}, 0, $head_len + $cl) = '';
                my $closed = $headers =~ /^connection:\s*close/mi ? 1 : 0;
                return { status => $status, body => $body, closed => $closed };
            }
        }
        last unless $sel->can_read($deadline - time());
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $k->{buf} .= $buf;
    }
    return { status => 0, body => '', closed => 1 };
}

1;
