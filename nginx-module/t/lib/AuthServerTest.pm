package AuthServerTest;

# The reference auth server (examples/auth-server) for integration tests:
# its binary (TEST_AUTH_SERVER, default the debug build; a missing one bails
# out, or skips with TEST_AUTH_JWT_SKIP_MISSING), started on port($name)
# and waited for, and stopped when the test exits.

use strict;
use warnings;

use Exporter qw(import);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use POSIX qw(WNOHANG);
use Test::More;
use AuthJWTTest;

our @EXPORT = qw(auth_server_path require_auth_server start_auth_server);

my $AUTH_SERVER = $ENV{TEST_AUTH_SERVER}
    || abs_path(dirname(__FILE__) . '/../../..')
        . '/examples/auth-server/.build/debug/auth-server';
my @PIDS;
my $OWNER = $$;

END {
    local $?;
    if ($$ == $OWNER) {
        for my $pid (@PIDS) {
            kill 'TERM', $pid;
            kill 'KILL', $pid
                unless wait_for(5, sub { waitpid($pid, WNOHANG) != 0 });
        }
    }
}

sub auth_server_path { $AUTH_SERVER }

sub require_auth_server {
    return if -x $AUTH_SERVER;
    my $msg = "auth server not found at $AUTH_SERVER"
        . " (build it with 'make auth-server')";
    plan(skip_all => $msg) if $ENV{TEST_AUTH_JWT_SKIP_MISSING};
    BAIL_OUT($msg);
}

# Starts the auth server on port($name) with @args, logging to $name.log;
# returns its pid once /health answers.
sub start_auth_server {
    my ($name, @args) = @_;
    my $log = testdir() . "/$name.log";
    my $listen = '127.0.0.1:' . port($name);    # chosen before the fork
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec($AUTH_SERVER, 'serve', '--listen', $listen, @args)
            or POSIX::_exit(127);
    }
    push @PIDS, $pid;
    my $up = wait_for(30, sub {
        die "auth server exited:\n" . slurp($log)
            if waitpid($pid, WNOHANG) == $pid;
        # Connection: close, as nginx sends it: Hummingbird keeps an HTTP/1.0
        # connection open without it.
        http_request(path => '/health', port => $name,
            headers => [ Connection => 'close' ])->{status} == 200;
    });
    ok($up, "the auth server $name answers /health")
        or BAIL_OUT('auth server did not start: ' . slurp($log));
    return $pid;
}

1;
