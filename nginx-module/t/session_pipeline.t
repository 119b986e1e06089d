#!/usr/bin/perl

# The pipelined memcached client: concurrent requests share a few
# connections (connections=), at most pipeline= commands on each, written
# together (one write in flight per connection: commands queued meanwhile
# are held until its replies are in) and answered in order. Against a
# scripted server that delays its replies, so that commands pile up: every
# request gets the verdict on its own record (each record has its own
# fingerprint, so a reply read by the wrong request is a
# FINGERPRINT_MISMATCH); replies split across reads are read whole; an
# unreadable reply fails its own request only; a server that answers some
# commands and then hangs, or closes, fails the requests still waiting on
# it, quickly; clients that leave while their lookup is queued do not
# disturb the others.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));

my $STATS = testdir() . '/stats';
my @SERVERS;
END { kill 'KILL', @SERVERS if @SERVERS }

# A memcached that answers "gets" with a live record per key, whose
# fingerprint is "fp-<key>", after $o{delay} seconds, $o{chunk} bytes at a
# time; answers only the first $o{answer} commands of a connection, then
# hangs (or closes with $o{close}); a command with a key starting with
# "garbage" gets an unreadable reply, one with a key starting with "huge"
# a record over 64 KiB for it. It appends to $STATS one line per read:
# "<connection> <keys read> <keys waiting for their reply> <commands read>".
sub start_pipeline_server {
    my (%o) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => port('fake'), Proto => 'tcp', Listen => 128,
        ReuseAddr => 1) or die "listen: $!";
    unlink $STATS;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        alarm(60);
        $SIG{PIPE} = 'IGNORE';    # nginx closes a connection it cannot read
        open my $log, '>>', $STATS or die;
        $log->autoflush(1);
        my $sel = IO::Select->new($l);
        my (%in, %out, %id, %answered, %hung, $accepted);
        while (1) {
            for my $h ($sel->can_read(0.005)) {
                if ($h == $l) {
                    my $c = $l->accept or next;
                    $sel->add($c);
                    my $f = fileno $c;
                    ($in{$f}, $out{$f}, $id{$f}, $answered{$f}) = ('', [], ++$accepted, 0);
                    next;
                }
                my $f = fileno $h;
                my $n = sysread($h, my $buf, 65536);
                if (!$n) {
                    $sel->remove($h);
                    close $h;
                    next;
                }
                $in{$f} .= $buf;
                my ($read, $commands) = (0, 0);
                while ($in{$f} =~ s/^([^\n]*\n)//) {
                    my $line = $1;
                    next unless $line =~ /^gets ([^\r\n]+)/;
                    my @keys = split / /, $1;
                    $read += @keys;
                    $commands++;
                    my $reply = (grep { /^garbage/ } @keys) ? "HELLO\r\n"
                        : join('', map {
                            my $data = /^huge/ ? 'x' x 70000
                                : record(fingerprint => "fp-$_",
                                    last_access_time => now(),
                                    session_idle_timeout => -1);
                            sprintf("VALUE %s 0 %d 1\r\n%s\r\n", $_,
                                length $data, $data);
                        } @keys) . "END\r\n";
                    push @{ $out{$f} },
                        [time() + ($o{delay} // 0), $reply, scalar @keys];
                }
                my $waiting = 0;
                $waiting += $_->[2] for @{ $out{$f} };
                printf $log "%d %d %d %d\n", $id{$f}, $read, $waiting,
                    $commands if $read;
            }
            for my $h ($sel->handles) {
                next if $h == $l;
                my $f = fileno $h;
                while (@{ $out{$f} } && $out{$f}[0][0] <= time() && !$hung{$f}) {
                    if (defined $o{answer} && $answered{$f} >= $o{answer}) {
                        $hung{$f} = 1;
                        if ($o{close}) {
                            $sel->remove($h);
                            close $h;
                        }
                        last;
                    }
                    my $reply = (shift @{ $out{$f} })->[1];
                    my $chunk = $o{chunk} // length $reply;
                    for (my $i = 0; $i < length $reply; $i += $chunk) {
                        syswrite($h, substr($reply, $i, $chunk));
                        sleep(0.002) if $o{chunk};
                    }
                    $answered{$f}++;
                }
            }
        }
    }
    close $l;
    push @SERVERS, $pid;
    return $pid;
}


sub stop_server {
    my ($pid) = @_;
    kill 'KILL', $pid;
    waitpid($pid, 0);
    @SERVERS = grep { $_ != $pid } @SERVERS;
}

sub stats {
    open my $fh, '<', $STATS or return { conns => 0, batch => 0, waiting => 0 };
    my %s = (conns => 0, batch => 0, waiting => 0);
    my %seen;
    while (<$fh>) {
        my ($c, $read, $waiting) = split;
        $seen{$c} = 1;
        $s{batch} = $read if $read > $s{batch};
        $s{waiting} = $waiting if $waiting > $s{waiting};
    }
    $s{conns} = keys %seen;
    return \%s;
}

# Sends n requests at once (key "<prefix>-<i>", fingerprint "fp-<key>",
# or a wrong one for the indexes in $wrong), and returns their answers.
sub burst {
    my ($n, $prefix, %o) = @_;
    my @h;
    for my $i (1 .. $n) {
        my $key = ref $prefix ? $prefix->($i) : "$prefix-$i";
        my $fp = $o{wrong} && $o{wrong}{$i} ? 'another-device' : "fp-$key";
        push @h, http_start('/', 'X-Auth-Token' => session_token($key),
            'Finger-Print' => $fp);
    }
    return [map { http_finish($_, 10) } @h];
}

sub codes {
    my ($answers) = @_;
    my %n;
    $n{ $_->{status} . ' ' . (($_->{body} // '') =~ /"status":"(\w+)"/ ? $1 : '') }++
        for @$answers;
    return \%n;
}

# One request, then seven held behind it while its reply is owed, which
# leave together once it is in: key "<prefix>-0", then $keys->(i) (default
# "<prefix>-<i>"). Returns the lone one's answer, the seven's and the
# seconds they took.
sub lone_then_seven {
    my ($prefix, $keys) = @_;
    my $t0 = time();
    my $lone = http_start('/', 'X-Auth-Token' => session_token("$prefix-0"),
        'Finger-Print' => "fp-$prefix-0");
    sleep(0.05);
    my $seven = burst(7, $keys // $prefix);
    return (http_finish($lone, 10), $seven, time() - $t0);
}

# nginx with a session check against the scripted server, with the given
# auth_jwt_memcached parameters.
sub start_session_nginx {
    my ($params) = @_;
    start_nginx(<<"EOF");
    auth_jwt_memcached 127.0.0.1:%%PORT_fake%% $params;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test" token=\$http_x_auth_token;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=\$jwt_claim_tokenId fingerprint=\$http_finger_print
                         touch=1h;
        location / { empty_gif; }
    }
EOF
}

start_session_nginx('timeout=3s connections=2 pipeline=8');

# A failed server is left alone for a second or two.
sub settle { sleep(2.1) }

###############################################################################

my $fake = start_pipeline_server(delay => 0.05);

my $answers = burst(40, 'own');
is_deeply(codes($answers), { '200 ' => 40 },
    '40 concurrent requests: each passes with its own record');
my $s = stats();
ok($s->{batch} > 1, "commands arrive together (largest read: $s->{batch})");
ok($s->{conns} <= 2, "at most connections=2 connections ($s->{conns})");
ok($s->{waiting} <= 8, "at most pipeline=8 commands in flight ($s->{waiting})");
ok($s->{waiting} > 1, "commands in flight together ($s->{waiting})");

my %wrong = map { $_ => 1 } (3, 7, 11, 19, 23);
$answers = burst(24, 'mixed', wrong => \%wrong);
my @bad = grep { $answers->[$_ - 1]{status} != 200 } 1 .. 24;
is_deeply(\@bad, [sort { $a <=> $b } keys %wrong],
    'a wrong device fails exactly its own requests');
like($answers->[2]{body}, qr/FINGERPRINT_MISMATCH/, 'as FINGERPRINT_MISMATCH');

$answers = burst(12, sub { $_[0] == 6 ? 'garbage-6' : "g-$_[0]" });
is($answers->[5]{status}, 503, 'an unreadable reply fails its own request');
is_deeply([grep { $_ != 6 && $answers->[$_ - 1]{status} != 200 } 1 .. 12], [],
    'the requests behind it are answered on another connection');
stop_server($fake);

# A merged reply that cannot be read, or holds a record over 64 KiB, is no
# single lookup's fault: each goes again alone, and only its own fails.
for my $bad (['garbage', qr/SESSION_STORE_UNAVAILABLE/],
             ['huge', qr/INVALID_SESSION/])
{
    my ($kind, $want) = @$bad;
    $fake = start_pipeline_server(delay => 0.3);
    my ($lone, $seven) = lone_then_seven("ok-$kind",
        sub { $_[0] == 4 ? "$kind-4" : "ok-$kind-$_[0]" });
    is($lone->{status}, 200, "$kind in a merged reply: the request before passes");
    like($seven->[3]{body}, $want, "$kind: its own request fails");
    is_deeply([grep { $_ != 4 && $seven->[$_ - 1]{status} != 200 } 1 .. 7], [],
        "$kind: the six merged with it pass");
    my @reads = do {
        open my $fh, '<', $STATS or die "$STATS: $!";
        map { [split] } <$fh>;
    };
    my ($keys, $commands) = (0, 0);
    for (@reads[2 .. $#reads]) {
        $keys += $_->[1];
        $commands += $_->[3];
    }
    # 7 + 3: the three behind the bad one go once more on a new connection
    is_deeply([$reads[1][1], $reads[1][3], $keys, $commands], [7, 1, 10, 10],
        "$kind: the seven merged, then asked again one by one");
    stop_server($fake);
    settle();
}

###############################################################################
# One write in flight per connection: commands queued while its replies are
# owed are held, and leave together, in one write, once those are in.

$fake = start_pipeline_server(delay => 0.3);
my $first = http_start('/', 'X-Auth-Token' => session_token('held-0'),
    'Finger-Print' => 'fp-held-0');
sleep(0.1);
my @held = map {
    http_start('/', 'X-Auth-Token' => session_token("held-$_"),
        'Finger-Print' => "fp-held-$_")
} 1 .. 5;
$answers = [map { http_finish($_, 10) } $first, @held];
is(codes($answers)->{'200 '}, 6, 'held commands: all answered');
my @reads = do {
    open my $fh, '<', $STATS or die "$STATS: $!";
    map { [split] } <$fh>;
};
is_deeply([map { $_->[1] } @reads], [1, 5],
    'the five queued while the first reply was owed leave in one write');
is_deeply([map { $_->[2] } @reads], [1, 5],
    'after that reply: never more than one write in flight');
is_deeply([map { $_->[3] } @reads], [1, 1], 'merged into one "gets"');
stop_server($fake);

# Requests of one session, held together: the key is asked once, and each
# reads the one item.
$fake = start_pipeline_server(delay => 0.3);
$first = http_start('/', 'X-Auth-Token' => session_token('twin-0'),
    'Finger-Print' => 'fp-twin-0');
sleep(0.1);
@held = map {
    http_start('/', 'X-Auth-Token' => session_token('twin'),
        'Finger-Print' => 'fp-twin')
} 1 .. 3;
$answers = [map { http_finish($_, 10) } $first, @held];
is(codes($answers)->{'200 '}, 4, 'one session, three requests held: all pass');
@reads = do {
    open my $fh, '<', $STATS or die "$STATS: $!";
    map { [split] } <$fh>;
};
is_deeply([map { $_->[1] } @reads], [1, 1], 'the shared key asked once');
stop_server($fake);

###############################################################################
# Replies that arrive a few bytes at a time.

$fake = start_pipeline_server(delay => 0.02, chunk => 7);
$answers = burst(16, 'chunked');
is(codes($answers)->{'200 '}, 16, 'replies split across reads: all read whole');
stop_server($fake);

###############################################################################
# A server that answers the first command on a connection, then hangs, or
# closes it: one request goes first, seven are held behind it and leave
# once it is answered.

$fake = start_pipeline_server(delay => 0.1, answer => 1);
my ($lone, $seven, $took) = lone_then_seven('hang');
is($lone->{status}, 200, 'a server that hangs: the command it answered passes');
is(codes($seven)->{'503 SESSION_STORE_UNAVAILABLE'}, 7,
    'those waiting when it hung: 503');
ok($took < 6, sprintf('within the timeout, not forever (%.1f s)', $took));
stop_server($fake);
settle();

$fake = start_pipeline_server(delay => 0.1, answer => 1, close => 1);
($lone, $seven, $took) = lone_then_seven('closes');
is($lone->{status}, 200,
    'a server that closes mid-pipeline: the command it answered passes');
is(codes($seven)->{'503 SESSION_STORE_UNAVAILABLE'}, 7,
    'those waiting when it closed: 503');
ok($took < 1, sprintf('at once, not after the timeout (%.2f s)', $took));
stop_server($fake);
settle();

###############################################################################
# Clients that leave while their lookup waits in the pipeline.

$fake = start_pipeline_server(delay => 0.3);
my @h;
for my $i (1 .. 16) {
    push @h, http_start('/', 'X-Auth-Token' => session_token("leave-$i"),
        'Finger-Print' => "fp-leave-$i");
}
sleep(0.05);
close $h[$_ * 2]{sock} for 0 .. 7;
my @stayed = map { http_finish($h[$_ * 2 + 1], 10) } 0 .. 7;
is(scalar(grep { $_->{status} == 200 } @stayed), 8,
    'clients that stayed get their answers while others left');
$answers = burst(8, 'after');
is(codes($answers)->{'200 '}, 8, 'and the pipeline stays in step after');
stop_server($fake);

my $log = error_log();
unlike($log, qr/\[alert\]|\[emerg\]|\[crit\]|exited on signal/,
    'no alert, crash or leak reported');

stop_nginx();

###############################################################################
# connections=1 pipeline=2: a burst waits in the backlog, none refused.

start_session_nginx('timeout=2s connections=1 pipeline=2');

$fake = start_pipeline_server(delay => 0.02);
$answers = burst(12, 'backlog');
is(codes($answers)->{'200 '}, 12, 'a burst beyond connections x pipeline: all answered');
$s = stats();
is($s->{conns}, 1, 'on one connection');
ok($s->{waiting} <= 2, "never more than 2 commands in flight ($s->{waiting})");
stop_server($fake);

stop_nginx();

done_testing();
