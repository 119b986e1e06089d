package AuthJWTTest;

# A small harness in the spirit of nginx-tests' Test::Nginx (which Debian
# does not package): runs the system nginx with the built module loaded from
# a heredoc configuration in a temporary prefix, on free loopback ports, and
# provides key fixtures and token minting through Crypt::JWT, an
# implementation independent of ours.
#
# Environment:
#   TEST_NGINX_BINARY   nginx to run (default /usr/sbin/nginx)
#   TEST_NGINX_MODULE   the module (default <repo>/build/nginx/ngx_http_auth_jwt_module.so)
#   TEST_JWTCTL, JWTCTL jwtctl (default <repo>/.build/release/jwtctl)
#   TEST_NGINX_LEAVE    keep the temporary directory
#   TEST_AUTH_JWT_SKIP_MISSING  skip (rather than fail) when the module or
#                       jwtctl is not built; never set in CI
#   TEST_NGINX_NO_MODULE  run nginx without the module (the harness's own
#                       self-check only)
#   TEST_NGINX_WRAPPER  a command prefix every nginx run goes through (split
#                       on spaces): valgrind, or env LD_PRELOAD=<ASan runtime>
#                       (nginx-module/t/checked/run sets it)
#   TEST_NGINX_SLOWDOWN a factor (default 1) for every wait_for and for the
#                       tests' time bounds (slow()), for nginx under valgrind
#
# start_nginx's env => { NAME => value } sets variables for that nginx only
# (satisfy.t: MALLOC_PERTURB_, so that uninitialised memory is never zero).
#
# A test file: write keys (write_jwks, key_file), start_nginx(<<'EOF') with
# the http{} contents, send requests (http_get, http_get_token,
# http_request), assert (is_ok, is_rejected, no_log_alerts). Every test file
# runs alone: prove nginx-module/t/claims.t

use strict;
use warnings;

use Exporter qw(import);
use Carp qw(croak);
use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Test::More ();
use Time::HiRes qw(sleep time);

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::PK::RSA;

our @EXPORT = qw(
    start_nginx stop_nginx reload_nginx nginx_pid nginx_workers nginx_t
    require_module
    http_get http_get_token http_request port testdir error_log access_log
    no_log_alerts wait_for now slow
    key key_file write_file slurp write_jwks jwk_public openssl
    mint sign_compact sign_input token_of_length b64u b64u_decode json_encode
    is_ok is_rejected
    jwtctl jwtctl_path require_jwtctl module_path
);

my $REPO = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

# Paths given relative to the current directory work too: nginx runs with
# its own prefix, so they are made absolute here.
my $NGINX  = File::Spec->rel2abs($ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx');
my $MODULE = File::Spec->rel2abs($ENV{TEST_NGINX_MODULE}
    || "$REPO/build/nginx/ngx_http_auth_jwt_module.so");
my $JWTCTL = File::Spec->rel2abs($ENV{TEST_JWTCTL} || $ENV{JWTCTL}
    || "$REPO/.build/release/jwtctl");
my @WRAPPER = split ' ', $ENV{TEST_NGINX_WRAPPER} // '';
my $SLOWDOWN = $ENV{TEST_NGINX_SLOWDOWN} || 1;

my $TESTDIR = tempdir('auth-jwt-test-XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{TEST_NGINX_LEAVE});
chmod 0755, $TESTDIR;    # workers run as nobody when we are root

my %PORTS;               # placeholder name => port
my $PID;                 # nginx master
my $PREFIX;              # its prefix (-p)
my $OWNER = $$;          # the test process; forked children leave nginx alone
my $JSON = JSON::PP->new->canonical;

# nginx is stopped when the test ends, dies, or is interrupted.
END { local $?; stop_nginx() if $$ == $OWNER }    # keep the exit status
$SIG{$_} = sub { exit 130 } for qw(INT TERM HUP);

sub testdir { $TESTDIR }

# Whole seconds since the Epoch (Time::HiRes's time() is fractional).
sub now { CORE::time() }

# A time bound in seconds, stretched by TEST_NGINX_SLOWDOWN.
sub slow { $_[0] * $SLOWDOWN }

sub _missing {
    my ($what, $path, $how) = @_;
    my $msg = "$what not found at $path (build it with '$how')";
    if ($ENV{TEST_AUTH_JWT_SKIP_MISSING}) {
        Test::More::plan(skip_all => $msg);
    }
    Test::More::BAIL_OUT($msg);
}

# Fails loudly when the module is not built: the suite never skips silently.
sub require_module {
    return if $ENV{TEST_NGINX_NO_MODULE};    # the harness's own self-test
    _missing('module', $MODULE, 'make module') unless -f $MODULE;
    _missing('nginx', $NGINX, 'apt-get install nginx') unless -x $NGINX;
}

sub require_jwtctl {
    _missing('jwtctl', $JWTCTL,
        'swift build -c release --product jwtctl') unless -x $JWTCTL;
}

sub jwtctl_path { $JWTCTL }
sub module_path { $MODULE }

###############################################################################
# Files and encodings

sub write_file {
    my ($name, $content) = @_;
    my $path = $name =~ m{^/} ? $name : "$TESTDIR/$name";
    make_path(dirname($path));
    open my $fh, '>', $path or croak "$path: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    return $path;
}

# The contents of a file ("" when it cannot be read).
sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    binmode $fh;
    local $/;
    return scalar <$fh>;
}

sub b64u {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub b64u_decode {
    my $s = shift;
    $s =~ tr{-_}{+/};
    return decode_base64($s);
}

sub json_encode { $JSON->encode($_[0]) }

###############################################################################
# Keys: generated once per test file with the openssl CLI, read with
# Crypt::PK::*. Names: hmac, rsa, rsa2, p256, p384, p521, ed25519.

my %CURVE = (p256 => 'P-256', p384 => 'P-384', p521 => 'P-521');
my %KEYS;

# A 64-byte HMAC secret (RFC 7518 3.2 asks for at least the hash size).
my $HMAC_SECRET = join '', map { chr(($_ * 37 + 11) % 256) } 0 .. 63;

sub openssl {
    my @cmd = ('openssl', @_);
    my $out = qx{@cmd 2>&1};
    croak "@cmd failed: $out" if $?;
}

sub key {
    my ($name) = @_;
    return $KEYS{$name} ||= _make_key($name);
}

sub _make_key {
    my ($name) = @_;
    if ($name =~ /^hmac/) {
        my $secret = $name eq 'hmac' ? $HMAC_SECRET
            : join '', map { chr(($_ * 53 + length $name) % 256) } 0 .. 47;
        return { name => $name, kty => 'oct', secret => $secret,
            jwk => { kty => 'oct', k => b64u($secret) } };
    }

    my $priv = "$TESTDIR/keys/$name.key.pem";
    my $pub  = "$TESTDIR/keys/$name.pub.pem";
    make_path("$TESTDIR/keys");

    my ($class, @gen);
    if ($name =~ /^rsa/) {
        $class = 'Crypt::PK::RSA';
        @gen = ('-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
    } elsif ($name =~ /^(p256|p384|p521)/) {
        my $crv = $CURVE{$1};
        $class = 'Crypt::PK::ECC';
        @gen = ('-algorithm', 'EC', '-pkeyopt', "ec_paramgen_curve:$crv",
            '-pkeyopt', 'ec_param_enc:named_curve');
    } elsif ($name =~ /^ed25519/) {
        $class = 'Crypt::PK::Ed25519';
        @gen = ('-algorithm', 'ED25519');
    } else {
        croak "unknown test key '$name'";
    }

    openssl('genpkey', @gen, '-out', $priv);
    openssl('pkey', '-in', $priv, '-pubout', '-out', $pub);

    my $pk = $class->new($priv);
    my $jwk = $pk->export_key_jwk('public', 1);
    my $der = _openssl_der($pub);
    return { name => $name, kty => $jwk->{kty}, pk => $pk, jwk => $jwk,
        priv_pem => $priv, pub_pem => $pub, pub_der => $der };
}

sub _openssl_der {
    my ($pub) = @_;
    my $der = qx{openssl pkey -pubin -in $pub -outform DER 2>/dev/null};
    croak "openssl pkey -outform DER failed" if $?;
    return $der;
}

# Path of a key's public PEM ("pub") or PKCS#8 private PEM ("priv").
sub key_file {
    my ($name, $which) = @_;
    my $k = key($name);
    return $which && $which eq 'priv' ? $k->{priv_pem} : $k->{pub_pem};
}

# The public JWK of a key, with extra members (kid, alg, ...).
sub jwk_public {
    my ($name, %extra) = @_;
    return { %{ key($name)->{jwk} }, kid => $name, %extra };
}

# Writes a JWKS file of the named keys (or JWK hashes) and returns its path.
sub write_jwks {
    my ($file, @keys) = @_;
    my @jwks = map { ref $_ ? $_ : jwk_public($_) } @keys;
    return write_file($file, json_encode({ keys => \@jwks }));
}

###############################################################################
# Tokens

my %DEFAULT_KEY = (HS => 'hmac', RS => 'rsa', PS => 'rsa',
    ES256 => 'p256', ES384 => 'p384', ES512 => 'p521', EdDSA => 'ed25519');

sub _default_key {
    my ($alg) = @_;
    return $DEFAULT_KEY{$alg} || $DEFAULT_KEY{ substr $alg, 0, 2 }
        || croak "no default key for $alg";
}

sub _signing_key {
    my ($k) = @_;
    return $k->{kty} eq 'oct' ? $k->{secret} : $k->{pk};
}

# mint(alg => 'RS256', key => 'rsa', kid => 'rsa', claims => {...},
#      header => {...}): a token from Crypt::JWT. The kid defaults to the key
# name (pass kid => undef for none); claims default to a subject and an exp
# five minutes ahead.
sub mint {
    my (%a) = @_;
    my $alg = $a{alg} || 'HS256';
    my $k = key($a{key} || _default_key($alg));
    my %header = %{ $a{header} || {} };
    my $kid = exists $a{kid} ? $a{kid} : $k->{name};
    $header{kid} = $kid if defined $kid;
    my $claims = $a{claims} || { sub => 'alice', exp => now() + 300 };
    return encode_jwt(payload => $claims, alg => $alg,
        key => _signing_key($k), extra_headers => \%header);
}

# sign_compact($header_json, $payload_json, alg => ..., key => ... |
# secret => ...): a token from exact JSON texts (for duplicate members and
# other shapes an encoder would not produce).
sub sign_compact {
    my ($header, $payload, %a) = @_;
    return sign_input(b64u($header) . '.' . b64u($payload), %a);
}

# sign_input($signing_input, alg => ..., key => ... | secret => ...): the
# signing input (exactly as given, malformed or not) with its signature
# appended, computed with CryptX primitives.
sub sign_input {
    my ($input, %a) = @_;
    my $alg = $a{alg} || 'HS256';
    my ($bits) = $alg =~ /(\d+)$/;
    my $sig;
    if ($alg =~ /^HS/) {
        my $secret = defined $a{secret} ? $a{secret}
            : key($a{key} || 'hmac')->{secret};
        $sig = { 256 => \&hmac_sha256, 384 => \&hmac_sha384,
            512 => \&hmac_sha512 }->{$bits}->($input, $secret);
    } else {
        my $pk = key($a{key} || _default_key($alg))->{pk};
        $sig = $alg =~ /^RS/ ? $pk->sign_message($input, "SHA$bits", 'v1.5')
            : $alg =~ /^PS/ ? $pk->sign_message($input, "SHA$bits", 'pss',
                $bits / 8)
            : $alg =~ /^ES/ ? $pk->sign_message_rfc7518($input, "SHA$bits")
            : $pk->sign_message($input);
    }
    return "$input." . b64u($sig);
}

# A valid HS256 token (the hmac key, no kid) of exactly $length bytes: a
# payload pad sets the size to within a few bytes, a header pad makes it
# exact. Its exp is five minutes ahead.
sub token_of_length {
    my ($length) = @_;
    my $exp = now() + 300;
    my $base = int(($length - 120) * 3 / 4);
    for my $p ($base - 8 .. $base + 8) {
        for my $h (0 .. 8) {
            my $t = sign_compact(qq({"alg":"HS256","x":"@{[ 'h' x $h ]}"}),
                qq({"sub":"alice","exp":$exp,"pad":"@{[ 'p' x $p ]}"}));
            return $t if length $t == $length;
        }
    }
    croak "no token of length $length";
}

###############################################################################
# nginx

sub _free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or croak "cannot bind a free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub port {
    my ($name) = @_;
    $name = 8080 unless defined $name;
    return $PORTS{$name} ||= _free_port();
}

# The full configuration: the harness's main-context lines, then the test's
# http-level text. Placeholders: %%PORT_<name>%% (a free loopback port per
# name; http_get uses 8080), %%TESTDIR%%, and %%KEY_<name>%% (a key's public
# PEM path). Options: main => more main-context lines; load => the line that
# loads the module, instead of load_module of TEST_NGINX_MODULE (the Debian
# package's test includes the snippet the package enabled); workers => the
# number of worker processes (default 1).
sub _conf {
    my ($http, %o) = @_;
    my $main = $o{main} || '';
    my $workers = $o{workers} || 1;
    my $load = $o{load}
        // ($ENV{TEST_NGINX_NO_MODULE} ? '' : "load_module $MODULE;");
    my $text = <<"EOF";
$load
daemon off;
master_process on;
worker_processes $workers;
pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;
$main
events {
    worker_connections 128;
}

http {
    access_log %%TESTDIR%%/access.log;
    client_body_temp_path %%TESTDIR%%/client_body_temp;
    proxy_temp_path %%TESTDIR%%/proxy_temp;
    fastcgi_temp_path %%TESTDIR%%/fastcgi_temp;
    uwsgi_temp_path %%TESTDIR%%/uwsgi_temp;
    scgi_temp_path %%TESTDIR%%/scgi_temp;
    default_type application/octet-stream;

$http
}
EOF
    $text =~ s/%%PORT_(\w+)%%/port($1)/ge;
    $text =~ s/%%TESTDIR%%/$TESTDIR/g;
    $text =~ s/%%KEY_(\w+)%%/key_file($1)/ge;
    return $text;
}

sub _write_conf {
    my ($file, $http, %o) = @_;
    return write_file($file, _conf($http, %o));
}

# nginx's prefix: the test directory, unless prefix => names another (the
# Debian package's test runs with the packaged nginx's own, where the
# snippet's relative load_module path resolves).
sub _prefix {
    my (%o) = @_;
    return $o{prefix} // "$TESTDIR/";
}

# Starts nginx on the configuration; dies (with the error log) when it does
# not come up within 10 seconds. Options: those of _conf and _prefix,
# wait_port, and env => { NAME => value } for nginx's environment.
sub start_nginx {
    my ($http, %o) = @_;
    require_module();
    stop_nginx();
    my $conf = _write_conf('nginx.conf', $http, %o);
    $PREFIX = _prefix(%o);

    my $pid = fork() // croak "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$TESTDIR/stderr.log";
        open STDERR, '>&', \*STDOUT;
        @ENV{ keys %{ $o{env} } } = values %{ $o{env} } if $o{env};
        exec(@WRAPPER, $NGINX, '-p', $PREFIX, '-c', $conf,
            '-e', "$TESTDIR/error.log") or POSIX::_exit(127);
    }
    $PID = $pid;

    my $listen = $o{wait_port} // 8080;
    my $up = wait_for(10, sub {
        if (waitpid($PID, WNOHANG) == $PID) {
            $PID = undef;
            croak "nginx exited at start:\n" . _startup_log();
        }
        return IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => port($listen), Proto => 'tcp');
    });
    unless ($up) {
        stop_nginx();
        croak "nginx did not listen on port $listen:\n" . _startup_log();
    }
    # The master accepts before its worker is ready only in theory; wait for
    # a worker of this master to exist so that the first request is served
    # (not a log line: the log goes on across restarts).
    wait_for(5, sub { nginx_workers() > 0 });
    return $PID;
}

sub _startup_log {
    return slurp("$TESTDIR/stderr.log") . slurp("$TESTDIR/error.log");
}

sub nginx_pid { $PID }

# The PIDs of the running nginx's processes other than the master (its
# workers, and those of an older generation still shutting down), from
# /proc/<pid>/stat.
sub nginx_workers {
    return () unless $PID;
    return grep {
        my (undef, $parent) = split ' ', slurp("/proc/$_/stat") =~ s/^.*\)\s//sr;
        defined $parent && $parent == $PID;
    } map { m{^/proc/(\d+)$} ? $1 : () } glob '/proc/[0-9]*';
}

# Stops nginx by its PID: QUIT, then TERM, then KILL, each bounded.
sub stop_nginx {
    return unless $PID;
    my $pid = $PID;
    $PID = undef;
    for my $sig (qw(QUIT TERM KILL)) {
        kill $sig, $pid;
        return if wait_for($sig eq 'KILL' ? 5 : 3,
            sub { waitpid($pid, WNOHANG) != 0 });
    }
}

# `nginx -s reload` on the running instance, optionally with a new
# configuration written first. Returns (exit code, output).
sub reload_nginx {
    my ($http, %o) = @_;
    croak 'nginx is not running' unless $PID;
    _write_conf('nginx.conf', $http, %o) if defined $http;
    my $out = qx{@WRAPPER $NGINX -p $PREFIX -c $TESTDIR/nginx.conf -e $TESTDIR/error.log -s reload 2>&1};
    return ($? >> 8, $out);
}

# `nginx -t` on a configuration; returns (exit code, output).
sub nginx_t {
    my ($http, %o) = @_;
    require_module();
    my $conf = _write_conf('nginx-t.conf', $http, %o);
    my $prefix = _prefix(%o);
    my $out = qx{@WRAPPER $NGINX -t -p $prefix -c $conf -e $TESTDIR/nginx-t.log 2>&1};
    return ($? >> 8, $out);
}

sub error_log  { slurp("$TESTDIR/error.log") }
sub access_log { slurp("$TESTDIR/access.log") }

# The error log has no [alert], [emerg] or [crit] line (a crashed worker is
# logged as an alert).
sub no_log_alerts {
    my ($name) = @_;
    my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, error_log();
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is(scalar @bad, 0, $name || 'no alert, emerg or crit in error log')
        or Test::More::diag(join "\n", @bad);
}

# Polls $cond every 50 ms for up to slow($seconds); returns its last value.
sub wait_for {
    my ($seconds, $cond) = @_;
    my $deadline = time() + slow($seconds);
    while (1) {
        my $v = $cond->();
        return $v if $v || time() > $deadline;
        sleep 0.05;
    }
}

###############################################################################
# HTTP over a raw socket, so that tests can send what clients would not.

# http_get($path, Header => value, ...): a GET to port 8080.
sub http_get {
    my ($path, @headers) = @_;
    return http_request(path => $path, headers => \@headers);
}

# http_get_token($path, $token, Header => value, ...): a GET presenting the
# token as "Authorization: Bearer <token>".
sub http_get_token {
    my ($path, $token, @headers) = @_;
    return http_get($path, Authorization => "Bearer $token", @headers);
}

# http_request(method =>, path =>, port =>, headers => [name => value, ...],
# body =>, raw =>): returns { status, headers (lowercased names, values
# joined by ", "), body, raw }. A request that gets no answer returns
# status 0.
sub http_request {
    my (%a) = @_;
    my $port = port($a{port});
    my $req = $a{raw};
    unless (defined $req) {
        my $method = $a{method} || 'GET';
        my @h = @{ $a{headers} || [] };
        $req = "$method $a{path} HTTP/1.0\r\nHost: localhost\r\n";
        while (my ($n, $v) = splice @h, 0, 2) {
            $req .= "$n: $v\r\n";
        }
        $req .= 'Content-Length: ' . length($a{body}) . "\r\n"
            if defined $a{body};
        $req .= "\r\n" . ($a{body} // '');
    }

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5)
        or return { status => 0, headers => {}, body => '', raw => '' };
    binmode $s;
    my $raw = '';
    eval {
        local $SIG{PIPE} = 'IGNORE';
        print $s $req;
        my $sel = IO::Select->new($s);
        my $deadline = time() + slow(10);
        while (time() < $deadline && $sel->can_read(slow(1))) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $raw .= $buf;
        }
    };
    close $s;
    return _parse_response($raw);
}

sub _parse_response {
    my ($raw) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my %r = (status => 0, headers => {}, body => $body // '', raw => $raw);
    return \%r unless defined $head && $head =~ m{^HTTP/1\.\d (\d{3})};
    $r{status} = $1;
    for my $line (split /\r\n/, $head) {
        next unless $line =~ /^([^:\s]+):\s*(.*)$/;
        my $n = lc $1;
        $r{headers}{$n} = exists $r{headers}{$n}
            ? "$r{headers}{$n}, $2" : $2;
    }
    return \%r;
}

###############################################################################
# Assertions on the product contract's responses.

# is_ok($res, $name): the request was let through (200).
sub is_ok {
    my ($res, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($res->{status}, 200, "$name: 200")
        or Test::More::diag("body: $res->{body}");
}

# is_rejected($res, 401, 'INVALID_TOKEN', $name, realm => 'r',
# presented => 1): the status, the JSON body {"status":"<CODE>"}, its
# Content-Type, and WWW-Authenticate: Bearer realm="<realm>" (with
# error="invalid_token" when a token was presented) on a 401, none on 403.
sub is_rejected {
    my ($res, $status, $code, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::subtest("$name: $status $code" => sub {
        Test::More::is($res->{status}, $status, 'status');
        Test::More::like($res->{body}, qr/^\{\s*"status"\s*:\s*"\Q$code\E"\s*\}\s*$/,
            "JSON body {\"status\":\"$code\"}");
        Test::More::like($res->{headers}{'content-type'} // '',
            qr{^application/json\b}, 'Content-Type: application/json');
        Test::More::is($res->{headers}{'content-length'}, length $res->{body},
            'Content-Length matches the body');
        my $www = $res->{headers}{'www-authenticate'};
        if ($status != 401) {
            Test::More::ok(!defined $www, "no WWW-Authenticate on $status");
            return;
        }
        my $realm = $o{realm} // 'test';
        my $presented = $o{presented} // ($code ne 'TOKEN_MISSING');
        my $want = qq{Bearer realm="$realm"}
            . ($presented ? ', error="invalid_token"' : '');
        Test::More::is($www, $want, "WWW-Authenticate: $want");
    });
}

###############################################################################
# jwtctl

# jwtctl(\@args, $stdin): runs jwtctl; returns (exit code, stdout, stderr).
sub jwtctl {
    my ($args, $stdin) = @_;
    require_jwtctl();
    my $in  = write_file('jwtctl.in', $stdin // '');
    my $out = "$TESTDIR/jwtctl.out";
    my $err = "$TESTDIR/jwtctl.err";
    my $pid = fork() // croak "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', $in;
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec($JWTCTL, @$args) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return ($? >> 8, slurp($out), slurp($err));
}

1;
