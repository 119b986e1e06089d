
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The session check on nginx's event loop: memcached's text protocol
 * ("gets", then "cas" when a touch is due) over connections the worker
 * keeps alive, as nginx's upstream keepalive module keeps them. The core
 * says which server holds a key (ajwt_ring_locate) and what a record
 * means (ajwt_session_decide); this file only moves the bytes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_session.h"
#include "ngx_http_auth_jwt_status.h"


/* memcached's longest key, and the longest "VALUE" line it can send */
#define NGX_HTTP_AUTH_JWT_MAX_KEY     250
#define NGX_HTTP_AUTH_JWT_VALUE_LINE                                        \
    (sizeof("VALUE  4294967295 18446744073709551615 18446744073709551615\r\n")\
     - 1 + NGX_HTTP_AUTH_JWT_MAX_KEY)

/* the most of an unexpected reply that the error log shows */
#define NGX_HTTP_AUTH_JWT_SHOWN       64

/* a reply buffer that holds a typical record whole */
#define NGX_HTTP_AUTH_JWT_REPLY_SIZE  (NGX_HTTP_AUTH_JWT_VALUE_LINE + 512)

#define NGX_HTTP_AUTH_JWT_GETS        0
#define NGX_HTTP_AUTH_JWT_CAS         1


struct ngx_http_auth_jwt_server_s {
    ngx_str_t                      name;      /* "host:port", as given */
    ngx_addr_t                     addr;
    ngx_queue_t                    idle;      /* cached connections */
    ngx_queue_t                    free;      /* unused cache slots */
    time_t                         down;      /* failed: 503 until then */
    ngx_uint_t                     status;    /* its counters' slot */
};


/* a cache slot for an idle connection */
typedef struct {
    ngx_queue_t                    queue;
    ngx_connection_t              *connection;
    ngx_http_auth_jwt_server_t    *server;
} ngx_http_auth_jwt_cached_t;


/* the exchange with memcached for one request's session check */
typedef struct {
    ngx_http_request_t            *request;
    ngx_http_auth_jwt_session_t   *session;
    ngx_http_auth_jwt_store_t     *store;
    ngx_http_auth_jwt_server_t    *server;
    ngx_peer_connection_t          peer;
    ngx_buf_t                      out;       /* the command being sent */
    ngx_buf_t                      in;        /* its reply */
    ngx_uint_t                     step;      /* ..._GETS, ..._CAS */
    ngx_str_t                      record;    /* data NULL: no record */
    uint64_t                       flags;
    uint64_t                       cas;
    uint64_t                       start;     /* of the lookup, timed */
    ajwt_status_t                  status;    /* of a reply refused */
    const char                    *reason;
    unsigned                       reused:1;
    unsigned                       sync:1;
} ngx_http_auth_jwt_exchange_t;


static ngx_int_t ngx_http_auth_jwt_exchange_connect(
    ngx_http_auth_jwt_exchange_t *ex);
static void ngx_http_auth_jwt_exchange_handler(ngx_event_t *ev);
static void ngx_http_auth_jwt_exchange_run(ngx_http_auth_jwt_exchange_t *ex);
static ngx_int_t ngx_http_auth_jwt_exchange_send(
    ngx_http_auth_jwt_exchange_t *ex);
static ngx_int_t ngx_http_auth_jwt_exchange_recv(
    ngx_http_auth_jwt_exchange_t *ex);
static ngx_int_t ngx_http_auth_jwt_parse_value(
    ngx_http_auth_jwt_exchange_t *ex);
static ngx_int_t ngx_http_auth_jwt_parse_stored(
    ngx_http_auth_jwt_exchange_t *ex);
static u_char *ngx_http_auth_jwt_parse_number(u_char *p, u_char *last,
    uint64_t max, uint64_t *n);
static ngx_int_t ngx_http_auth_jwt_exchange_decide(
    ngx_http_auth_jwt_exchange_t *ex);
static void ngx_http_auth_jwt_exchange_fail(ngx_http_auth_jwt_exchange_t *ex,
    const char *reason, ngx_uint_t error, ngx_uint_t retry);
static void ngx_http_auth_jwt_exchange_unexpected(
    ngx_http_auth_jwt_exchange_t *ex);
static void ngx_http_auth_jwt_exchange_finish(
    ngx_http_auth_jwt_exchange_t *ex, ajwt_status_t status,
    const char *reason, ngx_uint_t keep);
static void ngx_http_auth_jwt_exchange_release(
    ngx_http_auth_jwt_exchange_t *ex, ngx_uint_t keep);
static void ngx_http_auth_jwt_idle_handler(ngx_event_t *ev);
static void ngx_http_auth_jwt_idle_write_handler(ngx_event_t *ev);
static void ngx_http_auth_jwt_close_idle(ngx_http_auth_jwt_server_t *server);
static void ngx_http_auth_jwt_ring_cleanup(void *data);


ngx_int_t
ngx_http_auth_jwt_session_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_store_t *store, ngx_http_auth_jwt_session_t *s)
{
    u_char                        *p;
    size_t                         n;
    ajwt_str_t                     key;
    ngx_http_auth_jwt_server_t    *server;
    ngx_http_auth_jwt_exchange_t  *ex;

    s->done = 1;

    key.data = s->key.data;
    key.len = s->key.len;

    s->status = ajwt_ring_locate(store->ring, key, &n, &s->reason);
    if (s->status != AJWT_OK) {
        return NGX_OK;
    }

    server = (ngx_http_auth_jwt_server_t *) store->servers.elts + n;

    /* fail fast while a server that failed is left alone (1 to 2 s) */

    if (ngx_time() <= server->down) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth_jwt: memcached server %V is down",
                       &server->name);

        s->status = AJWT_SESSION_STORE_UNAVAILABLE;
        s->reason = "memcached server failed within the last second";
        return NGX_OK;
    }

    ex = ngx_pcalloc(r->pool, sizeof(ngx_http_auth_jwt_exchange_t));
    if (ex == NULL) {
        return NGX_ERROR;
    }

    n = sizeof("gets \r\n") - 1 + s->key.len;

    p = ngx_pnalloc(r->pool, n + NGX_HTTP_AUTH_JWT_REPLY_SIZE);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ex->out.start = p;
    ex->out.pos = p;
    ex->out.last = ngx_sprintf(p, "gets %V\r\n", &s->key);
    ex->out.end = ex->out.last;

    ex->in.start = p + n;
    ex->in.pos = ex->in.start;
    ex->in.last = ex->in.start;
    ex->in.end = ex->in.start + NGX_HTTP_AUTH_JWT_REPLY_SIZE;

    ex->request = r;
    ex->session = s;
    ex->store = store;
    ex->server = server;
    ex->start = ngx_http_auth_jwt_status_lookup(server->status);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: session lookup on memcached server %V",
                   &server->name);

    s->done = 0;
    s->pending = 1;

    /* an exchange that ends before it waits leaves the phases alone */

    ex->sync = 1;

    if (ngx_http_auth_jwt_exchange_connect(ex) == NGX_OK) {
        ngx_http_auth_jwt_exchange_run(ex);
    }

    if (s->done) {
        return NGX_OK;
    }

    ex->sync = 0;

    /* blocked: a client that goes away cannot free the request under us */

    r->main->blocked++;
    r->aio = 1;

    return NGX_AGAIN;
}


/*
 * NGX_OK: connected, run the exchange; NGX_AGAIN: connecting, the write
 * event runs it; NGX_ERROR: the exchange has failed.
 */

static ngx_int_t
ngx_http_auth_jwt_exchange_connect(ngx_http_auth_jwt_exchange_t *ex)
{
    ngx_int_t                    rc;
    ngx_queue_t                 *q;
    ngx_connection_t            *c;
    ngx_http_auth_jwt_cached_t  *cached;
    ngx_http_auth_jwt_server_t  *server;

    server = ex->server;

    if (!ngx_queue_empty(&server->idle)) {
        q = ngx_queue_head(&server->idle);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&server->free, q);

        cached = ngx_queue_data(q, ngx_http_auth_jwt_cached_t, queue);

        c = cached->connection;
        c->idle = 0;

        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_IDLE, -1);
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ex->request->connection->log, 0,
                       "auth_jwt: memcached connection reused: %p", c);

        ex->peer.connection = c;
        ex->reused = 1;
        rc = NGX_OK;

    } else {
        ngx_memzero(&ex->peer, sizeof(ngx_peer_connection_t));

        ex->peer.sockaddr = server->addr.sockaddr;
        ex->peer.socklen = server->addr.socklen;
        ex->peer.name = &server->name;
        ex->peer.get = ngx_event_get_peer;
        ex->peer.log = ex->request->connection->log;
        ex->peer.log_error = NGX_ERROR_ERR;

        ex->reused = 0;

        rc = ngx_event_connect_peer(&ex->peer);

        if (rc == NGX_ERROR) {
            /*
             * nginx's own shortage (no socket: EMFILE, ENFILE; no free
             * connection: worker_connections), already logged by nginx:
             * the server is not to blame, so it is not marked down
             */

            ex->peer.connection = NULL;

            ngx_log_error(NGX_LOG_CRIT, ex->request->connection->log, 0,
                          "auth_jwt: cannot open a connection to memcached "
                          "server %V: local resources exhausted",
                          &server->name);

            ngx_http_auth_jwt_status_store(server->status,
                                           NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 1);
            ngx_http_auth_jwt_exchange_finish(ex,
                                          AJWT_SESSION_STORE_UNAVAILABLE,
                                          "no local resources for a "
                                          "memcached connection", 0);
            return NGX_ERROR;
        }

        if (rc == NGX_BUSY || rc == NGX_DECLINED) {
            ex->peer.connection = NULL;
            ngx_http_auth_jwt_exchange_fail(ex, "cannot connect to memcached",
                                            NGX_HTTP_AUTH_JWT_STATUS_REFUSED,
                                            0);
            return NGX_ERROR;
        }

        c = ex->peer.connection;

        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_OPEN, 1);
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ex->request->connection->log, 0,
                       "auth_jwt: memcached connection opened: %p%s", c,
                       rc == NGX_AGAIN ? ", connecting" : "");

        (void) ngx_tcp_nodelay(c);
    }

    c->data = ex;
    c->log = ex->request->connection->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_http_auth_jwt_exchange_handler;
    c->write->handler = ngx_http_auth_jwt_exchange_handler;

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, ex->store->timeout);
        return NGX_AGAIN;
    }

    return NGX_OK;
}


static void
ngx_http_auth_jwt_exchange_handler(ngx_event_t *ev)
{
    ngx_connection_t              *c;
    ngx_http_auth_jwt_exchange_t  *ex;

    c = ev->data;
    ex = c->data;

    if (ev->timedout) {
        ngx_http_auth_jwt_exchange_fail(ex, "memcached timed out",
                                        NGX_HTTP_AUTH_JWT_STATUS_TIMEOUT, 0);
        return;
    }

    ngx_http_auth_jwt_exchange_run(ex);
}


/* sends each command and reads its reply, until the verdict */

static void
ngx_http_auth_jwt_exchange_run(ngx_http_auth_jwt_exchange_t *ex)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = ex->peer.connection;

    for ( ;; ) {

        if (ex->out.pos < ex->out.last) {
            rc = ngx_http_auth_jwt_exchange_send(ex);

            if (rc == NGX_AGAIN) {
                return;
            }

            if (rc == NGX_ERROR) {
                ngx_http_auth_jwt_exchange_fail(ex,
                               "memcached connection failed",
                               ngx_http_auth_jwt_status_io_error(
                                   ngx_socket_errno), 1);
                return;
            }

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "auth_jwt: memcached %s sent to %V",
                           ex->step == NGX_HTTP_AUTH_JWT_GETS ? "gets" : "cas",
                           &ex->server->name);

            /* the reply is a round trip away: wait for it, do not read now */

            ngx_add_timer(c->read, ex->store->timeout);

            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_auth_jwt_exchange_fail(ex,
                                           "memcached connection failed",
                                           NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 0);
            }

            return;
        }

        rc = ngx_http_auth_jwt_exchange_recv(ex);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_ERROR) {
            ngx_http_auth_jwt_exchange_fail(ex, "memcached connection failed",
                               ngx_http_auth_jwt_status_io_error(
                                   ngx_socket_errno), 1);
            return;
        }

        ngx_http_auth_jwt_status_replied(ex->server->status, &ex->start);

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "auth_jwt: memcached reply to %s, %uz bytes: %i",
                       ex->step == NGX_HTTP_AUTH_JWT_GETS ? "gets" : "cas",
                       (size_t) (ex->in.last - ex->in.start), rc);

        if (rc == NGX_DECLINED) {
            /* a reply that cannot be trusted: the connection goes too */

            if (ex->status == AJWT_SESSION_STORE_UNAVAILABLE) {
                ngx_http_auth_jwt_exchange_unexpected(ex);
            }

            ngx_http_auth_jwt_exchange_finish(ex, ex->status, ex->reason, 0);
            return;
        }

        if (ex->step == NGX_HTTP_AUTH_JWT_CAS) {
            /* EXISTS: another request touched the session first: as good */
            ngx_http_auth_jwt_exchange_finish(ex, ex->status, ex->reason, 1);
            return;
        }

        rc = ngx_http_auth_jwt_exchange_decide(ex);

        if (rc == NGX_ERROR) {
            ngx_http_auth_jwt_status_store(ex->server->status,
                                           NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 1);
            ngx_http_auth_jwt_exchange_finish(ex,
                                          AJWT_SESSION_STORE_UNAVAILABLE,
                                          "out of memory", 0);
            return;
        }

        if (rc == NGX_DONE) {
            ngx_http_auth_jwt_exchange_finish(ex, ex->status, ex->reason, 1);
            return;
        }

        /* a touch is due: the "cas" command is in ex->out */
    }
}


static ngx_int_t
ngx_http_auth_jwt_exchange_send(ngx_http_auth_jwt_exchange_t *ex)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = ex->peer.connection;

    while (ex->out.pos < ex->out.last) {
        n = c->send(c, ex->out.pos, ex->out.last - ex->out.pos);

        if (n == NGX_AGAIN) {
            if (!c->write->timer_set) {
                ngx_add_timer(c->write, ex->store->timeout);
            }

            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        if (n <= 0) {
            return NGX_ERROR;
        }

        ex->out.pos += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    return NGX_OK;
}


/*
 * NGX_OK: a whole reply is parsed; NGX_AGAIN: wait for more; NGX_ERROR:
 * the connection failed; NGX_DECLINED: a reply refused, ex->status says
 * how.
 */

static ngx_int_t
ngx_http_auth_jwt_exchange_recv(ngx_http_auth_jwt_exchange_t *ex)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = ex->peer.connection;

    for ( ;; ) {
        rc = (ex->step == NGX_HTTP_AUTH_JWT_GETS)
             ? ngx_http_auth_jwt_parse_value(ex)
             : ngx_http_auth_jwt_parse_stored(ex);

        if (rc != NGX_AGAIN) {
            return rc;
        }

        n = c->recv(c, ex->in.last, ex->in.end - ex->in.last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        if (n <= 0) {
            return NGX_ERROR;
        }

        ex->in.last += n;
    }
}


/*
 * The reply to "gets": "END\r\n" (no record), or
 * "VALUE <key> <flags> <bytes> <cas>\r\n<data>\r\nEND\r\n".
 */

static ngx_int_t
ngx_http_auth_jwt_parse_value(ngx_http_auth_jwt_exchange_t *ex)
{
    u_char     *p, *eol, *buf;
    size_t      need;
    uint64_t    bytes;
    ngx_str_t  *key;

    ex->status = AJWT_SESSION_STORE_UNAVAILABLE;
    ex->reason = "unexpected reply from memcached";

    p = ex->in.pos;

    eol = ngx_strlchr(p, ex->in.last, '\n');

    if (eol == NULL) {
        if ((size_t) (ex->in.last - p) >= NGX_HTTP_AUTH_JWT_VALUE_LINE) {
            return NGX_DECLINED;
        }

        return NGX_AGAIN;
    }

    if (eol == p || eol[-1] != '\r') {
        return NGX_DECLINED;
    }

    eol++;

    if (eol - p == sizeof("END\r\n") - 1
        && ngx_strncmp(p, "END\r\n", sizeof("END\r\n") - 1) == 0)
    {
        ngx_str_null(&ex->record);
        return (eol == ex->in.last) ? NGX_OK : NGX_DECLINED;
    }

    key = &ex->session->key;

    if ((size_t) (eol - p) <= sizeof("VALUE ") - 1 + key->len
        || ngx_strncmp(p, "VALUE ", sizeof("VALUE ") - 1) != 0
        || ngx_strncmp(p + 6, key->data, key->len) != 0
        || p[6 + key->len] != ' ')
    {
        return NGX_DECLINED;
    }

    p += sizeof("VALUE ") - 1 + key->len + 1;

    p = ngx_http_auth_jwt_parse_number(p, eol, 0xffffffff, &ex->flags);
    if (p == NULL || *p++ != ' ') {
        return NGX_DECLINED;
    }

    p = ngx_http_auth_jwt_parse_number(p, eol, NGX_MAX_SIZE_T_VALUE, &bytes);
    if (p == NULL || *p++ != ' ') {
        return NGX_DECLINED;
    }

    p = ngx_http_auth_jwt_parse_number(p, eol, (uint64_t) -1, &ex->cas);
    if (p == NULL || p != eol - 2) {
        return NGX_DECLINED;
    }

    if (bytes > AJWT_MAX_SESSION_RECORD) {
        ex->status = AJWT_INVALID_SESSION;
        ex->reason = "session record longer than 64 KiB";
        return NGX_DECLINED;
    }

    need = (eol - ex->in.pos) + bytes + sizeof("\r\nEND\r\n") - 1;

    if ((size_t) (ex->in.last - ex->in.pos) < need) {

        if ((size_t) (ex->in.end - ex->in.pos) < need) {
            /* a record larger than usual: room for the whole reply */

            buf = ngx_pnalloc(ex->request->pool, need);
            if (buf == NULL) {
                ex->reason = "out of memory";
                return NGX_DECLINED;
            }

            ex->in.last = ngx_cpymem(buf, ex->in.pos,
                                     ex->in.last - ex->in.pos);
            ex->in.start = buf;
            ex->in.pos = buf;
            ex->in.end = buf + need;
        }

        return NGX_AGAIN;
    }

    if ((size_t) (ex->in.last - ex->in.pos) != need) {
        return NGX_DECLINED;
    }

    p = ex->in.pos + need - (sizeof("\r\nEND\r\n") - 1);

    if (ngx_strncmp(p, "\r\nEND\r\n", sizeof("\r\nEND\r\n") - 1) != 0) {
        return NGX_DECLINED;
    }

    ex->record.data = p - bytes;
    ex->record.len = bytes;

    return NGX_OK;
}


/* the reply to "cas": STORED, EXISTS or NOT_FOUND */

static ngx_int_t
ngx_http_auth_jwt_parse_stored(ngx_http_auth_jwt_exchange_t *ex)
{
    u_char  *p, *eol;
    size_t   len;

    p = ex->in.pos;

    eol = ngx_strlchr(p, ex->in.last, '\n');

    if (eol == NULL) {
        if (ex->in.last - p >= (ssize_t) sizeof("NOT_FOUND\r\n")) {
            goto unexpected;
        }

        return NGX_AGAIN;
    }

    eol++;
    len = eol - p;

    if (eol != ex->in.last) {
        goto unexpected;
    }

    ex->status = AJWT_OK;
    ex->reason = NULL;

    if (len == sizeof("STORED\r\n") - 1
        && ngx_strncmp(p, "STORED\r\n", len) == 0)
    {
        return NGX_OK;
    }

    if (len == sizeof("EXISTS\r\n") - 1
        && ngx_strncmp(p, "EXISTS\r\n", len) == 0)
    {
        ngx_http_auth_jwt_status_store(ex->server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_CONFLICTS, 1);
        return NGX_OK;
    }

    if (len == sizeof("NOT_FOUND\r\n") - 1
        && ngx_strncmp(p, "NOT_FOUND\r\n", len) == 0)
    {
        /* logged out between the read and the write: it stays so */
        ex->status = AJWT_LOGGED_OUT;
        ex->reason = "session record deleted during the check";
        return NGX_OK;
    }

unexpected:

    ex->status = AJWT_SESSION_STORE_UNAVAILABLE;
    ex->reason = "unexpected reply from memcached";

    return NGX_DECLINED;
}


/* a decimal number up to max; NULL if there is none, or it is larger */

static u_char *
ngx_http_auth_jwt_parse_number(u_char *p, u_char *last, uint64_t max,
    uint64_t *n)
{
    u_char    *start;
    uint64_t   value, digit;

    value = 0;

    for (start = p; p < last && *p >= '0' && *p <= '9'; p++) {
        digit = *p - '0';

        if (value > (max - digit) / 10) {
            return NULL;
        }

        value = value * 10 + digit;
    }

    if (p == start) {
        return NULL;
    }

    *n = value;

    return p;
}


/*
 * The core's decision on the record. NGX_DONE: the verdict is in ex;
 * NGX_OK: a touch is due, and the "cas" command that makes it is in
 * ex->out.
 */

static ngx_int_t
ngx_http_auth_jwt_exchange_decide(ngx_http_auth_jwt_exchange_t *ex)
{
    u_char                       *out, *p;
    size_t                        size;
    ajwt_str_t                    record, fingerprint;
    ngx_http_auth_jwt_session_t  *s;
    ajwt_session_update_t         update;

    s = ex->session;

    if (ex->record.data == NULL) {
        ex->status = AJWT_LOGGED_OUT;
        ex->reason = "no session record";
        return NGX_DONE;
    }

    size = ajwt_session_update_size(ex->record.len);

    out = ngx_pnalloc(ex->request->pool, size);
    if (out == NULL) {
        return NGX_ERROR;
    }

    record.data = ex->record.data;
    record.len = ex->record.len;
    fingerprint.data = s->fingerprint.data;
    fingerprint.len = s->fingerprint.len;

    ex->status = ajwt_session_decide(record, fingerprint, ngx_time(),
                                     s->touch, out, size, &update,
                                     &ex->reason);

    if (ex->status != AJWT_OK || update.updated_len == 0) {
        return NGX_DONE;
    }

    /* the entry keeps its flags and its expiry ("expires_at", else none) */

    p = ngx_pnalloc(ex->request->pool,
                    sizeof("cas     \r\n\r\n") - 1 + s->key.len
                    + NGX_INT64_LEN * 4 + update.updated_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ex->out.start = p;
    ex->out.pos = p;

    p = ngx_sprintf(p, "cas %V %uL %L %uz %uL\r\n", &s->key, ex->flags,
                    (int64_t) update.expires_at, update.updated_len,
                    ex->cas);
    p = ngx_cpymem(p, out, update.updated_len);
    *p++ = CR; *p++ = LF;

    ex->out.last = p;
    ex->out.end = p;

    ex->in.pos = ex->in.start;
    ex->in.last = ex->in.start;

    ex->step = NGX_HTTP_AUTH_JWT_CAS;

    ngx_http_auth_jwt_status_store(ex->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_TOUCHES, 1);
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ex->request->connection->log, 0,
                   "auth_jwt: session touch due");

    return NGX_OK;
}


/*
 * A failed exchange fails closed. A cached connection may have been
 * closed by memcached meanwhile (a restart): the "gets" gets one more try
 * on a new connection before the server counts as failed.
 */

static void
ngx_http_auth_jwt_exchange_fail(ngx_http_auth_jwt_exchange_t *ex,
    const char *reason, ngx_uint_t error, ngx_uint_t retry)
{
    if (retry
        && ex->reused
        && ex->step == NGX_HTTP_AUTH_JWT_GETS
        && ex->in.last == ex->in.start)
    {
        ngx_http_auth_jwt_exchange_release(ex, 0);

        ex->out.pos = ex->out.start;

        /* the other cached connections are as stale: the retry is fresh */

        ngx_http_auth_jwt_close_idle(ex->server);

        if (ngx_http_auth_jwt_exchange_connect(ex) == NGX_OK) {
            ngx_http_auth_jwt_exchange_run(ex);
        }

        return;
    }

    ngx_log_error(NGX_LOG_ERR, ex->request->connection->log, 0,
                  "auth_jwt: memcached server %V: %s, failing for 1-2 s",
                  &ex->server->name, reason);

    ex->server->down = ngx_time() + 1;

    ngx_http_auth_jwt_status_store(ex->server->status, error, 1);
    ngx_http_auth_jwt_status_store(ex->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_TRIPS, 1);

    ngx_http_auth_jwt_exchange_finish(ex, AJWT_SESSION_STORE_UNAVAILABLE,
                                      reason, 0);
}


/*
 * A reply refused: the log names its first line, escaped and cut short
 * (a record's data, past the first line, is not shown).
 */

static void
ngx_http_auth_jwt_exchange_unexpected(ngx_http_auth_jwt_exchange_t *ex)
{
    u_char  *eol, *last;
    size_t   len, shown;
    u_char   buf[NGX_HTTP_AUTH_JWT_SHOWN * 3];

    eol = ngx_strlchr(ex->in.pos, ex->in.last, '\n');
    len = (eol ? eol + 1 : ex->in.last) - ex->in.pos;
    shown = ngx_min(len, NGX_HTTP_AUTH_JWT_SHOWN);

    last = (u_char *) ngx_escape_uri(buf, ex->in.pos, shown,
                                     NGX_ESCAPE_URI_COMPONENT);

    ngx_log_error(NGX_LOG_ERR, ex->peer.connection->log, 0,
                  "auth_jwt: memcached server %V: %s: \"%*s\"%s",
                  &ex->server->name, ex->reason, last - buf, buf,
                  shown < len ? "..." : "");

    ngx_http_auth_jwt_status_store(ex->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_UNREADABLE, 1);
}


static void
ngx_http_auth_jwt_exchange_finish(ngx_http_auth_jwt_exchange_t *ex,
    ajwt_status_t status, const char *reason, ngx_uint_t keep)
{
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_auth_jwt_session_t  *s;

    ngx_http_auth_jwt_exchange_release(ex, keep);

    s = ex->session;
    s->status = status;
    s->reason = reason;
    s->pending = 0;
    s->done = 1;

    if (ex->sync) {
        return;
    }

    r = ex->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    /* a terminated request has its own write handler: let it finish */

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


/* keeps the connection for the next check, or closes it */

static void
ngx_http_auth_jwt_exchange_release(ngx_http_auth_jwt_exchange_t *ex,
    ngx_uint_t keep)
{
    ngx_queue_t                 *q;
    ngx_connection_t            *c;
    ngx_http_auth_jwt_cached_t  *cached;
    ngx_http_auth_jwt_server_t  *server;

    c = ex->peer.connection;

    if (c == NULL) {
        return;
    }

    ex->peer.connection = NULL;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    server = ex->server;

    if (!keep
        || ngx_terminate
        || ngx_exiting
        || ngx_queue_empty(&server->free)
        || ngx_handle_read_event(c->read, 0) != NGX_OK)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "auth_jwt: memcached connection closed: %p", c);

        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_OPEN, -1);
        ngx_close_connection(c);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "auth_jwt: memcached connection kept: %p", c);

    ngx_http_auth_jwt_status_store(server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_IDLE, 1);

    q = ngx_queue_head(&server->free);
    ngx_queue_remove(q);
    ngx_queue_insert_head(&server->idle, q);

    cached = ngx_queue_data(q, ngx_http_auth_jwt_cached_t, queue);
    cached->connection = c;

    /* idle: closed by nginx's shutdown as its own idle connections are */

    c->idle = 1;
    c->data = cached;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->read->handler = ngx_http_auth_jwt_idle_handler;
    c->write->handler = ngx_http_auth_jwt_idle_write_handler;

    if (c->read->ready) {
        ngx_http_auth_jwt_idle_handler(c->read);
    }
}


/* an idle connection that becomes readable was closed, or is out of step */

static void
ngx_http_auth_jwt_idle_handler(ngx_event_t *ev)
{
    int                          n;
    char                         buf[1];
    ngx_connection_t            *c;
    ngx_http_auth_jwt_cached_t  *cached;

    c = ev->data;
    cached = c->data;

    if (!c->close) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            ev->ready = 0;

            if (ngx_handle_read_event(c->read, 0) == NGX_OK) {
                return;
            }
        }
    }

    ngx_queue_remove(&cached->queue);
    ngx_queue_insert_head(&cached->server->free, &cached->queue);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "auth_jwt: idle memcached connection closed: %p", c);

    ngx_http_auth_jwt_status_store(cached->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_IDLE, -1);
    ngx_http_auth_jwt_status_store(cached->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_OPEN, -1);
    ngx_close_connection(c);
}


static void
ngx_http_auth_jwt_close_idle(ngx_http_auth_jwt_server_t *server)
{
    ngx_connection_t            *c;
    ngx_http_auth_jwt_cached_t  *cached;

    while (!ngx_queue_empty(&server->idle)) {
        cached = ngx_queue_data(ngx_queue_head(&server->idle),
                                ngx_http_auth_jwt_cached_t, queue);
        c = cached->connection;
        c->close = 1;
        ngx_http_auth_jwt_idle_handler(c->read);
    }
}


static void
ngx_http_auth_jwt_idle_write_handler(ngx_event_t *ev)
{
    /* nothing is written to an idle connection */
}


ngx_http_auth_jwt_store_t *
ngx_http_auth_jwt_store_create(ngx_conf_t *cf)
{
    ngx_http_auth_jwt_store_t  *store;

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwt_store_t));
    if (store == NULL) {
        return NULL;
    }

    if (ngx_array_init(&store->servers, cf->pool, 2,
                       sizeof(ngx_http_auth_jwt_server_t))
        != NGX_OK)
    {
        return NULL;
    }

    store->timeout = NGX_HTTP_AUTH_JWT_STORE_TIMEOUT;
    store->keepalive = NGX_HTTP_AUTH_JWT_KEEPALIVE;

    return store;
}


/* resolved now, as nginx resolves upstream servers, so "nginx -t" checks */

char *
ngx_http_auth_jwt_store_add(ngx_conf_t *cf, ngx_http_auth_jwt_store_t *store,
    ngx_str_t *url)
{
    ngx_url_t                    u;
    ngx_http_auth_jwt_server_t  *server;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *url;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.no_port
        || u.host.len == 0 || u.naddrs == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid server \"%V\": %s",
                           url, u.err ? u.err : "expected host:port");
        return NGX_CONF_ERROR;
    }

    server = ngx_array_push(&store->servers);
    if (server == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(server, sizeof(ngx_http_auth_jwt_server_t));

    server->name = *url;
    server->addr = u.addrs[0];
    server->status = ngx_http_auth_jwt_status_server(cf, url);

    return NGX_CONF_OK;
}


/* the ring is built once, in the master; workers share it read-only */

char *
ngx_http_auth_jwt_store_init(ngx_conf_t *cf, ngx_http_auth_jwt_store_t *store)
{
    char                         err[256];
    ngx_uint_t                   i;
    ajwt_str_t                  *names;
    ngx_pool_cleanup_t          *cln;
    ngx_http_auth_jwt_server_t  *server;

    if (store->servers.nelts == 0) {
        return "needs at least one server";
    }

    names = ngx_palloc(cf->temp_pool,
                       store->servers.nelts * sizeof(ajwt_str_t));
    if (names == NULL) {
        return NGX_CONF_ERROR;
    }

    server = store->servers.elts;

    for (i = 0; i < store->servers.nelts; i++) {
        names[i].data = server[i].name.data;
        names[i].len = server[i].name.len;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    store->ring = ajwt_ring_create(names, store->servers.nelts, err,
                                   sizeof(err));
    if (store->ring == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_auth_jwt_ring_cleanup;
    cln->data = store->ring;

    return NGX_CONF_OK;
}


/* connections belong to one worker: the cache is made after fork */

ngx_int_t
ngx_http_auth_jwt_store_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_store_t *store)
{
    ngx_uint_t                   i, k;
    ngx_http_auth_jwt_cached_t  *cached;
    ngx_http_auth_jwt_server_t  *server;

    server = store->servers.elts;

    for (i = 0; i < store->servers.nelts; i++) {
        ngx_queue_init(&server[i].idle);
        ngx_queue_init(&server[i].free);
        server[i].down = 0;

        if (store->keepalive == 0) {
            continue;
        }

        cached = ngx_pcalloc(cycle->pool,
                             store->keepalive
                             * sizeof(ngx_http_auth_jwt_cached_t));
        if (cached == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k < store->keepalive; k++) {
            cached[k].server = &server[i];
            ngx_queue_insert_head(&server[i].free, &cached[k].queue);
        }
    }

    return NGX_OK;
}


void
ngx_http_auth_jwt_store_exit_process(ngx_http_auth_jwt_store_t *store)
{
    ngx_uint_t                   i;
    ngx_http_auth_jwt_server_t  *server;

    server = store->servers.elts;

    for (i = 0; i < store->servers.nelts; i++) {
        ngx_http_auth_jwt_close_idle(&server[i]);
    }
}


static void
ngx_http_auth_jwt_ring_cleanup(void *data)
{
    ajwt_ring_free(data);
}
