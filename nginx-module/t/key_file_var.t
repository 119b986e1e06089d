#!/usr/bin/perl

# auth_jwt_key_file with variables in the file name (NGINX Plus's feature,
# with kjdev's keyval format too): files read by the workers at request
# time, kept in the "auth_jwt_key_files" zone, two workers. Covered here:
#   - nginx -t: names with variables load (alone, with keyval, mixed with
#     a static file); a ".." segment, too many such directives at one
#     level, an unknown variable, a bad format are refused;
#   - one file per Host: each host's token passes there and nowhere else;
#     keyval by variable; a relative name (the configuration's prefix);
#     static and variable files at one level (their union);
#   - a missing file (401, info), an unreadable one (503, error naming the
#     file), garbage, a FIFO (never waited for), a file over 1 MiB (503),
#     an empty name and a ".." segment from a header (401, logged);
#   - a file is read once per period for all workers, and a changed file
#     is picked up after the period (not before); a token verified with
#     the old keys is not replayed from the token cache; a file turned
#     invalid keeps the keys read before, a deleted one drops them;
#   - more files than the zone holds (1024): the least recently used are
#     evicted and read again, answers stay right.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use AuthJWTTest;

require_module();

my $T = testdir();

###############################################################################
# nginx -t

sub conf {
    my ($loc) = @_;
    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            auth_jwt "t";
            $loc
            empty_gif;
        }
    }
EOF
}

sub accepts {
    my ($loc, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = nginx_t(conf($loc));
    is($rc, 0, "nginx -t accepts $name") or diag($out);
}

sub refuses {
    my ($loc, $re, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($rc, $out) = nginx_t(conf($loc));
    isnt($rc, 0, "nginx -t refuses $name");
    like($out, $re, "$name: the message") or diag($out);
}

write_jwks('static.jwks', qw(hmac));

accepts('auth_jwt_key_file %%TESTDIR%%/hosts/$host.jwks;',
    'a file name with a variable (the file need not exist)');
accepts('auth_jwt_key_file $http_x_file;', 'a file name that is a variable');
accepts('auth_jwt_key_file %%TESTDIR%%/kv/$host.json keyval;',
    'keyval with a variable');
accepts('auth_jwt_key_file %%TESTDIR%%/static.jwks;
        auth_jwt_key_file %%TESTDIR%%/hosts/$host.jwks;
        auth_jwt_type encrypted;',
    'static and variable files (the type is not checked at start)');
refuses('auth_jwt_key_file %%TESTDIR%%/hosts/../$host.jwks;',
    qr/"auth_jwt_key_file" directive: ".*\/hosts\/\.\.\/\$host\.jwks" has a "\.\." segment/,
    'a ".." segment in the name');
refuses(join('', map { "auth_jwt_key_file %%TESTDIR%%/$_/\$host.jwks;\n" } 1 .. 9),
    qr/more than 8 "auth_jwt_key_file" directives with variables at one level/,
    'nine variable key files at one level');
refuses('auth_jwt_key_file %%TESTDIR%%/$no_such_variable.jwks;',
    qr/unknown "no_such_variable" variable/, 'an unknown variable');
refuses('auth_jwt_key_file %%TESTDIR%%/$host.jwks pem;',
    qr/"auth_jwt_key_file" directive: invalid format "pem"/,
    'a bad format with a variable');
refuses('auth_jwt_key_file %%TESTDIR%%/no-such-file.jwks;',
    qr/open\(\) ".*no-such-file\.jwks" failed/,
    'a static file is still read at start');

###############################################################################
# Files and tokens

my %tok = (
    rsa  => mint(alg => 'RS256', key => 'rsa'),
    rsa2 => mint(alg => 'RS256', key => 'rsa2', kid => 'rsa'),
    p256 => mint(alg => 'ES256', key => 'p256'),
    hmac => mint(alg => 'HS256', key => 'hmac'),
);

write_jwks('hosts/a.example.jwks', qw(rsa));
write_jwks('hosts/b.example.jwks', qw(p256));
write_file('kv/t1.json', json_encode({ rsa => slurp(key_file('rsa')) }));
write_jwks('hdr/a.jwks', qw(rsa));
write_jwks('hdr/locked.jwks', qw(rsa));
chmod 0000, "$T/hdr/locked.jwks";
write_file('hdr/garbage.jwks', 'this is not a JWKS');
POSIX::mkfifo("$T/hdr/fifo.jwks", 0644) or die "mkfifo: $!";
write_file('big/b.jwks', json_encode({ keys => [ jwk_public('rsa',
    pad => 'x' x (1024 * 1024)) ] }));
write_jwks('rel/r1.jwks', qw(p256));
write_jwks('once/o.jwks', qw(rsa));
write_jwks('rot/r.jwks', qw(rsa));

# many/: 1100 files, each with its own HMAC key (more than the zone's 1024)
my $MANY = 1100;
my %many_key;
for my $i (1 .. $MANY) {
    my $secret = sprintf('%064d', $i);
    $many_key{$i} = $secret;
    write_file(sprintf('many/t%04d.jwks', $i), json_encode({ keys => [
        { kty => 'oct', k => b64u($secret), kid => 'm' } ] }));
}

sub many_token {
    my ($secret) = @_;
    return sign_compact('{"alg":"HS256","kid":"m"}',
        json_encode({ sub => 'm', exp => now() + 600 }), secret => $secret);
}

start_nginx(<<'EOF', workers => 2);
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/static.jwks;  # levels that set none

        location /host/ {
            auth_jwt_key_file %%TESTDIR%%/hosts/$host.jwks;
            empty_gif;
        }
        location /kv/ {
            auth_jwt_key_file %%TESTDIR%%/kv/$http_x_tenant.json keyval;
            empty_gif;
        }
        location /hdr/ {
            auth_jwt_key_file %%TESTDIR%%/hdr/$http_x_tenant.jwks;
            empty_gif;
        }
        location /big/ {
            auth_jwt_key_file %%TESTDIR%%/big/$http_x_tenant.jwks;
            empty_gif;
        }
        location /empty/ {
            auth_jwt_key_file $http_x_file;
            empty_gif;
        }
        location /rel/ {
            auth_jwt_key_file rel/$http_x_tenant.jwks;
            empty_gif;
        }
        location /mixed/ {
            auth_jwt_key_file %%TESTDIR%%/static.jwks;
            auth_jwt_key_file %%TESTDIR%%/hdr/$http_x_tenant.jwks;
            empty_gif;
        }
        location /once/ {
            auth_jwt_key_cache 1h;
            auth_jwt_key_file %%TESTDIR%%/once/$http_x_tenant.jwks;
            empty_gif;
        }
        location /rot/ {
            auth_jwt_key_cache 1s;
            auth_jwt_key_file %%TESTDIR%%/rot/$http_x_tenant.jwks;
            empty_gif;
        }
        location /many/ {
            auth_jwt_key_cache 1h;
            auth_jwt_key_file %%TESTDIR%%/many/$http_x_tenant.jwks;
            empty_gif;
        }
    }
EOF

# get($path, $token, Header => value ...): Host defaults to localhost
sub get {
    my ($path, $token, %h) = @_;
    my $host = delete $h{Host} // 'localhost';
    my $raw = "GET $path HTTP/1.0\r\nHost: $host\r\n";
    $raw .= "Authorization: Bearer $token\r\n" if defined $token;
    $raw .= "$_: $h{$_}\r\n" for sort keys %h;
    return http_request(raw => "$raw\r\n");
}

###############################################################################
# One file per host, keyval, relative names, static and variable together

is_ok(get('/host/', $tok{rsa}, Host => 'a.example'), 'a.example, its token');
is_ok(get('/host/', $tok{p256}, Host => 'b.example'), 'b.example, its token');
is_rejected(get('/host/', $tok{p256}, Host => 'a.example'), 401,
    'INVALID_TOKEN', "a.example, b.example's token");
is_rejected(get('/host/', $tok{rsa}, Host => 'b.example'), 401,
    'INVALID_TOKEN', "b.example, a.example's token");
is_ok(get('/host/', $tok{rsa}, Host => 'A.Example'),
    '$host is lowercased: A.Example is a.example');

is_ok(get('/kv/', $tok{rsa}, 'X-Tenant' => 't1'), 'keyval by variable');
is_rejected(get('/kv/', $tok{p256}, 'X-Tenant' => 't1'), 401,
    'INVALID_TOKEN', 'keyval by variable, another key');

is_ok(get('/rel/', $tok{p256}, 'X-Tenant' => 'r1'),
    'a relative name is under the configuration prefix');

is_ok(get('/mixed/', $tok{hmac}, 'X-Tenant' => 'nobody'),
    'static and variable: the static key, no variable file');
is_ok(get('/mixed/', $tok{rsa}, 'X-Tenant' => 'a'),
    "static and variable: the variable file's key");
is_rejected(get('/mixed/', $tok{rsa}, 'X-Tenant' => 'nobody'), 401,
    'INVALID_TOKEN', "static and variable: another tenant's key");

###############################################################################
# Failures

is_rejected(get('/host/', $tok{rsa}, Host => 'c.example'), 401,
    'INVALID_TOKEN', 'no file for the host');
like(error_log(), qr/\[info\].*auth_jwt: key file "\Q$T\E\/hosts\/c\.example\.jwks" does not exist/,
    'a missing file is logged at info, with its name');
unlike(error_log(), qr/\[(error|crit|alert)\].*c\.example/,
    'a missing file is no error');

is_rejected(get('/hdr/', $tok{rsa}, 'X-Tenant' => 'locked'), 503,
    'KEYS_UNAVAILABLE', 'an unreadable file');
like(error_log(), qr/\[error\].*auth_jwt: key file: open\(\) "\Q$T\E\/hdr\/locked\.jwks" failed \(13: Permission denied\)/,
    'an unreadable file is logged at error, with its name');

is_rejected(get('/hdr/', $tok{rsa}, 'X-Tenant' => 'garbage'), 503,
    'KEYS_UNAVAILABLE', 'a file that is no JWKS');
like(error_log(), qr/\[error\].*auth_jwt: invalid key file "\Q$T\E\/hdr\/garbage\.jwks"/,
    'an invalid file is logged at error, with its name');

# a FIFO nobody writes to: open() would wait for a writer
my $t0 = time();
is_rejected(get('/hdr/', $tok{rsa}, 'X-Tenant' => 'fifo'), 503,
    'KEYS_UNAVAILABLE', 'a FIFO');
ok(time() - $t0 < 1, 'a FIFO does not block the worker');
like(error_log(), qr/\[error\].*auth_jwt: key file "\Q$T\E\/hdr\/fifo\.jwks" is not a regular file/,
    'a FIFO is logged at error, with its name');

is_rejected(get('/big/', $tok{rsa}, 'X-Tenant' => 'b'), 503,
    'KEYS_UNAVAILABLE', 'a file over 1 MiB');
like(error_log(), qr/\[error\].*auth_jwt: key file "\Q$T\E\/big\/b\.jwks" is larger than 1048576 bytes/,
    'a file over 1 MiB is logged at error, with its name');

# hdr/../hosts/a.example.jwks exists and holds the token's key
is_rejected(get('/hdr/', $tok{rsa}, 'X-Tenant' => '../hosts/a.example'), 401,
    'INVALID_TOKEN', 'a ".." segment from a header');
like(error_log(), qr/\[info\].*the key file name ".*\/hdr\/\.\.\/hosts\/a\.example\.jwks" has a "\.\." segment/,
    'a ".." segment is logged');

is_rejected(get('/empty/', $tok{rsa}), 401, 'INVALID_TOKEN',
    'an empty file name');
like(error_log(), qr/\[info\].*auth_jwt: the key file name is empty/,
    'an empty name is logged');

my $k = key('rsa')->{jwk}{n};
unlike(error_log(), qr/\Q$k\E/, 'no key material in the log');

###############################################################################
# Read once per period, for both workers

for (1 .. 20) {
    is(get('/once/', $tok{rsa}, 'X-Tenant' => 'o')->{status}, 200,
        'once/o.jwks, request') or last;
}
my @reads = error_log() =~ /key file "\Q$T\E\/once\/o\.jwks": 1 keys/g;
is(scalar @reads, 1, '20 requests, two workers: the file was read once');

###############################################################################
# A file changed on disk (period 1s), and the token cache

for (1 .. 3) {
    is_ok(get('/rot/', $tok{rsa}, 'X-Tenant' => 'r'), 'rot: the first key');
}
my $changed = time();
write_jwks('rot/r.jwks', jwk_public('rsa2', kid => 'rsa'));

my $res = get('/rot/', $tok{rsa}, 'X-Tenant' => 'r');
if (time() - $changed < 0.5) {
    is($res->{status}, 200, 'rot: within the period, the keys read before');
} else {
    pass('rot: too slow to check the period (skipped)');
}

ok(wait_for(5, sub {
    get('/rot/', $tok{rsa2}, 'X-Tenant' => 'r')->{status} == 200 }),
    'rot: the new key is accepted after the period');
ok(time() - $changed >= 0.9, 'rot: not before the period');
is_rejected(get('/rot/', $tok{rsa}, 'X-Tenant' => 'r'), 401,
    'INVALID_TOKEN', 'rot: a token the cache had accepted is refused');

# a file that turns invalid keeps the keys read before; a deleted one, none
write_file('rot/r.jwks', '{"keys": [ truncated');
ok(wait_for(5, sub {
    get('/rot/', $tok{rsa2}, 'X-Tenant' => 'r');
    error_log() =~ /\[error\].*key file "\Q$T\E\/rot\/r\.jwks": keeping the keys read before/ }),
    'rot: an invalid file is logged at error, keeping the keys');
is_ok(get('/rot/', $tok{rsa2}, 'X-Tenant' => 'r'),
    'rot: the keys read before still verify');
unlink "$T/rot/r.jwks";
ok(wait_for(5, sub {
    get('/rot/', $tok{rsa2}, 'X-Tenant' => 'r')->{status} == 401 }),
    'rot: the file deleted, its keys are gone after the period');

###############################################################################
# More files than the zone holds

my $first = many_token($many_key{1});
is_ok(get('/many/', $first, 'X-Tenant' => 't0001'), 'many: t0001');

my $new = '9' x 64;
write_file('many/t0001.jwks', json_encode({ keys => [
    { kty => 'oct', k => b64u($new), kid => 'm' } ] }));
is_ok(get('/many/', $first, 'X-Tenant' => 't0001'),
    'many: t0001 changed, its period (1h) holds the old key');

my $bad = 0;
for my $i (2 .. $MANY) {
    my $st = get('/many/', many_token($many_key{$i}),
        'X-Tenant' => sprintf('t%04d', $i))->{status};
    $bad++ if $st != 200;
}
is($bad, 0, "many: t0002 .. t$MANY each accepted with its key");

is_ok(get('/many/', many_token($new), 'X-Tenant' => 't0001'),
    'many: t0001 was evicted and read again: the new key');
is_rejected(get('/many/', $first, 'X-Tenant' => 't0001'), 401,
    'INVALID_TOKEN', 'many: the old key is refused');
is_ok(get('/many/', many_token($many_key{$MANY}),
    'X-Tenant' => sprintf('t%04d', $MANY)), 'many: the last file still');
is_rejected(get('/many/', many_token($many_key{2}), 'X-Tenant' => 't0003'),
    401, 'INVALID_TOKEN', "many: another file's key");

no_log_alerts();

done_testing();
