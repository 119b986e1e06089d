#!/usr/bin/perl

# Claims never outlive a rejection. After auth_jwt_require_claim,
# auth_jwt_require_header, auth_jwt_issuer, auth_jwt_audience or
# auth_jwt_require refuses a verified token, or the session check does
# (LOGGED_OUT), $jwt_claim_*, $jwt_header_*, $jwt_payload and
# auth_jwt_claim_set/auth_jwt_header_set variables are empty everywhere:
# under "satisfy any" + allow (the request proceeds) in add_header and in
# what is proxied, and behind an error_page that proxies. $jwt_auth_status
# keeps the code; $jwt_refused_claim_<name> gives the refused token's claim
# (for log_format), and is empty for an accepted token and for one that did
# not verify.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;
use SessionTest;

require_module();
write_jwks('jwks.json', qw(hmac));
start_memcached('a');

my $ECHO = join '', map { "$_=[\$http_x_$_]\\n" }
    qw(sub kid role hx payload status early);

my $conf = <<'EOF';
    auth_jwt_claim_set $jwt_role role;
    auth_jwt_header_set $jwt_hx hx;
    auth_jwt_memcached 127.0.0.1:%%PORT_mc_a%% timeout=1s;

    log_format refused '$arg_n $jwt_auth_status sub=[$jwt_claim_sub] '
                       'refused=[$jwt_refused_claim_sub] role=[$jwt_role] '
                       'payload=[$jwt_payload]';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt_key_file %%TESTDIR%%/jwks.json;
        access_log %%TESTDIR%%/refused.log refused;

        proxy_set_header X-Sub $jwt_claim_sub;
        proxy_set_header X-Kid $jwt_header_kid;
        proxy_set_header X-Role $jwt_role;
        proxy_set_header X-Hx $jwt_hx;
        proxy_set_header X-Payload $jwt_payload;
        proxy_set_header X-Status $jwt_auth_status;
        proxy_set_header X-Early $early;
        set $early "";

        add_header X-Sub "[$jwt_claim_sub]" always;
        add_header X-Kid "[$jwt_header_kid]" always;
        add_header X-Role "[$jwt_role]" always;
        add_header X-Payload "[$jwt_payload]" always;
        add_header X-Status "[$jwt_auth_status]" always;

        location /ok {
            auth_jwt "test";
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /direct {
            auth_jwt "test";
            auth_jwt_require_claim role eq admin;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /any/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_jwt "test";
            proxy_pass http://127.0.0.1:%%PORT_8081%%;

            location /any/claim { auth_jwt_require_claim role eq admin;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/claim403 { auth_jwt_require_claim role eq admin error=403;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/header { auth_jwt_require_header typ eq JWT;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/iss { auth_jwt_issuer https://idp.example;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/aud { auth_jwt_audience api;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/require { auth_jwt_require $jwt_claim_sub $jwt_claim_admin;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/session { auth_jwt_session key=$jwt_claim_tokenId;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /any/early {
                auth_jwt_require_claim role eq admin;
                set $early "$jwt_claim_sub";
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
            }
        }

        location /fallback/ {
            auth_jwt "test";
            error_page 401 403 = @fallback;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;

            location /fallback/require { auth_jwt_require $jwt_claim_sub $jwt_claim_admin;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /fallback/claim { auth_jwt_require_claim role eq admin error=403;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /fallback/session { auth_jwt_session key=$jwt_claim_tokenId;
                proxy_pass http://127.0.0.1:%%PORT_8081%%; }
            location /fallback/early {
                auth_jwt_require_claim role eq admin;
                set $early "$jwt_claim_sub";
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
            }
        }

        location @fallback {
            auth_jwt off;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        access_log off;
        location / {
            default_type text/plain;
            return 200 "%%ECHO%%";
        }
    }
EOF
$conf =~ s/%%ECHO%%/$ECHO/;
start_nginx($conf);

mc_set('a', 'tid-live', record(last_access_time => now(),
    session_idle_timeout => -1));

# The upstream's echo, as name => value.
sub echoed {
    my ($res) = @_;
    return { $res->{body} =~ /^(\w+)=\[(.*)\]$/mg };
}

my $N = 0;           # request number, logged as $arg_n
my %LOGGED;          # n => what the log line must show

# A token: sub alice, role user (or as given), header hx "hv", kid "hmac".
sub token {
    my (%claims) = @_;
    return mint(claims => { sub => 'alice', role => 'user',
        exp => now() + 300, %claims }, header => { hx => 'hv' });
}

# refused($path, $token, $code, $name): the request goes through (satisfy
# any: allow) or to the fallback (error_page), and no claim goes anywhere.
sub refused {
    my ($path, $token, $code, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $n = ++$N;
    my $res = http_get_token("$path?n=$n", $token);
    subtest "$path: $name: no claim after $code" => sub {
        is($res->{status}, 200, 'the request proceeds (200)');
        my $v = echoed($res);
        is_deeply({ map { $_ => $v->{$_} } qw(sub kid role hx payload early) },
            { map { $_ => '' } qw(sub kid role hx payload early) },
            'upstream: no $jwt_claim_sub, $jwt_header_kid, claim_set, '
            . 'header_set, $jwt_payload, rewrite-phase copy')
            or diag($res->{body});
        for my $h (qw(x-sub x-kid x-role x-payload)) {
            is($res->{headers}{$h}, '[]', "add_header $h empty");
        }
        # $jwt_auth_status keeps the code (through error_page too).
        is($v->{status}, $code, "upstream: \$jwt_auth_status $code");
        is($res->{headers}{'x-status'}, "[$code]",
            "add_header: \$jwt_auth_status $code");
    };
    $LOGGED{$n} = [ $code, $o{verified} // 1, "$path: $name" ]
        unless $o{fallback};
}

# Controls: the same locations let claims through for a token they accept.
sub accepted {
    my ($path, $token, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $n = ++$N;
    my $res = http_get_token("$path?n=$n", $token);
    subtest "$path: $name: claims forwarded" => sub {
        is($res->{status}, 200, 'status 200');
        my $v = echoed($res);
        is($v->{sub}, 'alice', 'upstream: $jwt_claim_sub');
        is($v->{kid}, 'hmac', 'upstream: $jwt_header_kid');
        is($v->{hx}, 'hv', 'upstream: auth_jwt_header_set');
        like($v->{payload}, qr/"sub":"alice"/, 'upstream: $jwt_payload');
        is($v->{status}, 'OK', 'upstream: $jwt_auth_status OK');
        is($res->{headers}{'x-sub'}, '[alice]', 'add_header X-Sub');
    };
    $LOGGED{$n} = [ 'OK', 0, "$path: $name" ];
    return $res;
}

# Accepted tokens.
my $res = accepted('/ok', token(), 'accepted token');
is(echoed($res)->{role}, 'user', 'upstream: auth_jwt_claim_set when accepted');
accepted('/any/claim', token(role => 'admin'), 'satisfy any, requirement met');
accepted('/any/iss', token(iss => 'https://idp.example'), 'satisfy any, issuer met');
accepted('/any/aud', token(aud => [ 'web', 'api' ]), 'satisfy any, audience met');
accepted('/any/require', token(admin => 1), 'satisfy any, auth_jwt_require met');
accepted('/any/session', token(tokenId => 'tid-live'), 'satisfy any, live session');
accepted('/any/early', token(role => 'admin'), 'satisfy any, rewrite-phase read, met');
accepted('/fallback/require', token(admin => 1), 'error_page location, met');

# Refused tokens under satisfy any.
refused('/any/claim', token(), 'INVALID_TOKEN', 'require_claim fails');
refused('/any/claim403', token(), 'FORBIDDEN', 'require_claim error=403 fails');
refused('/any/header', token(), 'INVALID_TOKEN', 'require_header fails');
refused('/any/iss', token(iss => 'https://evil.example'), 'INVALID_TOKEN',
    'issuer fails');
refused('/any/iss', token(), 'INVALID_TOKEN', 'issuer absent');
refused('/any/aud', token(aud => [ 'web' ]), 'INVALID_TOKEN', 'audience fails');
refused('/any/require', token(), 'INVALID_TOKEN',
    'auth_jwt_require fails after reading $jwt_claim_sub');
refused('/any/session', token(tokenId => 'tid-gone'), 'LOGGED_OUT',
    'no session record');
refused('/any/early', token(), 'INVALID_TOKEN',
    'claim copied in the rewrite phase, then refused');

# A token that does not verify: no claims, and no refused claim either.
my $bad = mint(key => 'hmac2', claims => { sub => 'alice', role => 'admin' },
    header => { hx => 'hv' });
refused('/any/claim', $bad, 'INVALID_TOKEN', 'bad signature', verified => 0);

# error_page to a location that proxies.
refused('/fallback/require', token(), 'INVALID_TOKEN',
    'error_page 401 = @fallback after auth_jwt_require', fallback => 1);
refused('/fallback/claim', token(), 'FORBIDDEN',
    'error_page 403 = @fallback after require_claim', fallback => 1);
refused('/fallback/session', token(tokenId => 'tid-gone'), 'LOGGED_OUT',
    'error_page 401 = @fallback after LOGGED_OUT', fallback => 1);
refused('/fallback/early', token(), 'INVALID_TOKEN',
    'error_page 401 = @fallback, claim copied in the rewrite phase', fallback => 1);

# Straight rejections: the response carries no claim either.
my $n = ++$N;
$res = http_get_token("/direct?n=$n", token());
is_rejected($res, 401, 'INVALID_TOKEN', '/direct: require_claim fails');
is($res->{headers}{'x-sub'}, '[]', '/direct: add_header X-Sub empty on the 401');
is($res->{headers}{'x-payload'}, '[]', '/direct: add_header X-Payload empty on the 401');
is($res->{headers}{'x-status'}, '[INVALID_TOKEN]', '/direct: $jwt_auth_status kept');
$LOGGED{$n} = [ 'INVALID_TOKEN', 1, '/direct: require_claim fails' ];

# The access log: who was refused, through $jwt_refused_claim_sub only.
my %line = map { /^(\d+) / ? ($1 => $_) : () }
    split /\n/, slurp(testdir() . '/refused.log');
for my $n (sort { $a <=> $b } keys %LOGGED) {
    my ($code, $verified, $name) = @{ $LOGGED{$n} };
    my $l = $line{$n} // '';
    if ($code eq 'OK') {
        like($l, qr/^$n OK sub=\[alice\] refused=\[-?\] /,
            "log: $name: sub logged, refused empty");
    } elsif ($verified) {
        like($l, qr/^$n $code sub=\[-?\] refused=\[alice\] role=\[-?\] payload=\[-?\]$/,
            "log: $name: claims empty, refused sub logged");
    } else {
        like($l, qr/^$n $code sub=\[-?\] refused=\[-?\] role=\[-?\] payload=\[-?\]$/,
            "log: $name: nothing verified, nothing logged");
    }
}

no_log_alerts();

done_testing();
