#!/usr/bin/env bash
# Starts or stops the demo on 127.0.0.1: memcached (the session store), the
# reference auth server (examples/auth-server), and nginx with the module in
# front of a demo application, with /auth/ routed to the auth server. Then
# walks through the flow with real requests and prints their responses.
#
#   demo.sh start|stop NGINX MODULE JWTCTL AUTH_SERVER DIR PORT
#
# Ports: nginx PORT, the demo application PORT+1, memcached PORT+2, the auth
# server PORT+3, the second auth server (nested tokens) PORT+4. Everything is
# stopped by the PIDs in DIR/logs.

set -euo pipefail

action=$1 nginx=$2 module=$3 jwtctl=$4 auth_server=$5 dir=$6 port=$7
here=$(cd "$(dirname "$0")" && pwd)
memcached_port=$((port + 2))
auth_port=$((port + 3))
nested_port=$((port + 4))
url=http://127.0.0.1:$port

# Stops the process whose pid is in $1 (named $2) with signal $3, waiting up
# to 5 s, then SIGKILL.
stop_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "-$3" "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "demo $2 stopped"
    fi
    rm -f "$1"
}

stop() {
    stop_pid "$dir/logs/nginx.pid" nginx QUIT
    stop_pid "$dir/logs/auth-server.pid" auth-server TERM
    stop_pid "$dir/logs/auth-server-nested.pid" auth-server-nested TERM
    stop_pid "$dir/logs/memcached.pid" memcached TERM
}

# Waits up to 10 s for $1 to answer.
wait_for() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "$2 did not start; see $dir/logs" >&2
    exit 1
}

# A users file entry.
user() {
    printf '{"username":"%s","password_hash":"%s","roles":%s,"session_idle_timeout":%s}' \
        "$1" "$(printf '%s\n' "$2" | "$auth_server" hash-password)" "$3" "$4"
}

start() {
    stop
    mkdir -p "$dir/logs"

    printf '{"users": [\n  %s,\n  %s\n]}\n' \
        "$(user alice wonderland '["dev","admin"]' 1800)" \
        "$(user bob builder '["dev"]' 300)" >"$dir/users.json"

    sed -e "s|@MODULE@|$module|" -e "s|@PORT@|$port|" \
        -e "s|@UPSTREAM_PORT@|$((port + 1))|" \
        -e "s|@MEMCACHED_PORT@|$memcached_port|" \
        -e "s|@AUTH_PORT@|$auth_port|" \
        -e "s|@AUTH_NESTED_PORT@|$nested_port|" \
        "$here/nginx.conf" >"$dir/nginx.conf"

    memcached -d -l 127.0.0.1 -p "$memcached_port" -U 0 -m 16 \
        -u "$(id -un)" -P "$dir/logs/memcached.pid"

    # The auth server keeps its own signing keys in auth-keys (made on the
    # first run) and publishes them at /.well-known/jwks.json, where nginx
    # fetches them. Short times, so that the walkthrough shows a rotation:
    # a new key signs 5 s after it is published.
    "$auth_server" serve --listen "127.0.0.1:$auth_port" \
        --users "$dir/users.json" \
        --keys-dir "$dir/auth-keys" --jwks-max-age 5 \
        --issuer "$url/auth" \
        --memcached "127.0.0.1:$memcached_port" \
        >"$dir/logs/auth-server.log" 2>&1 </dev/null &
    echo $! >"$dir/logs/auth-server.pid"

    # The second auth server: keys of its own, and every token it issues
    # encrypted to nginx-enc.jwk, a 256-bit secret it shares with nginx
    # (made on the first run; mode 0600, as a decryption key must be).
    if [ ! -s "$dir/nginx-enc.jwk" ]; then
        (umask 077
         printf '{"kty":"oct","kid":"demo-enc","use":"enc","k":"%s"}\n' \
             "$(openssl rand 32 | base64 | tr '+/' '-_' | tr -d '=\n')" \
             >"$dir/nginx-enc.jwk")
    fi
    "$auth_server" serve --listen "127.0.0.1:$nested_port" \
        --users "$dir/users.json" \
        --keys-dir "$dir/auth-keys-nested" --jwks-max-age 5 \
        --issuer "$url/auth-nested" \
        --encrypt-key "$dir/nginx-enc.jwk" \
        --memcached "127.0.0.1:$memcached_port" \
        >"$dir/logs/auth-server-nested.log" 2>&1 </dev/null &
    echo $! >"$dir/logs/auth-server-nested.pid"

    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -t -q
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"

    wait_for "http://127.0.0.1:$auth_port/health" "the auth server"
    wait_for "http://127.0.0.1:$nested_port/health" "the second auth server"
    wait_for "$url/health" nginx

    walkthrough
}

# Tokens are long: the walkthrough prints their first 24 characters.
shorten() {
    sed -E 's/(eyJ[A-Za-z0-9_-]{21})[A-Za-z0-9_.-]+/\1.../g;
            s/("refresh_token":"[A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]+/\1.../g'
}

# request "curl arguments as shown" ARGS...: prints the command, then the
# status line, the headers worth seeing and the body of the real response,
# which stay in $response_headers and $response_body.
response_headers=$dir/logs/response-headers
response_body=$dir/logs/response-body

request() {
    local shown=$1; shift
    curl -s -D "$response_headers" -o "$response_body" "$@"
    printf '\n$ curl %s\n' "$shown"
    grep -i -E '^(HTTP/|x-auth-token|www-authenticate|content-type)' \
        "$response_headers" | tr -d '\r' | shorten
    shorten <"$response_body"
    case $(tail -c1 "$response_body") in '') ;; *) echo ;; esac
}

header() {
    grep -i "^$1:" "$response_headers" | head -1 | cut -d' ' -f2- | tr -d '\r'
}

json_field() {
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$response_body"
}

walkthrough() {
    local login token refresh
    login='{"username":"alice","password":"wonderland","fingerprint":"laptop-1"}'

    cat <<INFO
The demo runs on 127.0.0.1 (logs in $dir/logs):
  nginx + ngx_http_auth_jwt_module  $url
    /auth/  -> the auth server       127.0.0.1:$auth_port (no token check)
    /api/   -> the demo application  127.0.0.1:$((port + 1))
    /auth-nested/ -> a second auth server, nested tokens  127.0.0.1:$nested_port
    /nested/      -> the demo application, for nested tokens
  memcached (session records)        127.0.0.1:$memcached_port
Users ($dir/users.json):
  alice / wonderland (roles dev, admin), bob / builder (role dev)
Stop it all with: make stop

What it answers (real requests; tokens shortened to 24 characters):

1. Log in: the auth server checks the password, writes the session record
   to memcached, and answers with the token in X-AUTH-TOKEN.
INFO
    request "$url/auth/login -H 'Content-Type: application/json' -d '$login'" \
        "$url/auth/login" -H 'Content-Type: application/json' -d "$login"
    token=$(header x-auth-token)
    refresh=$(json_field refresh_token)

    cat <<INFO

2. Call the API with the token, from the same device: nginx verifies the
   signature and the session, and forwards the claims as headers.
INFO
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $token" -H 'FINGER-PRINT: laptop-1'

    cat <<INFO

3. The same token from another device (a stolen token):
INFO
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$TOKEN\" -H 'FINGER-PRINT: stolen'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $token" -H 'FINGER-PRINT: stolen'

    cat <<INFO

4. A new access token for the same session, with the refresh token:
INFO
    request "$url/auth/refresh -H 'Content-Type: application/json' -d '{\"refresh_token\":\"\$REFRESH\",\"fingerprint\":\"laptop-1\"}'" \
        "$url/auth/refresh" -H 'Content-Type: application/json' \
        -d "{\"refresh_token\":\"$refresh\",\"fingerprint\":\"laptop-1\"}"

    cat <<INFO

5. Log out, from the device the session is bound to: the auth server
   deletes the session record.
INFO
    request "$url/auth/logout -X POST -H \"X-AUTH-TOKEN: \$TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/auth/logout" -X POST -H "X-AUTH-TOKEN: $token" \
        -H 'FINGER-PRINT: laptop-1'

    cat <<INFO

6. The token is still signed and unexpired, but its session is gone:
INFO
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $token" -H 'FINGER-PRINT: laptop-1'

    rotation "$login"
    nested "$login"
    rm -f "$response_headers" "$response_body"

    cat <<INFO

Try it yourself:
  TOKEN=\$(curl -s -D - -o /dev/null $url/auth/login \\
      -H 'Content-Type: application/json' \\
      -d '{"username":"bob","password":"builder","fingerprint":"phone-1"}' \\
      | tr -d '\r' | sed -n 's/^[Xx]-[Aa][Uu][Tt][Hh]-[Tt][Oo][Kk][Ee][Nn]: //p')
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN" -H 'FINGER-PRINT: phone-1'
  curl -i $url/admin/ -H "X-AUTH-TOKEN: \$TOKEN" -H 'FINGER-PRINT: phone-1'   # 403: bob is no admin
  curl -i -X POST $url/auth/logout-all -H "X-AUTH-TOKEN: \$TOKEN" -H 'FINGER-PRINT: phone-1'   # every session of bob
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN" -H 'FINGER-PRINT: phone-1'
INFO
    counters
}

# The kid in a token's header.
kid_of() {
    printf '%s' "${1%%.*}" | tr '_-' '/+' | base64 -d 2>/dev/null \
        | sed -n 's/.*"kid":"\([^"]*\)".*/\1/p'
}

# The kids the auth server publishes.
published_kids() {
    curl -s "http://127.0.0.1:$auth_port/.well-known/jwks.json" \
        | grep -o '"kid":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' '
}

rotation() {
    local old new before
    request "$url/auth/login ... -d '$1'" \
        "$url/auth/login" -H 'Content-Type: application/json' -d "$1" \
        >/dev/null
    old=$(header x-auth-token)
    before=$(published_kids)

    kill -HUP "$(cat "$dir/logs/auth-server.pid")"
    sleep 6

    request "$url/auth/login ... -d '$1'" \
        "$url/auth/login" -H 'Content-Type: application/json' -d "$1" \
        >/dev/null
    new=$(header x-auth-token)

    cat <<INFO

7. Key rotation, nginx never reloaded: the auth server publishes a new key
   (kill -HUP), signs with it 5 s later, and keeps the old one published
   until the tokens it signed have expired.
   published before: $before
   published after:  $(published_kids)
   a token from before is signed by $(kid_of "$old"), a new one by $(kid_of "$new")
INFO
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$NEW_TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $new" -H 'FINGER-PRINT: laptop-1'
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$OLD_TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $old" -H 'FINGER-PRINT: laptop-1'
}

# A base64url segment, decoded.
segment() {
    local s=$1
    while [ $((${#s} % 4)) -ne 0 ]; do s+='='; done
    printf '%s' "$s" | tr '_-' '/+' | base64 -d 2>/dev/null
}

nested() {
    local token payload parts
    cat <<INFO

8. A nested token (auth_jwt_type nested): the second auth server signs its
   tokens as the first does, then encrypts them (JWE) to nginx-enc.jwk, a
   key it shares with nginx. The client holds five segments and cannot
   read the claims:
INFO
    request "$url/auth-nested/login -H 'Content-Type: application/json' -d '$1'" \
        "$url/auth-nested/login" -H 'Content-Type: application/json' -d "$1"
    token=$(header x-auth-token)
    IFS=. read -r -a parts <<<"$token"
    payload=$(segment "${parts[3]:-}" | od -An -tx1 -N12 | tr -s ' \n' ' ')
    if segment "${parts[3]:-}" | grep -q -a '"sub"'; then
        payload="$payload(the claims, readable!)"
    else
        payload="$payload... (ciphertext, not the claims)"
    fi
    cat <<INFO
   segments: ${#parts[@]}
   header:   $(segment "${parts[0]:-}")
   payload: $payload

   nginx decrypts it with the shared key, verifies the signature inside
   with the second auth server's published keys, checks the session, and
   the application gets the claims as headers:
INFO
    request "$url/nested/hello -H \"X-AUTH-TOKEN: \$NESTED_TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/nested/hello" -H "X-AUTH-TOKEN: $token" -H 'FINGER-PRINT: laptop-1'

    cat <<INFO

   Where signed tokens are expected, the same token is refused:
INFO
    request "$url/api/hello -H \"X-AUTH-TOKEN: \$NESTED_TOKEN\" -H 'FINGER-PRINT: laptop-1'" \
        "$url/api/hello" -H "X-AUTH-TOKEN: $token" -H 'FINGER-PRINT: laptop-1'
}

# The counters the walkthrough produced: the decisions, and the session
# store's lookups and errors.
counters() {
    printf '\n$ curl %s\n' "$url/auth-jwt-status"
    curl -s "$url/auth-jwt-status" \
        | grep -E '^auth_jwt_(decisions_total|memcached_(lookups|errors)_total)' \
        | grep -v ' 0$'
}

case $action in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop NGINX MODULE JWTCTL AUTH_SERVER DIR PORT" >&2
        exit 2
        ;;
esac
