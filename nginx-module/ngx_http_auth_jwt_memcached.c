
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * A pipelined memcached client on nginx's event loop. Each server has up
 * to "connections" connections per worker; a command goes to the first
 * one with room in its pipeline ("pipeline" commands), else waits in the
 * server's backlog.
 *
 * A connection has one write in flight at a time, as Nagle's algorithm
 * has one small segment: commands queued while its replies are owed are
 * held, and leave together once the last of them is in; on a connection
 * owing nothing they leave at the end of the event-loop pass (a posted
 * write event). So batches grow with the load, and a lone request waits
 * for nothing. The lookups of a write are merged into one multi-key
 * "gets", which memcached answers in one reply (it sends one per command
 * otherwise): one send, and one wake-up of this worker, per batch.
 *
 * Replies are matched to commands in order. A connection that times out
 * or fails fails the commands on it; an unreadable reply fails its own
 * command (a merged one's lookups go again, each alone), and the ones
 * behind it are sent again on a new connection, so that no command ever
 * reads another's reply.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_memcached.h"
#include "ngx_http_auth_jwt_status.h"


/* the most of an unexpected reply that the error log shows */
#define NGX_HTTP_AUTH_JWT_SHOWN        64

#define NGX_HTTP_AUTH_JWT_BUFFER       4096


/* a connection and its pipeline */
typedef struct {
    ngx_queue_t                    queue;     /* in server->conns */
    ngx_http_auth_jwt_server_t    *server;
    ngx_peer_connection_t          peer;
    ngx_queue_t                    ops;       /* sent or to send, in order */
    ngx_uint_t                     nops;
    ngx_uint_t                     nflight;   /* of them, replies owed */
    ngx_buf_t                      out;       /* commands not yet written */
    ngx_buf_t                      in;        /* replies not yet matched */
    size_t                         need;      /* bytes the head reply needs */
    ajwt_str_t                     keys[NGX_HTTP_AUTH_JWT_GROUP_KEYS];
    ajwt_mc_item_t                 items[NGX_HTTP_AUTH_JWT_GROUP_KEYS];
                                              /* a merged reply's, framed */
    unsigned                       connecting:1;
    unsigned                       writing:1; /* a write not yet complete */
    unsigned                       reused:1;  /* was idle: may be stale */
    unsigned                       received:1;
} ngx_http_auth_jwt_mc_conn_t;


static ngx_http_auth_jwt_mc_conn_t *ngx_http_auth_jwt_mc_pick(
    ngx_http_auth_jwt_server_t *server);
static ngx_http_auth_jwt_mc_conn_t *ngx_http_auth_jwt_mc_open(
    ngx_http_auth_jwt_server_t *server, const char **reason);
static void ngx_http_auth_jwt_mc_enqueue(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op);
static ngx_int_t ngx_http_auth_jwt_mc_build(ngx_http_auth_jwt_mc_conn_t *mc);
static ngx_uint_t ngx_http_auth_jwt_mc_group_keys(
    ngx_http_auth_jwt_mc_conn_t *mc, ngx_http_auth_jwt_mc_op_t *first);
static ngx_uint_t ngx_http_auth_jwt_mc_key_index(ajwt_str_t *keys,
    ngx_uint_t n, ajwt_str_t *key);
static ngx_int_t ngx_http_auth_jwt_mc_reserve(ngx_buf_t *b, size_t size);
static void ngx_http_auth_jwt_mc_write_handler(ngx_event_t *ev);
static void ngx_http_auth_jwt_mc_read_handler(ngx_event_t *ev);
static void ngx_http_auth_jwt_mc_flush(ngx_http_auth_jwt_mc_conn_t *mc);
static ngx_int_t ngx_http_auth_jwt_mc_parse(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op);
static ajwt_mc_framing_t ngx_http_auth_jwt_mc_frame_merged(
    ngx_http_auth_jwt_mc_conn_t *mc, ngx_http_auth_jwt_mc_op_t *first,
    ajwt_str_t buf, uint64_t *length);
static void ngx_http_auth_jwt_mc_replied(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op);
static void ngx_http_auth_jwt_mc_unreadable(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op);
static void ngx_http_auth_jwt_mc_fail(ngx_http_auth_jwt_mc_conn_t *mc,
    const char *reason, ngx_uint_t error, ngx_uint_t retry);
static void ngx_http_auth_jwt_mc_io_error(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_local_error(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_resend(ngx_queue_t *ops, ngx_uint_t once);
static void ngx_http_auth_jwt_mc_fail_all(ngx_queue_t *ops,
    const char *reason);
static void ngx_http_auth_jwt_mc_backlog(ngx_http_auth_jwt_server_t *server);
static void ngx_http_auth_jwt_mc_caught_up(ngx_http_auth_jwt_mc_conn_t *mc);
static ngx_int_t ngx_http_auth_jwt_mc_quiet(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_idle(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_unasked(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_close(ngx_http_auth_jwt_mc_conn_t *mc);
static void ngx_http_auth_jwt_mc_close_idle(
    ngx_http_auth_jwt_server_t *server);
static void ngx_http_auth_jwt_ring_cleanup(void *data);


ajwt_status_t
ngx_http_auth_jwt_store_locate(ngx_http_auth_jwt_store_t *store,
    ngx_str_t *key, ngx_http_auth_jwt_server_t **server, const char **reason)
{
    size_t         n;
    ajwt_str_t     k;
    ajwt_status_t  status;

    k.data = key->data;
    k.len = key->len;

    status = ajwt_ring_locate(store->ring, k, &n, reason);

    if (status == AJWT_OK) {
        *server = (ngx_http_auth_jwt_server_t *) store->servers.elts + n;
    }

    return status;
}


ngx_int_t
ngx_http_auth_jwt_mc_submit(ngx_http_auth_jwt_store_t *store,
    ngx_http_auth_jwt_mc_op_t *op)
{
    ngx_http_auth_jwt_mc_conn_t  *mc;
    ngx_http_auth_jwt_server_t   *server;

    server = op->server;

    /* fail fast while a server that failed is left alone (1 to 2 s) */

    if (ngx_time() <= server->down) {
        op->reason = "memcached server failed within the last second";
        return NGX_DECLINED;
    }

    if (op->type == NGX_HTTP_AUTH_JWT_MC_GETS && !op->retried) {
        op->start = ngx_http_auth_jwt_status_lookup(server->status);
    }

    mc = ngx_http_auth_jwt_mc_pick(server);

    if (mc == NULL) {

        if (server->nconns >= store->connections) {
            ngx_queue_insert_tail(&server->backlog, &op->queue);
            return NGX_OK;
        }

        mc = ngx_http_auth_jwt_mc_open(server, &op->reason);
        if (mc == NULL) {
            return NGX_DECLINED;
        }
    }

    ngx_http_auth_jwt_mc_enqueue(mc, op);

    return NGX_OK;
}


/* the first connection with room: one pipeline fills before the next */

static ngx_http_auth_jwt_mc_conn_t *
ngx_http_auth_jwt_mc_pick(ngx_http_auth_jwt_server_t *server)
{
    ngx_queue_t                  *q;
    ngx_http_auth_jwt_mc_conn_t  *mc;

    for (q = ngx_queue_head(&server->conns);
         q != ngx_queue_sentinel(&server->conns);
         q = ngx_queue_next(q))
    {
        mc = ngx_queue_data(q, ngx_http_auth_jwt_mc_conn_t, queue);

        if (mc->nops < server->store->pipeline) {
            return mc;
        }
    }

    return NULL;
}


static ngx_http_auth_jwt_mc_conn_t *
ngx_http_auth_jwt_mc_open(ngx_http_auth_jwt_server_t *server,
    const char **reason)
{
    ngx_int_t                     rc;
    ngx_connection_t             *c;
    ngx_http_auth_jwt_mc_conn_t  *mc;

    mc = ngx_calloc(sizeof(ngx_http_auth_jwt_mc_conn_t), ngx_cycle->log);
    if (mc == NULL) {
        *reason = "out of memory";
        return NULL;
    }

    mc->server = server;
    ngx_queue_init(&mc->ops);

    mc->peer.sockaddr = server->addr.sockaddr;
    mc->peer.socklen = server->addr.socklen;
    mc->peer.name = &server->name;
    mc->peer.get = ngx_event_get_peer;
    mc->peer.log = ngx_cycle->log;
    mc->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&mc->peer);

    if (rc == NGX_ERROR) {
        /*
         * nginx's own shortage (no socket: EMFILE, ENFILE; no free
         * connection: worker_connections), already logged by nginx: the
         * server is not to blame, so it is not marked down
         */

        ngx_log_error(NGX_LOG_CRIT, ngx_cycle->log, 0,
                      "auth_jwt: cannot open a connection to memcached "
                      "server %V: local resources exhausted", &server->name);

        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 1);
        ngx_free(mc);
        *reason = "no local resources for a memcached connection";
        return NULL;
    }

    if (rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "auth_jwt: memcached server %V: cannot connect, "
                      "failing for 1-2 s", &server->name);

        server->down = ngx_time() + 1;

        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_REFUSED, 1);
        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_TRIPS, 1);
        ngx_free(mc);
        *reason = "cannot connect to memcached";
        return NULL;
    }

    c = mc->peer.connection;

    c->data = mc;
    c->read->handler = ngx_http_auth_jwt_mc_read_handler;
    c->write->handler = ngx_http_auth_jwt_mc_write_handler;

    (void) ngx_tcp_nodelay(c);

    ngx_queue_insert_tail(&server->conns, &mc->queue);
    server->nconns++;

    ngx_http_auth_jwt_status_store(server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_OPEN, 1);
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "auth_jwt: memcached connection opened: %p%s", c,
                   rc == NGX_AGAIN ? ", connecting" : "");

    if (rc == NGX_AGAIN) {
        mc->connecting = 1;
        ngx_add_timer(c->write, server->store->timeout);
    }

    return mc;
}


/* queues op for the connection's next write */

static void
ngx_http_auth_jwt_mc_enqueue(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op)
{
    ngx_connection_t  *c;

    c = mc->peer.connection;

    if (mc->nops == 0 && c->idle) {
        c->idle = 0;
        mc->server->nidle--;
        ngx_http_auth_jwt_status_store(mc->server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_IDLE, -1);
    }

    ngx_queue_insert_tail(&mc->ops, &op->queue);
    mc->nops++;

    /* with replies owed, the command is held until they are in */

    if (!mc->connecting && mc->nflight == 0 && !c->write->posted) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


/* room for size more bytes after b->last, keeping b->pos..b->last */

static ngx_int_t
ngx_http_auth_jwt_mc_reserve(ngx_buf_t *b, size_t size)
{
    u_char  *p;
    size_t   used, capacity;

    if ((size_t) (b->end - b->last) >= size) {
        return NGX_OK;
    }

    used = b->last - b->pos;

    if (b->start && (size_t) (b->end - b->start) >= used + size) {
        b->last = ngx_movemem(b->start, b->pos, used);
        b->pos = b->start;
        return NGX_OK;
    }

    capacity = ngx_max(NGX_HTTP_AUTH_JWT_BUFFER, 2 * (used + size));

    p = ngx_alloc(capacity, ngx_cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (used) {
        ngx_memcpy(p, b->pos, used);
    }

    if (b->start) {
        ngx_free(b->start);
    }

    b->start = p;
    b->pos = p;
    b->last = p + used;
    b->end = p + capacity;

    return NGX_OK;
}


/*
 * The write for every command queued (none is in flight): consecutive
 * lookups are merged into one "gets" of up to NGX_HTTP_AUTH_JWT_GROUP_KEYS
 * keys and NGX_HTTP_AUTH_JWT_GROUP_LINE bytes, which memcached answers
 * with one reply where it would send one per command. The first lookup of
 * a "gets" counts in "merged" the lookups it carries; the others' is 0. A
 * lookup that was in an unreadable reply goes alone.
 */

static ngx_int_t
ngx_http_auth_jwt_mc_build(ngx_http_auth_jwt_mc_conn_t *mc)
{
    u_char                     *p;
    size_t                      len, line, more;
    ngx_uint_t                  i, k, nkeys;
    ngx_queue_t                *q;
    ngx_http_auth_jwt_mc_op_t  *op, *first;

    len = 0;
    line = 0;
    nkeys = 0;
    first = NULL;

    for (q = ngx_queue_head(&mc->ops);
         q != ngx_queue_sentinel(&mc->ops);
         q = ngx_queue_next(q))
    {
        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);
        op->merged = 0;

        if (op->type == NGX_HTTP_AUTH_JWT_MC_CAS) {
            op->merged = 1;
            len += op->command.len;
            first = NULL;
            continue;
        }

        more = 0;

        for (k = 0; k < op->nkeys; k++) {
            more += 1 + op->keys[k].len;
        }

        if (first == NULL || op->solo || first->solo
            || nkeys + op->nkeys > NGX_HTTP_AUTH_JWT_GROUP_KEYS
            || line + more > NGX_HTTP_AUTH_JWT_GROUP_LINE)
        {
            first = op;
            line = sizeof("gets\r\n") - 1;
            nkeys = 0;
            len += line;
        }

        line += more;
        len += more;
        nkeys += op->nkeys;
        first->merged++;
    }

    if (ngx_http_auth_jwt_mc_reserve(&mc->out, len) != NGX_OK) {
        return NGX_ERROR;
    }

    p = mc->out.last;

    for (q = ngx_queue_head(&mc->ops);
         q != ngx_queue_sentinel(&mc->ops);
         q = ngx_queue_next(q))
    {
        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

        if (op->type == NGX_HTTP_AUTH_JWT_MC_CAS) {
            p = ngx_cpymem(p, op->command.data, op->command.len);
            continue;
        }

        if (op->merged == 0) {
            continue;
        }

        nkeys = ngx_http_auth_jwt_mc_group_keys(mc, op);

        p = ngx_cpymem(p, "gets", 4);

        for (i = 0; i < nkeys; i++) {
            *p++ = ' ';
            p = ngx_cpymem(p, mc->keys[i].data, mc->keys[i].len);
        }

        *p++ = CR; *p++ = LF;
    }

    mc->out.last = p;
    mc->nflight = mc->nops;

    return NGX_OK;
}


/*
 * The keys of the "gets" that first heads, into mc->keys: each once, in
 * the order first asked. A key two lookups share is asked once, so that
 * both read the one item whether or not the server repeats it.
 */

static ngx_uint_t
ngx_http_auth_jwt_mc_group_keys(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *first)
{
    ngx_uint_t                  i, k, n, nkeys;
    ngx_queue_t                *q;
    ngx_http_auth_jwt_mc_op_t  *op;

    if (first->merged == 1) {
        ngx_memcpy(mc->keys, first->keys, first->nkeys * sizeof(ajwt_str_t));
        return first->nkeys;
    }

    nkeys = 0;

    for (n = 0, q = &first->queue; n < first->merged;
         n++, q = ngx_queue_next(q))
    {
        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

        for (k = 0; k < op->nkeys; k++) {
            i = ngx_http_auth_jwt_mc_key_index(mc->keys, nkeys, &op->keys[k]);

            if (i == nkeys) {
                mc->keys[nkeys++] = op->keys[k];
            }
        }
    }

    return nkeys;
}


/* the index of key in keys[0..n - 1], or n */

static ngx_uint_t
ngx_http_auth_jwt_mc_key_index(ajwt_str_t *keys, ngx_uint_t n,
    ajwt_str_t *key)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (keys[i].len == key->len
            && ngx_memcmp(keys[i].data, key->data, key->len) == 0)
        {
            return i;
        }
    }

    return n;
}


static void
ngx_http_auth_jwt_mc_write_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c;
    ngx_http_auth_jwt_mc_conn_t  *mc;

    c = ev->data;
    mc = c->data;

    if (ev->timedout) {
        ngx_http_auth_jwt_mc_fail(mc, "memcached timed out",
                                  NGX_HTTP_AUTH_JWT_STATUS_TIMEOUT, 0);
        return;
    }

    if (mc->connecting) {
        mc->connecting = 0;

        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }
    }

    /* writable, but the commands queued are held until the replies are in */

    if (mc->nflight && !mc->writing) {
        return;
    }

    ngx_http_auth_jwt_mc_flush(mc);
}


static void
ngx_http_auth_jwt_mc_flush(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = mc->peer.connection;

    if (!mc->writing && ngx_http_auth_jwt_mc_build(mc) != NGX_OK) {
        ngx_http_auth_jwt_mc_fail(mc, "out of memory",
                                  NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 0);
        return;
    }

    while (mc->out.pos < mc->out.last) {
        n = c->send(c, mc->out.pos, mc->out.last - mc->out.pos);

        if (n == NGX_AGAIN) {
            mc->writing = 1;

            if (!c->write->timer_set) {
                ngx_add_timer(c->write, mc->server->store->timeout);
            }

            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_auth_jwt_mc_local_error(mc);
            }

            return;
        }

        if (n <= 0) {
            ngx_http_auth_jwt_mc_io_error(mc);
            return;
        }

        mc->out.pos += n;
    }

    mc->out.pos = mc->out.start;
    mc->out.last = mc->out.start;
    mc->writing = 0;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "auth_jwt: memcached %V: %ui commands in flight",
                   &mc->server->name, mc->nops);

    /* the replies are a round trip away: wait for them, do not read now */

    if (mc->nops && !c->read->timer_set) {
        ngx_add_timer(c->read, mc->server->store->timeout);
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_auth_jwt_mc_local_error(mc);
    }
}


/* reads replies and hands each to its command, in order */

static void
ngx_http_auth_jwt_mc_read_handler(ngx_event_t *ev)
{
    ssize_t                       n;
    ngx_int_t                     rc;
    ngx_uint_t                    merged;
    ngx_connection_t             *c;
    ngx_http_auth_jwt_mc_op_t    *op;
    ngx_http_auth_jwt_mc_conn_t  *mc;

    c = ev->data;
    mc = c->data;

    if (ev->timedout) {
        ngx_http_auth_jwt_mc_fail(mc, "memcached timed out",
                                  NGX_HTTP_AUTH_JWT_STATUS_TIMEOUT, 0);
        return;
    }

    /* a connect that fails is the write handler's, which sees it too */

    if (mc->connecting) {
        return;
    }

    for ( ;; ) {

        if (mc->nflight == 0) {
            ngx_http_auth_jwt_mc_caught_up(mc);
            return;
        }

        op = ngx_queue_data(ngx_queue_head(&mc->ops),
                            ngx_http_auth_jwt_mc_op_t, queue);

        rc = ngx_http_auth_jwt_mc_parse(mc, op);

        if (rc == NGX_OK) {

            /* a merged reply answers the ops after its first, too */

            for (merged = op->merged; merged; merged--) {
                op = ngx_queue_data(ngx_queue_head(&mc->ops),
                                    ngx_http_auth_jwt_mc_op_t, queue);
                ngx_http_auth_jwt_mc_replied(mc, op);
            }

            continue;
        }

        if (rc == NGX_DECLINED) {
            ngx_http_auth_jwt_mc_unreadable(mc, op);
            return;
        }

        /* the head reply is not whole: read more */

        if (ngx_http_auth_jwt_mc_reserve(&mc->in, mc->need) != NGX_OK) {
            ngx_http_auth_jwt_mc_fail(mc, "out of memory",
                                      NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 0);
            return;
        }

        n = c->recv(c, mc->in.last, mc->in.end - mc->in.last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_auth_jwt_mc_local_error(mc);
            }

            return;
        }

        if (n <= 0) {
            ngx_http_auth_jwt_mc_io_error(mc);
            return;
        }

        mc->in.last += n;
        mc->received = 1;
    }
}


/*
 * NGX_OK: op's whole reply was at mc->in.pos, and is consumed; NGX_AGAIN:
 * mc->need more bytes are wanted; NGX_DECLINED: the reply is unreadable.
 */

static ngx_int_t
ngx_http_auth_jwt_mc_parse(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op)
{
    uint64_t           length;
    ajwt_str_t         buf;
    ajwt_mc_framing_t  rc;

    buf.data = mc->in.pos;
    buf.len = mc->in.last - mc->in.pos;

    if (buf.len == 0) {
        mc->need = NGX_HTTP_AUTH_JWT_BUFFER / 4;
        return NGX_AGAIN;
    }

    if (op->type == NGX_HTTP_AUTH_JWT_MC_CAS) {
        rc = ajwt_mc_frame_line(buf, &length);

    } else if (op->merged == 1) {
        rc = ajwt_mc_frame_gets(buf, op->keys, op->nkeys, op->max_value,
                                op->items, &length);

    } else {
        rc = ngx_http_auth_jwt_mc_frame_merged(mc, op, buf, &length);
    }

    switch (rc) {

    case AJWT_MC_DONE:
        if (op->type == NGX_HTTP_AUTH_JWT_MC_CAS) {
            op->line.data = mc->in.pos;
            op->line.len = length;
        }

        mc->in.pos += length;
        return NGX_OK;

    case AJWT_MC_AGAIN:
        /* at least a fair read's room */
        mc->need = ngx_max((size_t) length - buf.len,
                           NGX_HTTP_AUTH_JWT_BUFFER / 4);
        return NGX_AGAIN;

    case AJWT_MC_TOO_LONG:
        op->too_long = length;
        return NGX_DECLINED;

    default:
        return NGX_DECLINED;
    }
}


/* the reply to a merged "gets": framed whole, then each op's items its own */

static ajwt_mc_framing_t
ngx_http_auth_jwt_mc_frame_merged(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *first, ajwt_str_t buf, uint64_t *length)
{
    ngx_uint_t                  k, n, nkeys;
    ngx_queue_t                *q;
    ajwt_mc_framing_t           rc;
    ngx_http_auth_jwt_mc_op_t  *op;

    nkeys = ngx_http_auth_jwt_mc_group_keys(mc, first);

    rc = ajwt_mc_frame_gets(buf, mc->keys, nkeys, first->max_value,
                            mc->items, length);

    if (rc != AJWT_MC_DONE) {
        return rc;
    }

    for (n = 0, q = &first->queue; n < first->merged;
         n++, q = ngx_queue_next(q))
    {
        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

        for (k = 0; k < op->nkeys; k++) {
            op->items[k] = mc->items[ngx_http_auth_jwt_mc_key_index(
                                         mc->keys, nkeys, &op->keys[k])];
        }
    }

    return rc;
}


/* a reply matched: its command's handler, then room for the backlog */

static void
ngx_http_auth_jwt_mc_replied(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op)
{
    ngx_connection_t            *c;
    ngx_http_auth_jwt_server_t  *server;

    c = mc->peer.connection;
    server = mc->server;

    ngx_queue_remove(&op->queue);
    mc->nops--;
    mc->nflight--;

    if (mc->in.pos == mc->in.last) {
        mc->in.pos = mc->in.start;
        mc->in.last = mc->in.start;
    }

    /* the timeout runs from the last reply: a server that stops answering */

    if (mc->nflight) {
        ngx_add_timer(c->read, server->store->timeout);

    } else if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_http_auth_jwt_status_replied(server->status, &op->start);

    op->rc = NGX_OK;
    op->handler(op);

    ngx_http_auth_jwt_mc_backlog(server);
}


/*
 * A reply that cannot be read fails its command; the connection is out of
 * step, so it is closed, and the commands behind go again on another. A
 * merged reply's fault is no single lookup's: they all go again, each
 * alone, and the one at fault fails then.
 */

static void
ngx_http_auth_jwt_mc_unreadable(ngx_http_auth_jwt_mc_conn_t *mc,
    ngx_http_auth_jwt_mc_op_t *op)
{
    u_char                     *eol, *last;
    size_t                      len, shown;
    ngx_uint_t                  i;
    ngx_queue_t                 rest, *q;
    ngx_http_auth_jwt_mc_op_t  *member;
    u_char                      buf[NGX_HTTP_AUTH_JWT_SHOWN * 3];

    op->reason = op->too_long ? "memcached item too long"
                              : "unexpected reply from memcached";

    if (!op->too_long) {

        /* the log names its first line, escaped and cut short */

        eol = ngx_strlchr(mc->in.pos, mc->in.last, '\n');
        len = (eol ? eol + 1 : mc->in.last) - mc->in.pos;
        shown = ngx_min(len, NGX_HTTP_AUTH_JWT_SHOWN);

        last = (u_char *) ngx_escape_uri(buf, mc->in.pos, shown,
                                         NGX_ESCAPE_URI_COMPONENT);

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "auth_jwt: memcached server %V: %s: \"%*s\"%s",
                      &mc->server->name, op->reason, last - buf, buf,
                      shown < len ? "..." : "");

        ngx_http_auth_jwt_status_store(mc->server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_UNREADABLE,
                                       1);
    }

    if (op->type == NGX_HTTP_AUTH_JWT_MC_GETS && op->merged > 1) {

        for (i = 0, q = &op->queue; i < op->merged;
             i++, q = ngx_queue_next(q))
        {
            member = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);
            member->solo = 1;
            member->retried = 0;
            member->too_long = 0;
        }

        op = NULL;

    } else {
        ngx_queue_remove(&op->queue);
        mc->nops--;
        op->rc = NGX_ERROR;
    }

    ngx_queue_init(&rest);

    if (!ngx_queue_empty(&mc->ops)) {
        ngx_queue_add(&rest, &mc->ops);
        ngx_queue_init(&mc->ops);
    }

    mc->nops = 0;

    ngx_http_auth_jwt_mc_close(mc);

    if (op) {
        op->handler(op);
    }

    ngx_http_auth_jwt_mc_resend(&rest, 0);
}


/*
 * A connection that failed fails the commands on it, and its server for
 * a second. A kept-alive connection may have been closed by memcached
 * meanwhile (a restart): before anything was read from it, its commands
 * get one more try on a new connection.
 */

static void
ngx_http_auth_jwt_mc_fail(ngx_http_auth_jwt_mc_conn_t *mc,
    const char *reason, ngx_uint_t error, ngx_uint_t retry)
{
    ngx_queue_t                 ops, *q;
    ngx_http_auth_jwt_mc_op_t  *op;
    ngx_http_auth_jwt_server_t  *server;

    server = mc->server;

    ngx_queue_init(&ops);

    if (!ngx_queue_empty(&mc->ops)) {
        ngx_queue_add(&ops, &mc->ops);
        ngx_queue_init(&mc->ops);
    }

    if (retry && mc->reused && !mc->received) {

        for (q = ngx_queue_head(&ops);
             q != ngx_queue_sentinel(&ops);
             q = ngx_queue_next(q))
        {
            op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

            if (op->retried) {
                break;
            }
        }

        if (q == ngx_queue_sentinel(&ops)) {
            mc->nops = 0;
            ngx_http_auth_jwt_mc_close(mc);

            /* the other kept connections are as stale: the retry is fresh */

            ngx_http_auth_jwt_mc_close_idle(server);
            ngx_http_auth_jwt_mc_resend(&ops, 0);
            return;
        }
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "auth_jwt: memcached server %V: %s, failing for 1-2 s",
                  &server->name, reason);

    server->down = ngx_time() + 1;

    ngx_http_auth_jwt_status_store(server->status, error, 1);
    ngx_http_auth_jwt_status_store(server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_TRIPS, 1);

    mc->nops = 0;
    ngx_http_auth_jwt_mc_close(mc);

    /* what waits for room on a failed server fails with it */

    if (!ngx_queue_empty(&server->backlog)) {
        ngx_queue_add(&ops, &server->backlog);
        ngx_queue_init(&server->backlog);
    }

    ngx_http_auth_jwt_mc_fail_all(&ops, reason);
}


/* a send or recv that failed: memcached's side (refused, reset, closed) */

static void
ngx_http_auth_jwt_mc_io_error(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_http_auth_jwt_mc_fail(mc, "memcached connection failed",
                              ngx_http_auth_jwt_status_io_error(
                                  ngx_socket_errno), 1);
}


/* the event loop refused the connection's events: this side's failure */

static void
ngx_http_auth_jwt_mc_local_error(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_http_auth_jwt_mc_fail(mc, "memcached connection failed",
                              NGX_HTTP_AUTH_JWT_STATUS_LOCAL, 0);
}


/*
 * Sends ops again, on another connection. With "once", an op already sent
 * again fails instead: no reply to blame, so nothing else bounds the tries.
 */

static void
ngx_http_auth_jwt_mc_resend(ngx_queue_t *ops, ngx_uint_t once)
{
    ngx_queue_t                *q;
    ngx_http_auth_jwt_mc_op_t  *op;

    while (!ngx_queue_empty(ops)) {
        q = ngx_queue_head(ops);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

        if (once && op->retried) {
            op->rc = NGX_ERROR;
            op->reason = "unexpected reply from memcached";
            op->handler(op);
            continue;
        }

        op->retried = 1;

        if (ngx_http_auth_jwt_mc_submit(op->server->store, op) != NGX_OK) {
            op->rc = NGX_ERROR;
            op->handler(op);
        }
    }
}


static void
ngx_http_auth_jwt_mc_fail_all(ngx_queue_t *ops, const char *reason)
{
    ngx_queue_t                *q;
    ngx_http_auth_jwt_mc_op_t  *op;

    while (!ngx_queue_empty(ops)) {
        q = ngx_queue_head(ops);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);
        op->rc = NGX_ERROR;
        op->reason = reason;
        op->handler(op);
    }
}


/* commands waiting for room go to a pipeline with room, or a new one */

static void
ngx_http_auth_jwt_mc_backlog(ngx_http_auth_jwt_server_t *server)
{
    ngx_queue_t                *q;
    ngx_http_auth_jwt_mc_op_t  *op;

    while (!ngx_queue_empty(&server->backlog)) {
        q = ngx_queue_head(&server->backlog);
        op = ngx_queue_data(q, ngx_http_auth_jwt_mc_op_t, queue);

        if (ngx_http_auth_jwt_mc_pick(server) == NULL
            && server->nconns >= server->store->connections)
        {
            return;
        }

        ngx_queue_remove(q);

        if (ngx_http_auth_jwt_mc_submit(server->store, op) != NGX_OK) {
            op->rc = NGX_ERROR;
            op->handler(op);
        }
    }
}


/*
 * Every reply owed is in: the held commands leave now, or the connection
 * is idle. Bytes beyond those replies were asked for by nothing and put the
 * connection out of step: it is closed, and the held commands, never sent,
 * go on another connection once. A connection memcached closed fails as a
 * failed read would.
 */

static void
ngx_http_auth_jwt_mc_caught_up(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_int_t          rc;
    ngx_queue_t        held;
    ngx_connection_t  *c;

    c = mc->peer.connection;

    rc = ngx_http_auth_jwt_mc_quiet(mc);

    if (rc == NGX_OK) {

        if (mc->nops == 0) {
            if (!c->idle) {
                ngx_http_auth_jwt_mc_idle(mc);
            }

        } else if (!c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return;
    }

    if (mc->nops == 0) {
        ngx_http_auth_jwt_mc_close(mc);
        return;
    }

    if (rc == NGX_ERROR) {
        ngx_http_auth_jwt_mc_io_error(mc);
        return;
    }

    ngx_queue_init(&held);
    ngx_queue_add(&held, &mc->ops);
    ngx_queue_init(&mc->ops);
    mc->nops = 0;

    ngx_http_auth_jwt_mc_close(mc);
    ngx_http_auth_jwt_mc_resend(&held, 1);
}


/*
 * NGX_OK: nothing has arrived beyond the replies owed. NGX_DECLINED: stray
 * bytes (logged). NGX_ERROR: memcached closed the connection, it failed, or
 * nginx is closing its idle connections.
 */

static ngx_int_t
ngx_http_auth_jwt_mc_quiet(ngx_http_auth_jwt_mc_conn_t *mc)
{
    int                n;
    char               buf[1];
    ngx_connection_t  *c;

    c = mc->peer.connection;

    if (mc->in.pos != mc->in.last) {
        ngx_http_auth_jwt_mc_unasked(mc);
        return NGX_DECLINED;
    }

    if (c->close) {
        return NGX_ERROR;
    }

    if (!c->read->ready) {
        return NGX_OK;
    }

    ngx_set_socket_errno(0);

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        c->read->ready = 0;

        return ngx_handle_read_event(c->read, 0);
    }

    if (n > 0) {
        ngx_http_auth_jwt_mc_unasked(mc);
        return NGX_DECLINED;
    }

    return NGX_ERROR;
}


/* a connection with nothing to do: kept for the next command, or closed */

static void
ngx_http_auth_jwt_mc_idle(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_connection_t            *c;
    ngx_http_auth_jwt_server_t  *server;

    c = mc->peer.connection;
    server = mc->server;

    if (ngx_terminate || ngx_exiting
        || server->nidle >= server->store->keepalive)
    {
        ngx_http_auth_jwt_mc_close(mc);
        return;
    }

    server->nidle++;
    ngx_http_auth_jwt_status_store(server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_IDLE, 1);

    /* idle: closed by nginx's shutdown as its own idle connections are */

    c->idle = 1;
    mc->reused = 1;
    mc->received = 0;
}


/* bytes arrived that no command waits for: the connection is out of step */

static void
ngx_http_auth_jwt_mc_unasked(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "auth_jwt: memcached server %V: a reply nothing asked for",
                  &mc->server->name);
    ngx_http_auth_jwt_status_store(mc->server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_UNREADABLE, 1);
}


static void
ngx_http_auth_jwt_mc_close(ngx_http_auth_jwt_mc_conn_t *mc)
{
    ngx_connection_t            *c;
    ngx_http_auth_jwt_server_t  *server;

    c = mc->peer.connection;
    server = mc->server;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "auth_jwt: memcached connection closed: %p", c);

    if (c->idle) {
        server->nidle--;
        ngx_http_auth_jwt_status_store(server->status,
                                       NGX_HTTP_AUTH_JWT_STATUS_IDLE, -1);
    }

    ngx_queue_remove(&mc->queue);
    server->nconns--;

    ngx_http_auth_jwt_status_store(server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_OPEN, -1);

    ngx_close_connection(c);

    if (mc->out.start) {
        ngx_free(mc->out.start);
    }

    if (mc->in.start) {
        ngx_free(mc->in.start);
    }

    ngx_free(mc);
}


static void
ngx_http_auth_jwt_mc_close_idle(ngx_http_auth_jwt_server_t *server)
{
    ngx_queue_t                  *q, *next;
    ngx_http_auth_jwt_mc_conn_t  *mc;

    for (q = ngx_queue_head(&server->conns);
         q != ngx_queue_sentinel(&server->conns);
         q = next)
    {
        next = ngx_queue_next(q);
        mc = ngx_queue_data(q, ngx_http_auth_jwt_mc_conn_t, queue);

        if (mc->nops == 0) {
            ngx_http_auth_jwt_mc_close(mc);
        }
    }
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
    store->connections = NGX_HTTP_AUTH_JWT_CONNECTIONS;
    store->pipeline = NGX_HTTP_AUTH_JWT_PIPELINE;

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
        server[i].store = store;
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


/* connections belong to one worker: made after fork */

ngx_int_t
ngx_http_auth_jwt_store_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_store_t *store)
{
    ngx_uint_t                   i;
    ngx_http_auth_jwt_server_t  *server;

    server = store->servers.elts;

    for (i = 0; i < store->servers.nelts; i++) {
        ngx_queue_init(&server[i].conns);
        ngx_queue_init(&server[i].backlog);
        server[i].nconns = 0;
        server[i].nidle = 0;
        server[i].down = 0;
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
        ngx_http_auth_jwt_mc_close_idle(&server[i]);
    }
}


static void
ngx_http_auth_jwt_ring_cleanup(void *data)
{
    ajwt_ring_free(data);
}
