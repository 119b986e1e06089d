#!/usr/bin/env bash
# Starts or stops the demo on 127.0.0.1: memcached (the session store),
# nginx with conf/nginx.conf in front of a demo application; mints demo
# tokens and sessions with jwtctl, and shows what each request gets.
#
#   demo.sh start|stop NGINX MODULE JWTCTL DIR PORT

set -euo pipefail

action=$1 nginx=$2 module=$3 jwtctl=$4 dir=$5 port=$6
here=$(cd "$(dirname "$0")" && pwd)
memcached_port=$((port + 2))
store=127.0.0.1:$memcached_port

# Stops the process whose pid is in $1 (named $2), waiting up to 5 s.
stop_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "demo $2 stopped"
    fi
    rm -f "$1"
}

stop() {
    stop_pid "$dir/logs/nginx.pid" nginx
    stop_pid "$dir/logs/memcached.pid" memcached
}

session() {
    "$jwtctl" session "$@" --server "$store"
}

sign() {
    "$jwtctl" sign --key "$dir/keys.json" <<<"$1"
}

# The token with its last signature character changed.
tamper() {
    local last=${1: -1}
    printf '%s%s' "${1%?}" "$([ "$last" = A ] && echo B || echo A)"
}

show() {
    local label=$1; shift
    printf '%-44s -> %s\n' "$label" \
        "$(curl -s -o /dev/stdout -w ' (HTTP %{http_code})' "$@" | tr -d '\n')"
}

start() {
    stop
    mkdir -p "$dir/logs"

    # A fresh random HMAC secret for every demo run.
    "$jwtctl" jwks --secret "$(openssl rand -hex 32)" --kid demo \
        >"$dir/keys.json"

    sed -e "s|@MODULE@|$module|" -e "s|@PORT@|$port|" \
        -e "s|@UPSTREAM_PORT@|$((port + 1))|" \
        -e "s|@MEMCACHED_PORT@|$memcached_port|" \
        "$here/nginx.conf" >"$dir/nginx.conf"

    memcached -d -l 127.0.0.1 -p "$memcached_port" -U 0 -m 16 \
        -u "$(id -un)" -P "$dir/logs/memcached.pid"

    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -t -q
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"

    local now url user admin expired
    now=$(date +%s)
    url=http://127.0.0.1:$port
    user=$(sign '{"sub":"alice","roles":["dev"],"tokenId":"t-1","org":{"name":"Acme"},"exp":'$((now + 3600))'}')
    admin=$(sign '{"sub":"bob","roles":["admin"],"tokenId":"t-2","exp":'$((now + 3600))'}')
    expired=$(sign '{"sub":"carol","tokenId":"t-3","exp":'$((now - 3600))'}')

    for _ in $(seq 50); do
        curl -s -o /dev/null "$url/health" && break
        sleep 0.1
    done

    # What the auth server does at login: one record per token.
    session create --key session:t-1 --fingerprint laptop-1 --idle-timeout 1800 >/dev/null
    session create --key session:t-2 --fingerprint phone-2 --idle-timeout 1800 >/dev/null

    cat <<INFO
Demo nginx with ngx_http_auth_jwt_module on $url, in front of a demo
application on 127.0.0.1:$((port + 1)), sessions in memcached on $store.
Logs: $dir/logs. Stop it all with: make stop

What it answers:
INFO
    local laptop="FINGER-PRINT: laptop-1"
    show "valid token, its device" "$url/api/hello" \
        -H "X-AUTH-TOKEN: $user" -H "$laptop"
    show "no token" "$url/api/hello"
    show "tampered token" "$url/api/hello" \
        -H "X-AUTH-TOKEN: $(tamper "$user")" -H "$laptop"
    show "expired token" "$url/api/hello" -H "X-AUTH-TOKEN: $expired"
    show "valid token, another device" "$url/api/hello" \
        -H "X-AUTH-TOKEN: $user" -H "FINGER-PRINT: stolen"
    show "non-admin on /admin/" "$url/admin/" \
        -H "X-AUTH-TOKEN: $user" -H "$laptop"
    show "admin on /admin/" "$url/admin/" \
        -H "X-AUTH-TOKEN: $admin" -H "FINGER-PRINT: phone-2"
    session delete --key session:t-1 >/dev/null
    show "after logout (session deleted)" "$url/api/hello" \
        -H "X-AUTH-TOKEN: $user" -H "$laptop"
    session create --key session:t-1 --fingerprint laptop-1 --idle-timeout 1800 >/dev/null

    cat <<INFO

Try it yourself (alice's session was created again):
  TOKEN=$user
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN" -H "$laptop"
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN" -H "FINGER-PRINT: other"
  $jwtctl session show --server $store --key session:t-1
  $jwtctl session delete --server $store --key session:t-1   # logout
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN" -H "$laptop"
INFO
}

case $action in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop NGINX MODULE JWTCTL DIR PORT" >&2; exit 2 ;;
esac
