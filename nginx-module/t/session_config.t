#!/usr/bin/perl

# Session configuration: `nginx -t` accepts the contract's forms and fails,
# naming the directive, on a session without a store, bad parameters, bad
# server addresses or timeouts, and the wrong context. Host names are
# resolved at configuration time, as for upstream servers; nothing connects
# to memcached then (no memcached runs here).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

require_module();
write_jwks('jwks.json', qw(hmac));

# http{} text: $http at http level, $server in a protected server, $loc in
# its location.
sub conf {
    my (%o) = @_;
    return <<"EOF";
    @{[ $o{http} // '' ]}
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        @{[ $o{server} // '' ]}
        location / {
            @{[ $o{loc} // '' ]}
            empty_gif;
        }
    }
EOF
}

my $MC = 'auth_jwt_memcached 127.0.0.1:%%PORT_mc%%;';
my $SESSION = 'auth_jwt_session key=$jwt_claim_tokenId;';

sub accepted {
    my ($name, %o) = @_;
    my ($rc, $out) = nginx_t(conf(%o), main => $o{main});
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($rc, 0, "accepted: $name") or diag($out);
}

sub refused {
    my ($name, $re, %o) = @_;
    my ($rc, $out) = nginx_t(conf(%o), main => $o{main});
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest "refused: $name" => sub {
        isnt($rc, 0, 'nginx -t fails');
        like($out, $re, 'the message names the problem');
        like($out, qr/\[emerg\]/, 'at emerg level');
    };
}

# Accepted forms (the controls for every refusal below).
accepted('memcached and session at http level', http => "$MC $SESSION");
accepted('session at server level', http => $MC, server => $SESSION);
accepted('session at location level', http => $MC, loc => $SESSION);
accepted('every parameter', http => $MC, loc =>
    'auth_jwt_session key=session:$jwt_claim_tokenId fingerprint=$http_finger_print touch=30s;');
accepted('touch=0', http => $MC, loc => 'auth_jwt_session key=$jwt_claim_tokenId touch=0;');
accepted('touch=1m', http => $MC, loc => 'auth_jwt_session key=$jwt_claim_tokenId touch=1m;');
accepted('several servers and a timeout', http =>
    'auth_jwt_memcached 127.0.0.1:%%PORT_mc%% 127.0.0.1:%%PORT_mc2%% timeout=100ms;',
    server => $SESSION);
accepted('timeout=2s', http => 'auth_jwt_memcached 127.0.0.1:%%PORT_mc%% timeout=2s;',
    server => $SESSION);
accepted('session off without memcached', loc => 'auth_jwt_session off;');
accepted('memcached without any session', http => $MC);
accepted('keepalive=8', http =>
    'auth_jwt_memcached 127.0.0.1:%%PORT_mc%% keepalive=8 timeout=1s;', server => $SESSION);
accepted('keepalive=0 (no idle connections kept)', http =>
    'auth_jwt_memcached 127.0.0.1:%%PORT_mc%% keepalive=0;', server => $SESSION);
accepted('a host name, resolved at start', http =>
    'auth_jwt_memcached localhost:%%PORT_mc%%;', server => $SESSION);
accepted('session in a location where auth_jwt is off', http => $MC,
    loc => "auth_jwt off; $SESSION");

# A session needs a store.
refused('session without auth_jwt_memcached',
    qr/auth_jwt_session.*auth_jwt_memcached|auth_jwt_memcached.*auth_jwt_session/,
    loc => $SESSION);
refused('session at http level without auth_jwt_memcached',
    qr/auth_jwt_session.*auth_jwt_memcached|auth_jwt_memcached.*auth_jwt_session/,
    http => $SESSION);

# auth_jwt_session parameters.
refused('no key=', qr/auth_jwt_session/, http => $MC,
    loc => 'auth_jwt_session fingerprint=$http_finger_print;');
refused('empty key=', qr/auth_jwt_session|key/, http => $MC,
    loc => 'auth_jwt_session key=;');
refused('no parameters', qr/auth_jwt_session/, http => $MC,
    loc => 'auth_jwt_session;');
refused('on (not a parameter)', qr/auth_jwt_session|on/, http => $MC,
    loc => 'auth_jwt_session on;');
refused('touch=abc', qr/touch|auth_jwt_session/, http => $MC,
    loc => 'auth_jwt_session key=$jwt_claim_tokenId touch=abc;');
refused('touch=-1', qr/touch|auth_jwt_session/, http => $MC,
    loc => 'auth_jwt_session key=$jwt_claim_tokenId touch=-1;');
refused('unknown parameter', qr/foo|auth_jwt_session/, http => $MC,
    loc => 'auth_jwt_session key=$jwt_claim_tokenId foo=bar;');
refused('key with an unknown variable', qr/unknown .*variable|nosuchvar/,
    http => $MC, loc => 'auth_jwt_session key=$nosuchvar_xyz;');
refused('duplicate in one location', qr/is duplicate|auth_jwt_session/,
    http => $MC, loc => "$SESSION $SESSION");
refused('in limit_except (not a context)', qr/auth_jwt_session.*not allowed|not allowed/,
    http => $MC, loc => "limit_except GET { $SESSION }");

# auth_jwt_memcached.
refused('in server context', qr/auth_jwt_memcached.*not allowed|not allowed/,
    server => $MC);
refused('in location context', qr/auth_jwt_memcached.*not allowed|not allowed/,
    http => $MC, loc => 'auth_jwt_memcached 127.0.0.1:11211;');
refused('no servers', qr/auth_jwt_memcached/,
    http => 'auth_jwt_memcached timeout=1s;', server => $SESSION);
refused('no arguments', qr/auth_jwt_memcached/,
    http => 'auth_jwt_memcached;', server => $SESSION);
refused('port not a number', qr/auth_jwt_memcached|invalid server|127\.0\.0\.1:abc/,
    http => 'auth_jwt_memcached 127.0.0.1:abc;', server => $SESSION);
refused('port out of range', qr/auth_jwt_memcached|invalid server|70000/,
    http => 'auth_jwt_memcached 127.0.0.1:70000;', server => $SESSION);
refused('empty host', qr/auth_jwt_memcached|invalid server/,
    http => 'auth_jwt_memcached :11211;', server => $SESSION);
refused('timeout=abc', qr/timeout|auth_jwt_memcached/,
    http => 'auth_jwt_memcached 127.0.0.1:11211 timeout=abc;', server => $SESSION);
refused('timeout=0', qr/timeout/,
    http => 'auth_jwt_memcached 127.0.0.1:11211 timeout=0;', server => $SESSION);
refused('keepalive=abc', qr/invalid keepalive "keepalive=abc"/,
    http => 'auth_jwt_memcached 127.0.0.1:11211 keepalive=abc;', server => $SESSION);
refused('keepalive=-1', qr/invalid keepalive/,
    http => 'auth_jwt_memcached 127.0.0.1:11211 keepalive=-1;', server => $SESSION);
refused('a host name that does not resolve', qr/invalid server "nosuchhost\.invalid:11211": host not found/,
    http => 'auth_jwt_memcached nosuchhost.invalid:11211;', server => $SESSION);
refused('unknown parameter', qr/auth_jwt_memcached|weight/,
    http => 'auth_jwt_memcached 127.0.0.1:11211 weight=abc;', server => $SESSION);
refused('duplicate', qr/is duplicate|auth_jwt_memcached/,
    http => "$MC $MC", server => $SESSION);

done_testing();
