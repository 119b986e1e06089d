#!/usr/bin/perl

# The Debian package on this machine, used as an administrator would: it is
# installed with apt-get; its files are where Debian's nginx modules put
# theirs; its postinst enabled the snippet; the system's nginx
# configuration, which now loads the module, passes `nginx -t`; an nginx
# loading the module through the enabled snippet accepts a valid token
# (200), refuses a missing one (401) and checks sessions in memcached (its
# own memcached client: no libmemcached is linked); and the purge removes every
# file and link, leaving the machine as it was, packages included.
#
# Needs root. AUTH_JWT_DEB names the .deb (make test-deb builds it and runs
# this file). The package must not be installed beforehand: the test will
# not replace an administrator's copy. Runs from several checkouts on one
# machine take turns (a lock file), as they share the package.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../../nginx-module/t/lib";

use constant {
    PACKAGE   => 'libnginx-mod-http-auth-jwt',
    SO        => '/usr/lib/nginx/modules/ngx_http_auth_jwt_module.so',
    AVAILABLE => '/usr/share/nginx/modules-available/mod-http-auth-jwt.conf',
    ENABLED   => '/etc/nginx/modules-enabled/50-mod-http-auth-jwt.conf',
    ABI_FILE  => '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars',
};

# The harness checks and reports the installed module, not the build tree's.
BEGIN { $ENV{TEST_NGINX_MODULE} = SO }

use Fcntl qw(:flock);
use File::Spec;
use Test::More;
use AuthJWTTest;
use SessionTest;

my $DEB = $ENV{AUTH_JWT_DEB}
    or BAIL_OUT('AUTH_JWT_DEB is not set (run make test-deb)');
$DEB = File::Spec->rel2abs($DEB);
BAIL_OUT("$DEB not found (run make deb)") unless -f $DEB;
BAIL_OUT('installing a package needs root') unless $> == 0;

open my $lock, '>>', '/run/lock/' . PACKAGE . '-test.lock'
    or BAIL_OUT("lock file: $!");
wait_for(600, sub { flock($lock, LOCK_EX | LOCK_NB) })
    or BAIL_OUT('another run of this test holds the lock');
BAIL_OUT(PACKAGE . ' is already on this machine (' . status()
    . '): purge it first') unless status() eq 'not-installed';

my @packages_before = installed_packages();
my %enabled_before = enabled_modules();
my $installed;

# Whatever happens, the machine is left without the package.
END {
    local $?;
    if ($installed) {
        stop_nginx();
        run_apt('purge', PACKAGE);
    }
}

###############################################################################
# Install

my ($rc, $out) = run_apt('install', $DEB);
$installed = 1;
is($rc, 0, 'apt-get install of the .deb') or diag($out);
is(status(), 'installed', 'the package is installed');

my %files = map { $_ => 1 } split /\n/, qx{dpkg -L ${\PACKAGE}};
ok($files{+SO}, 'the module is in /usr/lib/nginx/modules');
ok($files{+AVAILABLE}, 'the snippet is in /usr/share/nginx/modules-available');
ok(-f SO && -f AVAILABLE, 'both exist');
is(slurp(AVAILABLE), "load_module modules/ngx_http_auth_jwt_module.so;\n",
    'the snippet loads the module from nginx\'s modules directory');
is(readlink(ENABLED), AVAILABLE,
    'postinst enabled the snippet in /etc/nginx/modules-enabled');

my ($abi) = slurp(ABI_FILE) =~ /^nginx:abi=(\S+)$/m;
ok($abi, "nginx-dev names the nginx ABI ($abi)");
my $depends = qx{dpkg-query -W -f '\${Depends}' ${\PACKAGE}};
like($depends, qr/(^|, )\Q$abi\E(,|$)/, 'Depends on the nginx ABI');
unlike($depends, qr/libmemcached/, 'no libmemcached in Depends');
like($depends, qr/(^|, )libc6 /, 'Depends from shlibs');

my $ldd = qx{ldd ${\SO} 2>&1};
unlike($ldd, qr/not found/, 'every library the module needs is installed');
unlike($ldd, qr/libswift/, 'no Swift runtime library is needed at run time');
unlike($ldd, qr/libmemcached/, 'no libmemcached is linked');

###############################################################################
# The system's configuration loads it

($rc, $out) = run('nginx', '-T');
is($rc, 0, 'nginx -t accepts the system configuration') or diag($out);
like($out, qr{^# configuration file \Q${\ENABLED}\E:\n
    load_module\ modules/ngx_http_auth_jwt_module\.so;$}mx,
    'which loads the module through the enabled snippet');

###############################################################################
# An nginx loading it as the system's configuration does, on a loopback port
# with its own pid and logs (the system service is not touched), from the
# packaged nginx's prefix, where the snippet's relative path resolves.

write_jwks('jwks.json', 'hmac');
start_memcached('a');
mc_set('a', 'tid-1', record(last_access_time => now(),
    session_idle_timeout => 1800, expires_at => now() + 600), now() + 600);

my %packaged = (load => 'include /etc/nginx/modules-enabled/*.conf;',
    prefix => '/usr/share/nginx/');

start_nginx(<<'EOF', %packaged);
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location / { empty_gif; }

        location /session {
            auth_jwt_session key=$jwt_claim_tokenId;
            empty_gif;
        }
    }
EOF

is_ok(http_get_token('/', mint()), 'a valid token');
is_rejected(http_get('/'), 401, 'TOKEN_MISSING', 'no token');
is_ok(http_get_token('/session', session_token('tid-1')),
    'a valid token with its session in memcached');
is_rejected(http_get_token('/session', session_token('tid-2')),
    401, 'LOGGED_OUT', 'a valid token without a session');
like(error_log(), qr/start worker process/, 'the worker started');
no_log_alerts();
stop_nginx();

###############################################################################
# Purge, and the machine as it was

($rc, $out) = run_apt('purge', PACKAGE);
is($rc, 0, 'apt-get purge') or diag($out);
$installed = 0 if $rc == 0;
is(status(), 'not-installed', 'the package is gone');
ok(!-e SO && !-e AVAILABLE, 'its files are gone');
ok(!-l ENABLED && !-l ENABLED . '.removed', 'its enabling link is gone');
is_deeply({ enabled_modules() }, \%enabled_before,
    '/etc/nginx/modules-enabled is as it was');

($rc, $out) = run('nginx', '-t');
is($rc, 0, 'nginx -t accepts the system configuration after the purge')
    or diag($out);

# Packages apt-get pulled in for the .deb's Depends go too.
my %before = map { $_ => 1 } @packages_before;
my @pulled = grep { !$before{$_} } installed_packages();
if (@pulled) {
    ($rc, $out) = run_apt('purge', @pulled);
    is($rc, 0, "apt-get purge of what the install pulled in: @pulled")
        or diag($out);
}
is_deeply([installed_packages()], \@packages_before,
    'the installed packages are as they were');

done_testing();

###############################################################################

# The package's dpkg status: installed, config-files, not-installed, ...
sub status {
    my $s = qx{dpkg-query -W -f '\${db:Status-Status}' ${\PACKAGE} 2>/dev/null};
    return $s eq '' ? 'not-installed' : $s;
}

sub installed_packages {
    return sort grep { /\S/ } split /\n/, qx{dpkg-query -W -f \\
        '\${db:Status-Status} \${binary:Package}\n' | sed -n 's/^installed //p'};
}

# name => link target of every entry in /etc/nginx/modules-enabled.
sub enabled_modules {
    my $dir = '/etc/nginx/modules-enabled';
    opendir my $dh, $dir or return ();
    return map { $_ => readlink("$dir/$_") // 'file' }
        grep { !/^\.\.?$/ } readdir $dh;
}

# run(@command): (exit code, stdout and stderr).
sub run {
    my $cmd = join ' ', map { quotemeta } @_;
    my $out = qx{$cmd 2>&1};
    return ($? >> 8, $out);
}

sub run_apt {
    my ($action, @args) = @_;
    local $ENV{DEBIAN_FRONTEND} = 'noninteractive';
    return run('apt-get', $action, '-y', '-q', '--no-install-recommends',
        @args);
}
