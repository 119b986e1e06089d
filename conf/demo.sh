#!/usr/bin/env bash
# Starts or stops the demo nginx (conf/nginx.conf) on 127.0.0.1, mints demo
# tokens with jwtctl, and shows what each request gets.
#
#   demo.sh start|stop NGINX MODULE JWTCTL DIR PORT

set -euo pipefail

action=$1 nginx=$2 module=$3 jwtctl=$4 dir=$5 port=$6
here=$(cd "$(dirname "$0")" && pwd)
pidfile=$dir/logs/nginx.pid

stop() {
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill -QUIT "$(cat "$pidfile")"
        for _ in $(seq 50); do
            kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break
            sleep 0.1
        done
        echo "demo nginx stopped"
    fi
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
        "$here/nginx.conf" >"$dir/nginx.conf"

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

    cat <<INFO
Demo nginx with ngx_http_auth_jwt_module on $url (pid $(cat "$pidfile")),
in front of a demo application on 127.0.0.1:$((port + 1)).
Logs: $dir/logs. Stop it with: make stop

What it answers:
INFO
    show "valid token" "$url/api/hello" -H "X-AUTH-TOKEN: $user"
    show "no token" "$url/api/hello"
    show "tampered token" "$url/api/hello" -H "X-AUTH-TOKEN: $(tamper "$user")"
    show "expired token" "$url/api/hello" -H "X-AUTH-TOKEN: $expired"
    show "non-admin on /admin/" "$url/admin/" -H "X-AUTH-TOKEN: $user"
    show "admin on /admin/" "$url/admin/" -H "X-AUTH-TOKEN: $admin"

    cat <<INFO

Try it yourself:
  TOKEN=$user
  curl -i $url/api/hello -H "X-AUTH-TOKEN: \$TOKEN"
  $jwtctl verify --key $dir/keys.json "\$TOKEN"
INFO
}

case $action in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop NGINX MODULE JWTCTL DIR PORT" >&2; exit 2 ;;
esac
