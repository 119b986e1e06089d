
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The session check and revocation lookups of a request. Its keys are
 * grouped by the server the core places them on (ajwt_ring_locate), one
 * lookup per server (which the client sends in one "gets", with those of
 * concurrent requests); each reply is handed to the core, which says what
 * a record, its absence or a touch's reply means, and how the verdicts of
 * a request's lookups combine. This file only groups the keys, writes the
 * touches and keeps the verdict that stands.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_session.h"
#include "ngx_http_auth_jwt_status.h"


/* a request's check: its lookups, and the verdict so far */
typedef struct {
    ngx_http_request_t            *request;
    ngx_http_auth_jwt_session_t   *session;
    ngx_http_auth_jwt_store_t     *store;
    ngx_uint_t                     pending;   /* commands not answered */
    ajwt_status_t                  status;
    const char                    *reason;
    unsigned                       sync:1;
} ngx_http_auth_jwt_check_t;


/* the commands to one server; keys[0] is the session key if "session" */
typedef struct {
    ngx_http_auth_jwt_mc_op_t      op;
    ngx_http_auth_jwt_check_t     *check;
    ajwt_str_t                     keys[NGX_HTTP_AUTH_JWT_MAX_KEYS];
    unsigned                       session:1;
} ngx_http_auth_jwt_lookup_t;


static ngx_int_t ngx_http_auth_jwt_lookup_for(
    ngx_http_auth_jwt_check_t *check, ngx_array_t *lookups, ngx_str_t *key,
    ngx_uint_t session);
static void ngx_http_auth_jwt_lookup_send(ngx_http_auth_jwt_lookup_t *lk);
static void ngx_http_auth_jwt_lookup_handler(ngx_http_auth_jwt_mc_op_t *op);
static void ngx_http_auth_jwt_touch_handler(ngx_http_auth_jwt_mc_op_t *op);
static ngx_int_t ngx_http_auth_jwt_session_decide(
    ngx_http_auth_jwt_lookup_t *lk);
static void ngx_http_auth_jwt_check_verdict(ngx_http_auth_jwt_check_t *check,
    ajwt_status_t status, const char *reason);
static void ngx_http_auth_jwt_check_done(ngx_http_auth_jwt_check_t *check);


ngx_int_t
ngx_http_auth_jwt_session_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_store_t *store, ngx_http_auth_jwt_session_t *s)
{
    ngx_uint_t                   i;
    ngx_array_t                  lookups;
    ngx_http_auth_jwt_lookup_t  *lk;
    ngx_http_auth_jwt_check_t   *check;

    check = ngx_pcalloc(r->pool, sizeof(ngx_http_auth_jwt_check_t));
    if (check == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&lookups, r->pool, 1,
                       sizeof(ngx_http_auth_jwt_lookup_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    check->request = r;
    check->session = s;
    check->store = store;
    check->status = AJWT_OK;
    check->sync = 1;

    s->done = 0;
    s->pending = 1;

    if (s->session
        && ngx_http_auth_jwt_lookup_for(check, &lookups, &s->key, 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < s->nrevocation; i++) {
        if (ngx_http_auth_jwt_lookup_for(check, &lookups, &s->revocation[i], 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < lookups.nelts; i++) {
        lk = ((ngx_http_auth_jwt_lookup_t **) lookups.elts)[i];

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth_jwt: %ui keys looked up on memcached server %V",
                       lk->op.nkeys, &lk->op.server->name);

        ngx_http_auth_jwt_lookup_send(lk);
    }

    if (check->pending == 0) {
        ngx_http_auth_jwt_check_done(check);
        return NGX_OK;
    }

    check->sync = 0;

    /* blocked: a client that goes away cannot free the request under us */

    r->main->blocked++;
    r->aio = 1;

    return NGX_AGAIN;
}


/*
 * The lookup of key's server (a new one, or one that has other keys of
 * the request); a key the core cannot place is a verdict at once.
 */

static ngx_int_t
ngx_http_auth_jwt_lookup_for(ngx_http_auth_jwt_check_t *check,
    ngx_array_t *lookups, ngx_str_t *key, ngx_uint_t session)
{
    ngx_uint_t                    i, k;
    const char                   *reason;
    ajwt_status_t                 status;
    ngx_http_auth_jwt_server_t   *server;
    ngx_http_auth_jwt_lookup_t   *lk, **slot;

    status = ngx_http_auth_jwt_store_locate(check->store, key, &server,
                                            &reason);

    if (status != AJWT_OK) {
        /* the verdict of the key itself (an empty or unusable key) */
        ngx_http_auth_jwt_check_verdict(check, status, reason);
        return NGX_OK;
    }

    for (i = 0; i < lookups->nelts; i++) {
        lk = ((ngx_http_auth_jwt_lookup_t **) lookups->elts)[i];

        if (lk->op.server != server) {
            continue;
        }

        /* a key asked twice is asked once */

        for (k = 0; k < lk->op.nkeys; k++) {
            if (lk->keys[k].len == key->len
                && ngx_memcmp(lk->keys[k].data, key->data, key->len) == 0)
            {
                return NGX_OK;
            }
        }

        lk->keys[k].data = key->data;
        lk->keys[k].len = key->len;
        lk->op.nkeys++;
        return NGX_OK;
    }

    lk = ngx_pcalloc(check->request->pool, sizeof(ngx_http_auth_jwt_lookup_t));
    if (lk == NULL) {
        return NGX_ERROR;
    }

    slot = ngx_array_push(lookups);
    if (slot == NULL) {
        return NGX_ERROR;
    }

    *slot = lk;

    lk->check = check;
    lk->session = session;
    lk->keys[0].data = key->data;
    lk->keys[0].len = key->len;

    lk->op.server = server;
    lk->op.type = NGX_HTTP_AUTH_JWT_MC_GETS;
    lk->op.keys = lk->keys;
    lk->op.nkeys = 1;
    lk->op.max_value = AJWT_MAX_SESSION_RECORD;
    lk->op.handler = ngx_http_auth_jwt_lookup_handler;
    lk->op.data = lk;

    return NGX_OK;
}


static void
ngx_http_auth_jwt_lookup_send(ngx_http_auth_jwt_lookup_t *lk)
{
    ngx_http_auth_jwt_check_t  *check;

    check = lk->check;

    if (ngx_http_auth_jwt_mc_submit(check->store, &lk->op) != NGX_OK) {
        ngx_http_auth_jwt_check_verdict(check, AJWT_SESSION_STORE_UNAVAILABLE,
                                        lk->op.reason);
        return;
    }

    check->pending++;
}


static void
ngx_http_auth_jwt_lookup_handler(ngx_http_auth_jwt_mc_op_t *op)
{
    ngx_uint_t                   k;
    const char                  *reason;
    ajwt_status_t                status;
    ngx_http_auth_jwt_lookup_t  *lk;
    ngx_http_auth_jwt_check_t   *check;

    lk = op->data;
    check = lk->check;

    if (op->rc != NGX_OK) {
        status = AJWT_SESSION_STORE_UNAVAILABLE;
        reason = op->reason;

        if (op->too_long) {
            status = ajwt_session_check_length(op->too_long, &reason);
        }

        ngx_http_auth_jwt_check_verdict(check, status, reason);
        goto done;
    }

    for (k = lk->session ? 1 : 0; k < op->nkeys; k++) {
        status = ajwt_revocation_decide(op->items[k].value.data != NULL,
                                        &reason);
        ngx_http_auth_jwt_check_verdict(check, status, reason);
    }

    /* a revoked token's session is not touched */

    if (lk->session && check->status == AJWT_OK) {
        if (ngx_http_auth_jwt_session_decide(lk) == NGX_AGAIN) {
            return;
        }
    }

done:

    if (--check->pending == 0) {
        ngx_http_auth_jwt_check_done(check);
    }
}


/*
 * The core's decision on the session record. NGX_AGAIN: a touch is due,
 * and its "cas" was sent with the same lookup.
 */

static ngx_int_t
ngx_http_auth_jwt_session_decide(ngx_http_auth_jwt_lookup_t *lk)
{
    u_char                       *out, *p;
    size_t                        size;
    const char                   *reason;
    ajwt_str_t                    record, fingerprint;
    ajwt_status_t                 status;
    ngx_http_request_t           *r;
    ngx_http_auth_jwt_check_t    *check;
    ngx_http_auth_jwt_session_t  *s;
    ajwt_mc_item_t               *item;
    ajwt_session_update_t         update;

    check = lk->check;
    r = check->request;
    s = check->session;
    item = &lk->op.items[0];

    record = item->value;
    fingerprint.data = s->fingerprint.data;
    fingerprint.len = s->fingerprint.len;

    size = ajwt_session_update_size(record.len);

    out = ngx_pnalloc(r->pool, size);
    if (out == NULL) {
        ngx_http_auth_jwt_check_verdict(check, AJWT_SESSION_STORE_UNAVAILABLE,
                                        "out of memory");
        return NGX_OK;
    }

    status = ajwt_session_decide(record, fingerprint, ngx_time(), s->touch,
                                 out, size, &update, &reason);

    ngx_http_auth_jwt_check_verdict(check, status, reason);

    if (status != AJWT_OK || update.updated_len == 0) {
        return NGX_OK;
    }

    /* the entry keeps its flags and its expiry ("expires_at", else none) */

    p = ngx_pnalloc(r->pool, sizeof("cas     \r\n\r\n") - 1 + s->key.len
                             + NGX_INT64_LEN * 4 + update.updated_len);
    if (p == NULL) {
        ngx_http_auth_jwt_check_verdict(check, AJWT_SESSION_STORE_UNAVAILABLE,
                                        "out of memory");
        return NGX_OK;
    }

    lk->op.command.data = p;

    p = ngx_sprintf(p, "cas %V %uL %L %uz %uL\r\n", &s->key, item->flags,
                    (int64_t) update.expires_at, update.updated_len,
                    item->cas);
    p = ngx_cpymem(p, out, update.updated_len);
    *p++ = CR; *p++ = LF;

    lk->op.command.len = p - lk->op.command.data;
    lk->op.type = NGX_HTTP_AUTH_JWT_MC_CAS;
    lk->op.handler = ngx_http_auth_jwt_touch_handler;
    lk->op.retried = 0;

    ngx_http_auth_jwt_status_store(lk->op.server->status,
                                   NGX_HTTP_AUTH_JWT_STATUS_TOUCHES, 1);
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: session touch due");

    if (ngx_http_auth_jwt_mc_submit(check->store, &lk->op) != NGX_OK) {
        ngx_http_auth_jwt_check_verdict(check, AJWT_SESSION_STORE_UNAVAILABLE,
                                        lk->op.reason);
        return NGX_OK;
    }

    return NGX_AGAIN;
}


/* the reply to a touch, as the core reads it */

static void
ngx_http_auth_jwt_touch_handler(ngx_http_auth_jwt_mc_op_t *op)
{
    ajwt_str_t                   line;
    const char                  *reason;
    ajwt_status_t                status;
    ajwt_cas_reply_t             kind;
    ngx_http_auth_jwt_lookup_t  *lk;
    ngx_http_auth_jwt_check_t   *check;

    lk = op->data;
    check = lk->check;

    if (op->rc != NGX_OK) {
        ngx_http_auth_jwt_check_verdict(check, AJWT_SESSION_STORE_UNAVAILABLE,
                                        op->reason);

    } else {
        line.data = op->line.data;
        line.len = op->line.len;

        status = ajwt_session_touched(line, &kind, &reason);

        if (kind == AJWT_CAS_EXISTS) {
            ngx_http_auth_jwt_status_store(op->server->status,
                                           NGX_HTTP_AUTH_JWT_STATUS_CONFLICTS,
                                           1);

        } else if (kind == AJWT_CAS_UNEXPECTED) {
            ngx_log_error(NGX_LOG_ERR, check->request->connection->log, 0,
                          "auth_jwt: memcached server %V: %s",
                          &op->server->name, reason);
            ngx_http_auth_jwt_status_store(op->server->status,
                                           NGX_HTTP_AUTH_JWT_STATUS_UNREADABLE,
                                           1);
        }

        ngx_http_auth_jwt_check_verdict(check, status, reason);
    }

    if (--check->pending == 0) {
        ngx_http_auth_jwt_check_done(check);
    }
}


/* one lookup's verdict, combined with the others' as the core says */

static void
ngx_http_auth_jwt_check_verdict(ngx_http_auth_jwt_check_t *check,
    ajwt_status_t status, const char *reason)
{
    if (ajwt_session_verdict_prevails(check->status, status)) {
        check->status = status;
        check->reason = reason;
    }
}


static void
ngx_http_auth_jwt_check_done(ngx_http_auth_jwt_check_t *check)
{
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_auth_jwt_session_t  *s;

    s = check->session;
    s->status = check->status;
    s->reason = check->reason;
    s->pending = 0;
    s->done = 1;

    if (check->sync) {
        return;
    }

    r = check->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    /* a terminated request has its own write handler: let it finish */

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}
