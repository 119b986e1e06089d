#!/usr/bin/perl

# `nginx -s reload` and a restart under a bounded request loop: requests keep
# succeeding, new keys take effect, old workers exit, nothing is logged at
# [alert] or [crit], and a broken reload leaves the running configuration.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;

my $CONF = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        location / { empty_gif; }
    }
EOF

my $hs = mint(claims => { sub => 'alice', exp => now() + 600 });
my $rs = mint(alg => 'RS256', claims => { sub => 'bob', exp => now() + 600 });

write_jwks('jwks.json', qw(hmac));
start_nginx($CONF);

is_ok(http_get_token('/', $hs), 'HS256 accepted at start');
is_rejected(http_get_token('/', $rs), 401, 'INVALID_TOKEN', 'RS256 unknown at start');

# A child sends requests until $seconds pass or $max are sent, and writes
# "<sent> <failed> <first failure>" to a file. It leaves by POSIX::_exit so
# that it never runs the harness's END block (which stops nginx).
sub start_load {
    my ($seconds, $max) = @_;
    my $file = testdir() . "/load.$$." . int(time() * 1000);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        my ($sent, $failed, $first) = (0, 0, '');
        my $deadline = time() + $seconds;
        while (time() < $deadline && $sent < $max) {
            my $res = http_get_token('/', $hs);
            $sent++;
            next if $res->{status} == 200;
            $failed++;
            $first ||= "status $res->{status}: $res->{body}";
        }
        if (open my $fh, '>', $file) {
            print $fh "$sent $failed $first";
            close $fh;
        }
        POSIX::_exit(0);
    }
    return { pid => $pid, file => $file };
}

sub finish_load {
    my ($load, $name) = @_;
    unless (wait_for(30, sub { waitpid($load->{pid}, WNOHANG) != 0 })) {
        kill 'KILL', $load->{pid};
        waitpid($load->{pid}, 0);
    }
    my ($sent, $failed, $first) = split / /,
        (slurp($load->{file}) || '0 0'), 3;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    cmp_ok($sent, '>', 20, "$name: requests were sent");
    is($failed, 0, "$name: every request succeeded") or diag($first);
}

# Waits until the master has one child left (old workers have exited).
sub one_worker_left {
    return wait_for(15, sub { nginx_workers() == 1 });
}

# Reloads under load; the third adds the RSA key.
my $load = start_load(6, 3000);
for my $round (1 .. 5) {
    write_jwks('jwks.json', $round >= 3 ? qw(hmac rsa) : qw(hmac));
    my ($rc, $out) = reload_nginx();
    is($rc, 0, "reload $round: nginx -s reload succeeded") or diag($out);
    sleep 0.8;
}
finish_load($load, 'five reloads under load');

ok(wait_for(5, sub { http_get_token('/', $rs)->{status} == 200 }),
    'RS256 accepted after the reload that added its key');
is_ok(http_get_token('/', $hs), 'HS256 still accepted after reloads');
ok(one_worker_left(), 'old workers exited after the reloads');

# A reload that removes a key takes effect too.
write_jwks('jwks.json', qw(rsa));
reload_nginx();
ok(wait_for(5, sub { http_get_token('/', $hs)->{status} == 401 }),
    'HS256 refused after the reload that removed its key');
is_ok(http_get_token('/', $rs), 'RS256 still accepted');

no_log_alerts('no alert, emerg or crit after the reloads');

# Restart: stop by PID, start again, requests succeed.
stop_nginx();
write_jwks('jwks.json', qw(hmac rsa));
start_nginx($CONF);
$load = start_load(slow(2), 500);    # a fresh nginx is slow under valgrind
finish_load($load, 'after a restart');
is_ok(http_get_token('/', $rs), 'RS256 accepted after a restart');

# A broken reload: the master logs the error and keeps the old configuration.
write_file('broken.json', '{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}');
my $broken = $CONF =~ s{jwks\.json}{broken.json}r;
$load = start_load(3, 1500);
reload_nginx($broken);
sleep 1;
finish_load($load, 'during a reload with a broken key file');
ok(wait_for(5, sub { error_log() =~ /\[emerg\].*broken\.json/ }),
    'broken reload: the error names the key file');
is_ok(http_get_token('/', $hs), 'broken reload: the old configuration still serves');
my @bad = grep { /\[(alert|crit)\]/ } split /\n/, error_log();
is(scalar @bad, 0, 'no alert or crit after the broken reload') or diag(join "\n", @bad);

done_testing();
