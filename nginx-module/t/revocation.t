#!/usr/bin/perl

# auth_jwt_revocation: a record present under one of its keys in the
# session store's memcached is a revoked token (401 TOKEN_REVOKED); absent,
# it passes. No reload: a record written or deleted takes effect on the
# next request. By jti and by sub, alone and with the session check (one
# "gets" for both when they land on one server, counted on a scripted
# server), across two servers, a revocation record's expiry, memcached
# down (503, fails closed), a revoked token's session left untouched, and
# the configurations nginx -t refuses.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep);
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));

sub token {
    my (%claims) = @_;
    return mint(claims => { sub => 'alice', exp => now() + 600, %claims });
}

sub get {
    my ($path, $token, @h) = @_;
    return http_get_token($path, $token, @h);
}

start_memcached('a');
start_memcached('b');

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        location /jti {
            auth_jwt_revocation key=revoked:jti:$jwt_claim_jti;
            empty_gif;
        }
        location /both {
            auth_jwt_revocation key=revoked:jti:$jwt_claim_jti
                                key=revoked:sub:$jwt_claim_sub;
            empty_gif;
        }
        location /session {
            auth_jwt_session key=$jwt_claim_tokenId touch=0;
            auth_jwt_revocation key=revoked:jti:$jwt_claim_jti;
            empty_gif;
        }
        location /jti_var {
            auth_jwt_revocation key=$jwt_claim_jti;
            empty_gif;
        }
        location /off {
            auth_jwt_revocation off;
            empty_gif;
        }
    }
EOF

my $t1 = token(jti => 'j-1');
my $t2 = token(jti => 'j-2', sub => 'bob');

is_ok(get('/jti', $t1), 'no revocation record: passes');

mc_set('a', 'revoked:jti:j-1', '{"revoked_at":1}');
is_rejected(get('/jti', $t1), 401, 'TOKEN_REVOKED',
    'a record under revoked:jti:<jti>: revoked, without a reload');
is_ok(get('/jti', $t2), 'another jti passes');
is_ok(get('/off', $t1), 'auth_jwt_revocation off: not looked up');

mc_delete('a', 'revoked:jti:j-1');
is_ok(get('/jti', $t1), 'the record deleted: passes again');

mc_set('a', 'revoked:sub:bob', '1');
is_rejected(get('/both', $t2), 401, 'TOKEN_REVOKED', 'revoked by sub');
is_ok(get('/both', $t1), 'the other subject passes');
mc_set('a', 'revoked:jti:j-1', '1');
is_rejected(get('/both', $t1), 401, 'TOKEN_REVOKED', 'revoked by jti, second key');
mc_delete('a', 'revoked:jti:j-1');
mc_delete('a', 'revoked:sub:bob');

# An empty value is still a record.
mc_set('a', 'revoked:jti:j-2', '');
is_rejected(get('/jti', $t2), 401, 'TOKEN_REVOKED', 'an empty record: revoked');
mc_delete('a', 'revoked:jti:j-2');

# Expiry: the record's memcached expiry ends the revocation.
my $mc_a = '127.0.0.1:' . memcached_port('a');
my ($rc) = jwtctl(['revoke', 'revoked:jti:j-1', '--ttl', '2', '--server', $mc_a]);
is($rc, 0, 'jwtctl revoke --ttl 2');
is_rejected(get('/jti', $t1), 401, 'TOKEN_REVOKED', 'revoked until the expiry');
ok(wait_for(5, sub { get('/jti', $t1)->{status} == 200 }),
    'after its expiry, the token passes');

($rc) = jwtctl(['revoke', 'revoked:jti:j-2', '--token', $t2, '--server', $mc_a]);
is($rc, 0, "jwtctl revoke --token: until the token's exp");
is_rejected(get('/jti', $t2), 401, 'TOKEN_REVOKED', 'revoked by jwtctl');
($rc) = jwtctl(['unrevoke', 'revoked:jti:j-2', '--server', $mc_a]);
is($rc, 0, 'jwtctl unrevoke');
is_ok(get('/jti', $t2), 'unrevoked: passes again');

# A key the store cannot use fails closed.
is_rejected(get('/jti_var', token()), 401, 'INVALID_TOKEN',
    'a token without jti for key=$jwt_claim_jti (an empty key): refused');
is_rejected(get('/jti_var', token(jti => 'has space')), 401, 'INVALID_TOKEN',
    'a key with a space: refused');

# With the session check: a revoked token's session is not touched.
my $now = now();
mc_set('a', 's-1', record(last_access_time => $now - 100,
    session_idle_timeout => -1));
my $ts = token(jti => 'j-s', tokenId => 's-1');
is_ok(get('/session', $ts), 'session and revocation: passes');
like(mc_get('a', 's-1'), qr/"last_access_time":\Q$now\E|"last_access_time":\d+/,
    'the session was touched');
mc_set('a', 's-1', record(last_access_time => $now - 100,
    session_idle_timeout => -1));
mc_set('a', 'revoked:jti:j-s', '1');
is_rejected(get('/session', $ts), 401, 'TOKEN_REVOKED',
    'a revoked token with a live session: TOKEN_REVOKED');
like(mc_get('a', 's-1'), qr/"last_access_time":\Q@{[$now - 100]}\E/,
    'its session was not touched');
mc_delete('a', 's-1');
is_rejected(get('/session', $ts), 401, 'TOKEN_REVOKED',
    'revoked and logged out: TOKEN_REVOKED');
mc_delete('a', 'revoked:jti:j-s');
is_rejected(get('/session', $ts), 401, 'LOGGED_OUT', 'logged out only');

# memcached down: fails closed.
stop_memcached('a');
is_rejected(get('/jti', $t1), 503, 'SESSION_STORE_UNAVAILABLE',
    'memcached down: 503');
start_memcached('a');
ok(wait_for(5, sub { get('/jti', $t1)->{status} == 200 }),
    'memcached back: passes again');

unlike(error_log(), qr/\[alert\]|\[emerg\]|\[crit\]/, 'no alert');
stop_nginx();

###############################################################################
# Two servers: each key is looked up where the ring places it, as the
# writers (jwtctl revoke and the auth server, through libmemcached) place
# it.

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% 127.0.0.1:%%PORT_mc_b%%
                       timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_revocation key=revoked:jti:$jwt_claim_jti
                            key=revoked:sub:$jwt_claim_sub;
        location / { empty_gif; }
    }
EOF

sub revoke_on_ring {
    my ($key) = @_;
    my ($rc, undef, $err) = jwtctl(['revoke', $key, '--ttl', '600',
        map { ('--server', '127.0.0.1:' . memcached_port($_)) } qw(a b)]);
    die "jwtctl: $err" if $rc;
}

# 48 tokens, 16 of them revoked by jti: the ports, and so the ring, change
# with every run, and all 16 land on one server once in 2^15 runs
my (%revoked, %passing);
for my $i (1 .. 48) {
    my $tok = token(jti => "ring-$i", sub => "user-$i");
    if ($i % 3 == 0) {
        revoke_on_ring("revoked:sub:user-$i");
        $revoked{$i} = $tok;
    } elsif ($i % 3 == 1) {
        revoke_on_ring("revoked:jti:ring-$i");
        $revoked{$i} = $tok;
    } else {
        $passing{$i} = $tok;
    }
}
is(scalar(grep { get('/', $revoked{$_})->{status} == 401 } keys %revoked),
    scalar keys %revoked, 'two servers: every revoked token refused');
is(scalar(grep { get('/', $passing{$_})->{status} == 200 } keys %passing),
    scalar keys %passing, 'two servers: the others pass');
my @by_jti = grep { $_ % 3 == 1 } 1 .. 48;
my @on_a = grep { mc_get('a', "revoked:jti:ring-$_") } @by_jti;
ok(@on_a > 0 && @on_a < @by_jti, 'the records are spread over both servers');
stop_nginx();

###############################################################################
# One round trip: the session key and the revocation key in one "gets"
# (a single server), counted on a scripted server.

my $commands = testdir() . '/commands';
my $fake = start_scripted_memcached(port('fake'), sub {
    my ($line) = @_;
    open my $fh, '>>', $commands or die;
    print $fh $line;
    close $fh;
    my @keys = $line =~ /^gets (.*)\r\n/ ? split(/ /, $1) : ();
    my $data = record(last_access_time => now(), session_idle_timeout => -1);
    return join('', map { "VALUE $_ 0 " . length($data) . " 1\r\n$data\r\n" }
        grep { !/^revoked/ } @keys) . "END\r\n";
}, undef);

start_nginx(<<'EOF');
    auth_jwt_memcached 127.0.0.1:%%PORT_fake%% timeout=1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_session key=$jwt_claim_tokenId touch=1h;
        auth_jwt_revocation key=revoked:jti:$jwt_claim_jti
                            key=revoked:sub:$jwt_claim_sub;
        location / { empty_gif; }
    }
EOF

is_ok(get('/', token(jti => 'one', tokenId => 'trip-1')),
    'session and revocation on one server: passes');
is(slurp($commands), "gets trip-1 revoked:jti:one revoked:sub:alice\r\n",
    'one command, one round trip, for the session and both revocation keys');
stop_nginx();
stop_helper($fake);

###############################################################################
# nginx -t

my $out;
($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        auth_jwt_revocation key=revoked:jti:$jwt_claim_jti;
        location / { empty_gif; }
    }
EOF
isnt($rc, 0, 'nginx -t: revocation without auth_jwt_memcached fails');
like($out, qr/"auth_jwt_revocation" is enabled but no "auth_jwt_memcached"/,
    'and says what is missing');

($rc, $out) = nginx_t(<<'EOF');
    auth_jwt_memcached 127.0.0.1:11211;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_revocation revoked:$jwt_claim_jti;
        location / { empty_gif; }
    }
EOF
isnt($rc, 0, 'nginx -t: a parameter without key= fails');
like($out, qr/invalid parameter "revoked:\$jwt_claim_jti": expected "key="/,
    'naming the parameter and what is expected');

($rc, $out) = nginx_t(<<'EOF');
    auth_jwt_memcached 127.0.0.1:11211;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_revocation key=a key=b key=c key=d key=e key=f key=g key=h key=i;
        location / { empty_gif; }
    }
EOF
isnt($rc, 0, 'nginx -t: nine keys fail');
like($out, qr/takes at most 8 keys/, 'the bound is said');

($rc, $out) = nginx_t(<<'EOF');
    auth_jwt_memcached 127.0.0.1:11211;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_revocation key=a;
        auth_jwt_revocation key=b;
        location / { empty_gif; }
    }
EOF
isnt($rc, 0, 'nginx -t: a duplicate fails');
like($out, qr/"auth_jwt_revocation" directive is duplicate/, 'as duplicate');

done_testing();
