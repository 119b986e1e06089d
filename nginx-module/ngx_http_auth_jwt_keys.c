
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Keys fetched from the issuer. Each key source (an auth_jwt_key_request
 * uri, after its variables, and its format) is a node in a shared memory
 * zone: the raw JWKS (or keyval object) it last returned, a generation
 * that changes when the body does, and the fetch schedule. One worker
 * fetches for all (it claims the node); the others keep serving the keys
 * they hold, and parse the body again only when the generation changed.
 * Only requests that have no key at all, or whose token names a kid the
 * keys lack, wait for a fetch. Times in the zone are ngx_current_msec: a
 * monotonic clock all workers share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_keys.h"
#include "ngx_http_auth_jwt_status.h"


#define NGX_HTTP_AUTH_JWT_KEYS_ZONE      (4 * 1024 * 1024)
#define NGX_HTTP_AUTH_JWT_MAX_JWKS       (256 * 1024)

/* the refresh period without auth_jwt_key_cache, and max-age's bounds */
#define NGX_HTTP_AUTH_JWT_KEY_PERIOD     600
#define NGX_HTTP_AUTH_JWT_MIN_PERIOD     5
#define NGX_HTTP_AUTH_JWT_MAX_PERIOD     86400

/* a fetch for an unknown kid, at most once per this many seconds */
#define NGX_HTTP_AUTH_JWT_REFETCH        10

/* a fetch holds the others back at most this long (a worker may die) */
#define NGX_HTTP_AUTH_JWT_FETCH_HOLD     90

/* after failures, the next try waits 1, 2, 4 ... up to this many seconds */
#define NGX_HTTP_AUTH_JWT_MAX_BACKOFF    60

/* how often a request waiting for another's fetch looks again, ms */
#define NGX_HTTP_AUTH_JWT_POLL           50

/* whether the monotonic time now has reached t */
#define ngx_http_auth_jwt_keys_past(now, t)                                 \
    ((ngx_msec_int_t) ((now) - (t)) >= 0)

/* sources a worker keeps parsed */
#define NGX_HTTP_AUTH_JWT_LOCAL_SOURCES  64


/* a key source, in the zone */
typedef struct {
    ngx_str_node_t                   sn;         /* the uri, by its crc32 */
    ngx_queue_t                      queue;
    uint64_t                         serial;     /* this node, never reused */
    uint64_t                         generation; /* of body; 0: no keys */
    u_char                          *body;
    size_t                           len;
    ngx_msec_t                       refresh;    /* the next fetch is due */
    ngx_msec_t                       fetching;   /* a fetch holds until */
    ngx_msec_t                       retry;      /* after failures */
    ngx_msec_t                       refetched;  /* for an unknown kid */
    ngx_uint_t                       failures;
    u_char                           uri[1];
} ngx_http_auth_jwt_keys_node_t;


struct ngx_http_auth_jwt_keys_s {
    ngx_http_auth_jwt_zone_t         zone;

    ngx_http_auth_jwt_sets_t         sets;       /* the worker's */
};


/* one subrequest's fetch */
typedef struct {
    ngx_http_auth_jwt_keys_t        *keys;
    ngx_http_auth_jwt_keys_wait_t   *wait;       /* own keys: the request's */
    ngx_str_t                        uri;        /* the source's name */
    ngx_uint_t                       format;
    uint64_t                         serial;     /* shared: the node's */
    time_t                           period;
    u_char                          *body;
    size_t                           len;
    size_t                           size;
    unsigned                         too_large:1;
    unsigned                         done:1;
} ngx_http_auth_jwt_fetch_t;


/* what a source has for a request */
typedef enum {
    NGX_HTTP_AUTH_JWT_SOURCE_READY = 0,      /* keys, or none to be had */
    NGX_HTTP_AUTH_JWT_SOURCE_FETCHING,       /* the request's own fetch */
    NGX_HTTP_AUTH_JWT_SOURCE_BUSY            /* another's first fetch */
} ngx_http_auth_jwt_source_e;


static ngx_int_t ngx_http_auth_jwt_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_auth_jwt_keys_uri(ngx_http_request_t *r,
    ngx_http_auth_jwt_key_request_t *kr, ngx_str_t *uri, ngx_str_t *name);
static ngx_int_t ngx_http_auth_jwt_keys_source(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ngx_http_auth_jwt_key_request_t *kr,
    ajwt_keyset_t **set);
static ngx_int_t ngx_http_auth_jwt_keys_own(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ajwt_keyset_t **ks);
static ngx_int_t ngx_http_auth_jwt_keys_wait(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_wait_t *w, ngx_uint_t started);
static void ngx_http_auth_jwt_keys_poll(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwt_keys_fetch(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_keys_wait_t *w,
    ngx_http_auth_jwt_key_request_t *kr, uint64_t serial, time_t period,
    ngx_uint_t background);
static ngx_int_t ngx_http_auth_jwt_keys_fetched(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static const char *ngx_http_auth_jwt_keys_check(ngx_http_request_t *sr,
    ngx_http_auth_jwt_fetch_t *fetch, ngx_int_t rc, ajwt_keyset_t **set,
    char *err, size_t errlen);
static time_t ngx_http_auth_jwt_keys_max_age(ngx_http_request_t *sr);
static ngx_table_elt_t *ngx_http_auth_jwt_keys_header(ngx_http_request_t *sr,
    char *name);
static ngx_int_t ngx_http_auth_jwt_keys_store(ngx_http_auth_jwt_keys_t *keys,
    ngx_http_auth_jwt_fetch_t *fetch, ajwt_keyset_t *set, time_t period,
    ngx_msec_t *next, uint64_t *generation);
static ngx_http_auth_jwt_keys_node_t *ngx_http_auth_jwt_keys_lookup(
    ngx_http_auth_jwt_keys_t *keys, ngx_str_t *uri, uint32_t hash,
    ngx_uint_t create);
static void *ngx_http_auth_jwt_keys_alloc(ngx_http_auth_jwt_keys_t *keys,
    size_t size, ngx_http_auth_jwt_keys_node_t *keep);
static void ngx_http_auth_jwt_keys_release(ngx_http_auth_jwt_keys_t *keys,
    ngx_str_t *uri, uint64_t serial);
static void ngx_http_auth_jwt_keys_forget(ngx_http_auth_jwt_fetch_t *fetch);
static void ngx_http_auth_jwt_keys_own_cleanup(void *data);


static ngx_str_t  ngx_http_auth_jwt_keys_zone_name =
    ngx_string("auth_jwt_keys");


ngx_http_auth_jwt_keys_t *
ngx_http_auth_jwt_keys_create(ngx_conf_t *cf)
{
    return ngx_http_auth_jwt_zone_create(cf, sizeof(ngx_http_auth_jwt_keys_t),
                                         &ngx_http_auth_jwt_keys_zone_name,
                                         NGX_HTTP_AUTH_JWT_KEYS_ZONE);
}


void *
ngx_http_auth_jwt_zone_create(ngx_conf_t *cf, size_t size, ngx_str_t *name,
    size_t zone_size)
{
    ngx_http_auth_jwt_zone_t  *z;

    z = ngx_pcalloc(cf->pool, size);
    if (z == NULL) {
        return NULL;
    }

    z->zone = ngx_shared_memory_add(cf, name, zone_size,
                                    &ngx_http_auth_jwt_module);
    if (z->zone == NULL) {
        return NULL;
    }

    if (z->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already in use",
                           name);
        return NULL;
    }

    z->zone->init = ngx_http_auth_jwt_zone_init;
    z->zone->data = z;

    return z;
}


uint64_t
ngx_http_auth_jwt_zone_insert(ngx_http_auth_jwt_zone_t *z, ngx_str_node_t *sn,
    ngx_queue_t *queue, u_char *data, ngx_str_t *name, uint32_t hash)
{
    ngx_memcpy(data, name->data, name->len);
    sn->str.data = data;
    sn->str.len = name->len;
    sn->node.key = hash;

    ngx_rbtree_insert(&z->sh->rbtree, &sn->node);
    ngx_queue_insert_head(&z->sh->lru, queue);
    z->sh->nodes++;

    return ++z->sh->serial;
}


void
ngx_http_auth_jwt_zone_remove(ngx_http_auth_jwt_zone_t *z, ngx_str_node_t *sn,
    ngx_queue_t *queue)
{
    ngx_queue_remove(queue);
    ngx_rbtree_delete(&z->sh->rbtree, &sn->node);
    z->sh->nodes--;
}


/* the zone outlives reloads: what a new cycle starts with is there */

static ngx_int_t
ngx_http_auth_jwt_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_auth_jwt_zone_t  *oz = data;

    size_t                     len;
    ngx_http_auth_jwt_zone_t  *z;

    z = shm_zone->data;

    if (oz) {
        z->shpool = oz->shpool;
        z->sh = oz->sh;
        return NGX_OK;
    }

    z->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        z->sh = z->shpool->data;
        return NGX_OK;
    }

    z->sh = ngx_slab_calloc(z->shpool, sizeof(ngx_http_auth_jwt_shared_t));
    if (z->sh == NULL) {
        return NGX_ERROR;
    }

    z->shpool->data = z->sh;

    ngx_rbtree_init(&z->sh->rbtree, &z->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&z->sh->lru);

    len = sizeof(" in zone \"\"") + shm_zone->shm.name.len;

    z->shpool->log_ctx = ngx_slab_alloc(z->shpool, len);
    if (z->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(z->shpool->log_ctx, " in zone \"%V\"%Z", &shm_zone->shm.name);

    /* a full zone evicts the least recently used sources: not an error */
    z->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_jwt_keys_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_keys_t *keys)
{
    ngx_http_auth_jwt_sets_init(&keys->sets, NGX_HTTP_AUTH_JWT_LOCAL_SOURCES);

    return NGX_OK;
}


void
ngx_http_auth_jwt_keys_exit_process(ngx_http_auth_jwt_keys_t *keys)
{
    ngx_http_auth_jwt_sets_free(&keys->sets);
}


ngx_int_t
ngx_http_auth_jwt_keys_get(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ajwt_keyset_t **ks)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i, n, started, busy;
    ajwt_keyset_t                    *sets[NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS];
    ngx_http_auth_jwt_key_request_t  *kr;

    if (src->period == 0) {
        return ngx_http_auth_jwt_keys_own(r, keys, src, w, ks);
    }

    kr = src->requests->elts;
    n = 0;
    started = 0;
    busy = 0;

    for (i = 0; i < src->requests->nelts; i++) {

        rc = ngx_http_auth_jwt_keys_source(r, keys, src, w, &kr[i], &sets[n]);

        switch (rc) {

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_HTTP_AUTH_JWT_SOURCE_FETCHING:
            started = 1;
            break;

        case NGX_HTTP_AUTH_JWT_SOURCE_BUSY:
            busy = 1;
            break;

        default:
            if (sets[n]) {
                n++;
            }
        }
    }

    if (started || busy) {
        if (w == NULL) {
            return NGX_DECLINED;
        }

        if (started || ngx_current_msec < w->deadline || !w->waiting) {
            return ngx_http_auth_jwt_keys_wait(r, w, started);
        }

        /* waited long enough for another's fetch: go on without it */
    }

    *ks = ngx_http_auth_jwt_sets_union(&keys->sets, src->file, sets, n);

    return NGX_OK;
}


/*
 * A key request's uri for this request, and the name of its source: the
 * uri, or "uri keyval" for the keyval format (the same uri read in another
 * format is another source).
 */

static ngx_int_t
ngx_http_auth_jwt_keys_uri(ngx_http_request_t *r,
    ngx_http_auth_jwt_key_request_t *kr, ngx_str_t *uri, ngx_str_t *name)
{
    if (ngx_http_complex_value(r, &kr->uri, uri) != NGX_OK) {
        return NGX_ERROR;
    }

    if (kr->format == NGX_HTTP_AUTH_JWT_KEYS_JWKS) {
        *name = *uri;
        return NGX_OK;
    }

    name->len = uri->len + sizeof(" keyval") - 1;
    name->data = ngx_pnalloc(r->pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(name->data, uri->data, uri->len), " keyval",
               sizeof(" keyval") - 1);

    return NGX_OK;
}


/*
 * One source for a request: its keys as this worker holds them, parsed
 * again if the zone has a newer generation; a fetch when one is due.
 */

static ngx_int_t
ngx_http_auth_jwt_keys_source(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ngx_http_auth_jwt_key_request_t *kr,
    ajwt_keyset_t **set)
{
    u_char                          *copy;
    size_t                           len;
    uint32_t                         hash;
    ngx_str_t                        path, name, *uri;
    ngx_msec_t                       now;
    uint64_t                         serial, generation;
    ngx_uint_t                       fetch, busy;
    ngx_http_auth_jwt_keys_node_t   *node;
    ngx_http_auth_jwt_parsed_t      *local, *parsed;

    *set = NULL;

    if (ngx_http_auth_jwt_keys_uri(r, kr, &path, &name) != NGX_OK) {
        return NGX_ERROR;
    }

    uri = &name;

    now = ngx_current_msec;
    hash = ngx_crc32_long(uri->data, uri->len);
    local = ngx_http_auth_jwt_sets_find(&keys->sets, uri, hash);
    copy = NULL;
    len = 0;
    fetch = 0;

    ngx_shmtx_lock(&keys->zone.shpool->mutex);

    node = ngx_http_auth_jwt_keys_lookup(keys, uri, hash, w != NULL);

    if (node == NULL) {
        ngx_shmtx_unlock(&keys->zone.shpool->mutex);

        if (w) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_jwt: key request \"%V\": no room in the "
                          "\"auth_jwt_keys\" zone", uri);
        }

        return NGX_HTTP_AUTH_JWT_SOURCE_READY;
    }

    serial = node->serial;
    generation = node->generation;

    /* only the access phase fetches: a variable read earlier never does */

    if (w && ngx_http_auth_jwt_keys_past(now, node->fetching)
        && ngx_http_auth_jwt_keys_past(now, node->refresh)
        && ngx_http_auth_jwt_keys_past(now, node->retry))
    {
        node->fetching = now + NGX_HTTP_AUTH_JWT_FETCH_HOLD * 1000;
        fetch = 1;
    }

    busy = (!fetch && !ngx_http_auth_jwt_keys_past(now, node->fetching));

    if (generation
        && (local == NULL || local->serial != serial
            || local->generation != generation))
    {
        len = node->len;
        copy = ngx_alloc(len, r->connection->log);

        if (copy) {
            ngx_memcpy(copy, node->body, len);
        }
    }

    ngx_shmtx_unlock(&keys->zone.shpool->mutex);

    if (copy) {
        parsed = ngx_http_auth_jwt_sets_parse(&keys->sets, uri, serial,
                                              generation, kr->format, copy,
                                              len, r->connection->log);
        if (parsed) {
            local = parsed;
        }
    }

    if (generation && local && local->serial == serial) {
        *set = local->set;
    }

    if (fetch) {
        if (ngx_http_auth_jwt_keys_fetch(r, keys, NULL, kr, serial,
                                         src->period, *set != NULL)
            != NGX_OK)
        {
            ngx_http_auth_jwt_keys_release(keys, uri, serial);
            return NGX_HTTP_AUTH_JWT_SOURCE_READY;
        }

        if (*set == NULL) {
            return NGX_HTTP_AUTH_JWT_SOURCE_FETCHING;
        }

        /*
         * With keys, the fetch runs in the background: nobody waits. But
         * nginx reads the next request on this connection only once the
         * subrequest is over: this one closes it, so the client's next
         * request comes on another and does not wait either.
         */

        if (r->http_version < NGX_HTTP_VERSION_20) {
            r->keepalive = 0;
        }
    }

    if (*set == NULL && busy) {
        return NGX_HTTP_AUTH_JWT_SOURCE_BUSY;
    }

    return NGX_HTTP_AUTH_JWT_SOURCE_READY;
}


/* auth_jwt_key_cache 0: each request fetches the keys it verifies with */

static ngx_int_t
ngx_http_auth_jwt_keys_own(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ajwt_keyset_t **ks)
{
    ngx_uint_t                        i;
    ngx_pool_cleanup_t               *cln;
    ngx_http_auth_jwt_key_request_t  *kr;

    if (w == NULL) {
        return NGX_DECLINED;
    }

    if (w->own_done) {
        *ks = (ajwt_keyset_count(w->own) > 0) ? w->own : NULL;
        return NGX_OK;
    }

    if (w->fetches) {
        return NGX_AGAIN;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    w->own = ajwt_keyset_create();

    cln->handler = ngx_http_auth_jwt_keys_own_cleanup;
    cln->data = w->own;

    if (src->file) {
        ajwt_keyset_add_set(w->own, src->file);
    }

    kr = src->requests->elts;

    for (i = 0; i < src->requests->nelts; i++) {
        if (ngx_http_auth_jwt_keys_fetch(r, keys, w, &kr[i], 0, 0, 0)
            == NGX_OK)
        {
            w->fetches++;
        }
    }

    if (w->fetches == 0) {
        w->own_done = 1;
        *ks = (ajwt_keyset_count(w->own) > 0) ? w->own : NULL;
        return NGX_OK;
    }

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_auth_jwt_keys_refetch(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w)
{
    uint32_t                          hash;
    uint64_t                          serial;
    ngx_str_t                         path, uri;
    ngx_msec_t                        now;
    ngx_uint_t                        i, claim, started, busy;
    ngx_http_auth_jwt_keys_node_t    *node;
    ngx_http_auth_jwt_key_request_t  *kr;

    if (src->period == 0 || w->refetched) {
        return NGX_DECLINED;
    }

    now = ngx_current_msec;
    kr = src->requests->elts;
    started = 0;
    busy = 0;

    for (i = 0; i < src->requests->nelts; i++) {

        if (ngx_http_auth_jwt_keys_uri(r, &kr[i], &path, &uri) != NGX_OK) {
            return NGX_ERROR;
        }

        hash = ngx_crc32_long(uri.data, uri.len);
        claim = 0;
        serial = 0;

        ngx_shmtx_lock(&keys->zone.shpool->mutex);

        node = ngx_http_auth_jwt_keys_lookup(keys, &uri, hash, 0);

        if (node) {
            if (!ngx_http_auth_jwt_keys_past(now, node->fetching)) {
                busy = 1;

            } else if (!w->refetch
                       && ngx_http_auth_jwt_keys_past(now, node->refetched
                                          + NGX_HTTP_AUTH_JWT_REFETCH * 1000)
                       && ngx_http_auth_jwt_keys_past(now, node->retry))
            {
                node->fetching = now + NGX_HTTP_AUTH_JWT_FETCH_HOLD * 1000;
                node->refetched = now;
                serial = node->serial;
                claim = 1;
            }
        }

        ngx_shmtx_unlock(&keys->zone.shpool->mutex);

        if (claim) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "auth_jwt: key request \"%V\": the token names "
                          "an unknown kid, fetching the keys again", &uri);

            if (ngx_http_auth_jwt_keys_fetch(r, keys, NULL, &kr[i], serial,
                                             src->period, 0)
                == NGX_OK)
            {
                started = 1;

            } else {
                ngx_http_auth_jwt_keys_release(keys, &uri, serial);
            }
        }
    }

    /* the first time, waits for the fetch it started or found under way */

    if ((started || busy)
        && (!w->refetch || ngx_current_msec < w->deadline))
    {
        w->refetch = 1;
        return ngx_http_auth_jwt_keys_wait(r, w, started);
    }

    w->refetched = 1;

    return NGX_DECLINED;
}


/*
 * The request's phases run again when its own fetch ends (nginx wakes the
 * parent of a waited subrequest), or, waiting for another's, every
 * NGX_HTTP_AUTH_JWT_POLL ms, as limit_req delays a request.
 */

static ngx_int_t
ngx_http_auth_jwt_keys_wait(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_wait_t *w, ngx_uint_t started)
{
    if (!w->waiting) {
        w->waiting = 1;
        w->deadline = ngx_current_msec
                      + NGX_HTTP_AUTH_JWT_FETCH_HOLD * 1000;
    }

    if (started) {
        return NGX_AGAIN;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: waiting for a key request under way");

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_auth_jwt_keys_poll;

    r->connection->write->delayed = 1;
    ngx_add_timer(r->connection->write, NGX_HTTP_AUTH_JWT_POLL);

    return NGX_AGAIN;
}


static void
ngx_http_auth_jwt_keys_poll(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->delayed) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/*
 * Starts a subrequest to uri, its body captured by the body filter. It is a
 * GET that carries none of the client's headers or body: the issuer gets
 * no token, cookie or credential of the client's.
 */

static ngx_int_t
ngx_http_auth_jwt_keys_fetch(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_keys_wait_t *w,
    ngx_http_auth_jwt_key_request_t *kr, uint64_t serial, time_t period,
    ngx_uint_t background)
{
    ngx_str_t                    path, args, name, *uri;
    ngx_uint_t                   flags;
    ngx_http_request_t          *sr;
    ngx_http_auth_jwt_fetch_t   *fetch;
    ngx_http_post_subrequest_t  *ps;

    if (ngx_http_auth_jwt_keys_uri(r, kr, &path, &name) != NGX_OK) {
        return NGX_ERROR;
    }

    uri = &name;

    fetch = ngx_pcalloc(r->pool, sizeof(ngx_http_auth_jwt_fetch_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

    if (fetch == NULL || ps == NULL) {
        return NGX_ERROR;
    }

    fetch->keys = keys;
    fetch->wait = w;
    fetch->format = kr->format;
    fetch->serial = serial;
    fetch->period = period;

    fetch->uri.data = ngx_pstrdup(r->pool, uri);
    if (fetch->uri.data == NULL) {
        return NGX_ERROR;
    }

    fetch->uri.len = uri->len;

    path.data = ngx_pstrdup(r->pool, &path);
    if (path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_str_null(&args);
    flags = NGX_HTTP_LOG_UNSAFE;

    if (ngx_http_parse_unsafe_uri(r, &path, &args, &flags) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key request \"%V\": unsafe uri", uri);
        return NGX_ERROR;
    }

    ps->handler = ngx_http_auth_jwt_keys_fetched;
    ps->data = fetch;

    flags = background ? NGX_HTTP_SUBREQUEST_BACKGROUND
                       : NGX_HTTP_SUBREQUEST_WAITED;

    if (ngx_http_subrequest(r, &path, &args, &sr, ps, flags) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.server = r->headers_in.server;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: key request \"%V\"%s", uri,
                   background ? " in the background" : "");

    return NGX_OK;
}


ngx_int_t
ngx_http_auth_jwt_keys_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    u_char                     *p;
    size_t                      size, need;
    ssize_t                     n;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    ngx_http_auth_jwt_fetch_t  *fetch;

    if (r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_auth_jwt_keys_fetched)
    {
        return NGX_DECLINED;
    }

    /* the body is the fetch's: nothing of it reaches the client */

    fetch = r->post_subrequest->data;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        size = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos)
                                    : (size_t) (b->file_last - b->file_pos);

        if (size && !fetch->too_large && !fetch->done) {

            if (fetch->len + size > NGX_HTTP_AUTH_JWT_MAX_JWKS) {
                fetch->too_large = 1;

            } else {
                need = fetch->len + size;

                if (need > fetch->size) {
                    /* Content-Length when given, else doubling */

                    need = ngx_max(need, ngx_min(2 * fetch->size,
                                                 NGX_HTTP_AUTH_JWT_MAX_JWKS));

                    if (fetch->size == 0
                        && r->headers_out.content_length_n > (off_t) need
                        && r->headers_out.content_length_n
                           <= NGX_HTTP_AUTH_JWT_MAX_JWKS)
                    {
                        need = r->headers_out.content_length_n;
                    }

                    p = ngx_pnalloc(r->pool, need);
                    if (p == NULL) {
                        return NGX_ERROR;
                    }

                    if (fetch->len) {
                        ngx_memcpy(p, fetch->body, fetch->len);
                        ngx_explicit_memzero(fetch->body, fetch->len);
                    }

                    fetch->body = p;
                    fetch->size = need;
                }

                p = fetch->body + fetch->len;

                if (ngx_buf_in_memory(b)) {
                    ngx_memcpy(p, b->pos, size);

                } else {
                    /* a large body the proxy buffered to a temporary file */

                    n = ngx_read_file(b->file, p, size, b->file_pos);
                    if (n != (ssize_t) size) {
                        return NGX_ERROR;
                    }
                }

                fetch->len += size;
            }
        }

        b->pos = b->last;
        b->file_pos = b->file_last;
    }

    return NGX_OK;
}


/* the subrequest is over: store the keys, or keep the old ones */

static ngx_int_t
ngx_http_auth_jwt_keys_fetched(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_auth_jwt_fetch_t *fetch = data;

    char                            err[256];
    time_t                          period;
    uint64_t                        generation;
    ngx_msec_t                      next;
    const char                     *failure;
    ajwt_keyset_t                  *set;
    ngx_http_auth_jwt_keys_wait_t  *w;

    /* called again when nginx sends an error page for the subrequest */

    if (fetch->done) {
        return rc;
    }

    fetch->done = 1;

    failure = ngx_http_auth_jwt_keys_check(sr, fetch, rc, &set, err,
                                           sizeof(err));
    ngx_http_auth_jwt_status_keys(failure == NULL,
                                  failure ? 0 : ajwt_keyset_count(set));
    w = fetch->wait;

    if (w) {
        if (failure) {
            ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                          "auth_jwt: key request \"%V\" failed: %s",
                          &fetch->uri, failure);

        } else {
            ajwt_keyset_add_set(w->own, set);
            ajwt_keyset_free(set);
        }

        if (--w->fetches == 0) {
            w->own_done = 1;
        }

        ngx_http_auth_jwt_keys_forget(fetch);

        return rc;
    }

    period = fetch->period;

    if (period == NGX_CONF_UNSET) {
        period = failure ? 0 : ngx_http_auth_jwt_keys_max_age(sr);
    }

    if (ngx_http_auth_jwt_keys_store(fetch->keys, fetch, failure ? NULL : set,
                                     period, &next, &generation)
        != NGX_OK && failure == NULL)
    {
        failure = "no room in the \"auth_jwt_keys\" zone";
    }

    ngx_http_auth_jwt_keys_forget(fetch);

    if (failure) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "auth_jwt: key request \"%V\" failed: %s, keeping "
                      "the keys held, next try in %M ms",
                      &fetch->uri, failure, next - ngx_current_msec);
        ajwt_keyset_free(set);
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "auth_jwt: key request \"%V\": %uz keys, next in %M ms",
                  &fetch->uri, ajwt_keyset_count(set),
                  next - ngx_current_msec);

    /* this worker need not parse what it just parsed */

    ngx_http_auth_jwt_sets_install(&fetch->keys->sets, &fetch->uri,
                                   fetch->serial, generation, set);

    return rc;
}


/* NULL and *set parsed, or why the fetch failed */

static const char *
ngx_http_auth_jwt_keys_check(ngx_http_request_t *sr,
    ngx_http_auth_jwt_fetch_t *fetch, ngx_int_t rc, ajwt_keyset_t **set,
    char *err, size_t errlen)
{
    ngx_table_elt_t  *h;

    *set = NULL;

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
        || sr->headers_out.status != NGX_HTTP_OK)
    {
        ngx_snprintf((u_char *) err, errlen, "status %ui%Z",
                     (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                     : sr->headers_out.status);
        return err;
    }

    if (fetch->too_large) {
        return "the JWKS is larger than 256 KiB";
    }

    /* never decompressed: a compressed JWKS is refused */

    h = ngx_http_auth_jwt_keys_header(sr, "Content-Encoding");

    if (h
        && !(h->value.len == sizeof("identity") - 1
             && ngx_strncasecmp(h->value.data, (u_char *) "identity",
                                h->value.len) == 0))
    {
        return "the JWKS is compressed (Content-Encoding)";
    }

    if (fetch->len == 0) {
        return "the body is empty";
    }

    *set = ajwt_keyset_create();

    if (ngx_http_auth_jwt_keys_parse(*set, fetch->format, fetch->body,
                                     fetch->len, err, errlen)
        < 0)
    {
        ajwt_keyset_free(*set);
        *set = NULL;
        return err;
    }

    return NULL;
}


ngx_int_t
ngx_http_auth_jwt_conf_file(ngx_conf_t *cf, ngx_str_t *name, off_t max,
    ngx_str_t *data, ngx_file_info_t *fi)
{
    ngx_int_t    rc;
    ngx_err_t    err;
    ngx_str_t   *directive;
    const char  *failed;

    rc = ngx_http_auth_jwt_read_file(name->data, max, cf->temp_pool, data, fi,
                                     &failed, &err);

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    /* the messages name the directive being read */
    directive = cf->args->elts;

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%s\" is larger than %O "
                           "bytes", directive, name->data, max);

    } else if (rc == NGX_ABORT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%s\" is not a regular "
                           "file", directive, name->data);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "\"%V\" directive: %s \"%s\" failed",
                           directive, failed, name->data);
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_auth_jwt_read_file(u_char *name, off_t max, ngx_pool_t *pool,
    ngx_str_t *data, ngx_file_info_t *fi, const char **failed, ngx_err_t *err)
{
    off_t     size;
    ssize_t   n;
    ngx_fd_t  fd;

    *err = 0;

    /* a FIFO or a device named by a request never blocks the worker */

    fd = ngx_open_file(name, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK, NGX_FILE_OPEN,
                       0);
    if (fd == NGX_INVALID_FILE) {
        *err = ngx_errno;
        *failed = ngx_open_file_n;
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        *err = ngx_errno;
        *failed = ngx_fd_info_n;
        goto failed;
    }

    if (!ngx_is_file(fi)) {
        ngx_close_file(fd);
        return NGX_ABORT;
    }

    size = ngx_file_size(fi);

    if (size > max) {
        ngx_close_file(fd);
        return NGX_DECLINED;
    }

    data->data = ngx_pnalloc(pool, size + 1);
    if (data->data == NULL) {
        *failed = "allocation for";
        goto failed;
    }

    n = ngx_read_fd(fd, data->data, size);

    if (n != size) {
        *err = (n == -1) ? ngx_errno : 0;
        *failed = ngx_read_fd_n;
        ngx_explicit_memzero(data->data, size);
        goto failed;
    }

    data->len = size;

    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_close_file(fd);

    return NGX_ERROR;
}


int
ngx_http_auth_jwt_keys_parse(ajwt_keyset_t *ks, ngx_uint_t format,
    u_char *data, size_t len, char *err, size_t errlen)
{
    if (format == NGX_HTTP_AUTH_JWT_KEYS_KEYVAL) {
        return ajwt_keyset_add_keyval(ks, data, len, err, errlen);
    }

    return ajwt_keyset_add(ks, data, len, err, errlen);
}


/* the refresh period the issuer asks for: Cache-Control's max-age, bounded */

static time_t
ngx_http_auth_jwt_keys_max_age(ngx_http_request_t *sr)
{
    u_char           *p, *last;
    time_t            age;
    ngx_table_elt_t  *h;

    h = ngx_http_auth_jwt_keys_header(sr, "Cache-Control");
    if (h == NULL) {
        return NGX_HTTP_AUTH_JWT_KEY_PERIOD;
    }

    p = h->value.data;
    last = p + h->value.len;

    p = ngx_strlcasestrn(p, last, (u_char *) "max-age=",
                         sizeof("max-age=") - 1 - 1);
    if (p == NULL) {
        return NGX_HTTP_AUTH_JWT_KEY_PERIOD;
    }

    p += sizeof("max-age=") - 1;
    age = 0;

    while (p < last && *p >= '0' && *p <= '9'
           && age <= NGX_HTTP_AUTH_JWT_MAX_PERIOD)
    {
        age = age * 10 + (*p++ - '0');
    }

    return ngx_max(NGX_HTTP_AUTH_JWT_MIN_PERIOD,
                   ngx_min(age, NGX_HTTP_AUTH_JWT_MAX_PERIOD));
}


/* the first response header named name (as the proxy module passed it) */

static ngx_table_elt_t *
ngx_http_auth_jwt_keys_header(ngx_http_request_t *sr, char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Ends the node's fetch: with set, its body becomes the node's (a new
 * generation if it changed) until period has passed; without, the keys
 * held stay, and the next try backs off. *next is when the next fetch may
 * start, *generation the node's.
 */

static ngx_int_t
ngx_http_auth_jwt_keys_store(ngx_http_auth_jwt_keys_t *keys,
    ngx_http_auth_jwt_fetch_t *fetch, ajwt_keyset_t *set, time_t period,
    ngx_msec_t *next, uint64_t *generation)
{
    u_char                         *body;
    time_t                          backoff;
    ngx_int_t                       rc;
    ngx_msec_t                      now;
    ngx_http_auth_jwt_keys_node_t  *node;

    now = ngx_current_msec;
    *next = now;
    *generation = 0;
    rc = NGX_OK;

    ngx_shmtx_lock(&keys->zone.shpool->mutex);

    node = ngx_http_auth_jwt_keys_lookup(keys, &fetch->uri,
                                         ngx_crc32_long(fetch->uri.data,
                                                        fetch->uri.len), 0);

    if (node == NULL || node->serial != fetch->serial) {
        /* evicted meanwhile: the keys are this worker's only */
        ngx_shmtx_unlock(&keys->zone.shpool->mutex);
        return NGX_OK;
    }

    node->fetching = 0;

    if (set
        && (node->len != fetch->len
            || ngx_memcmp(node->body, fetch->body, fetch->len) != 0))
    {
        body = ngx_http_auth_jwt_keys_alloc(keys, fetch->len, node);

        if (body == NULL) {
            rc = NGX_ERROR;

        } else {
            if (node->body) {
                ngx_explicit_memzero(node->body, node->len);
                ngx_slab_free_locked(keys->zone.shpool, node->body);
            }

            ngx_memcpy(body, fetch->body, fetch->len);
            node->body = body;
            node->len = fetch->len;
            node->generation = ++keys->zone.sh->generation;
        }
    }

    if (set && rc == NGX_OK) {
        node->failures = 0;
        node->retry = 0;
        node->refresh = now + period * 1000;
        *next = node->refresh;

    } else {
        backoff = (node->failures < 6) ? (time_t) 1 << node->failures
                                       : NGX_HTTP_AUTH_JWT_MAX_BACKOFF;
        backoff = ngx_min(backoff, NGX_HTTP_AUTH_JWT_MAX_BACKOFF);

        node->failures++;
        node->retry = now + backoff * 1000;
        *next = node->retry;
    }

    *generation = node->generation;

    ngx_shmtx_unlock(&keys->zone.shpool->mutex);

    return rc;
}


/* the node of uri, created when asked; the zone's lock is held */

static ngx_http_auth_jwt_keys_node_t *
ngx_http_auth_jwt_keys_lookup(ngx_http_auth_jwt_keys_t *keys, ngx_str_t *uri,
    uint32_t hash, ngx_uint_t create)
{
    ngx_http_auth_jwt_keys_node_t  *node;

    node = (ngx_http_auth_jwt_keys_node_t *)
               ngx_str_rbtree_lookup(&keys->zone.sh->rbtree, uri, hash);

    if (node) {
        ngx_queue_remove(&node->queue);
        ngx_queue_insert_head(&keys->zone.sh->lru, &node->queue);
        return node;
    }

    if (!create) {
        return NULL;
    }

    node = ngx_http_auth_jwt_keys_alloc(keys,
                            offsetof(ngx_http_auth_jwt_keys_node_t, uri)
                            + uri->len, NULL);
    if (node == NULL) {
        return NULL;
    }

    ngx_memzero(node, offsetof(ngx_http_auth_jwt_keys_node_t, uri));

    node->serial = ngx_http_auth_jwt_zone_insert(&keys->zone, &node->sn,
                                                 &node->queue, node->uri,
                                                 uri, hash);

    return node;
}


/*
 * Allocates in the zone; when it is full, frees the least recently used
 * sources that no fetch holds (never keep) until the allocation fits.
 */

static void *
ngx_http_auth_jwt_keys_alloc(ngx_http_auth_jwt_keys_t *keys, size_t size,
    ngx_http_auth_jwt_keys_node_t *keep)
{
    void                           *p;
    ngx_msec_t                      now;
    ngx_queue_t                    *q;
    ngx_http_auth_jwt_keys_node_t  *node, *n;

    now = ngx_current_msec;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(keys->zone.shpool, size);
        if (p) {
            return p;
        }

        node = NULL;

        for (q = ngx_queue_last(&keys->zone.sh->lru);
             q != ngx_queue_sentinel(&keys->zone.sh->lru);
             q = ngx_queue_prev(q))
        {
            n = ngx_queue_data(q, ngx_http_auth_jwt_keys_node_t, queue);

            if (n != keep && ngx_http_auth_jwt_keys_past(now, n->fetching)) {
                node = n;
                break;
            }
        }

        if (node == NULL) {
            return NULL;
        }

        ngx_http_auth_jwt_zone_remove(&keys->zone, &node->sn, &node->queue);

        if (node->body) {
            ngx_explicit_memzero(node->body, node->len);
            ngx_slab_free_locked(keys->zone.shpool, node->body);
        }

        ngx_slab_free_locked(keys->zone.shpool, node);
    }
}


/* a fetch that could not start lets the next request try after a backoff */

static void
ngx_http_auth_jwt_keys_release(ngx_http_auth_jwt_keys_t *keys, ngx_str_t *uri,
    uint64_t serial)
{
    uint64_t                   generation;
    ngx_msec_t                 next;
    ngx_http_auth_jwt_fetch_t  fetch;

    ngx_memzero(&fetch, sizeof(ngx_http_auth_jwt_fetch_t));

    fetch.uri = *uri;
    fetch.serial = serial;

    (void) ngx_http_auth_jwt_keys_store(keys, &fetch, NULL, 0, &next,
                                        &generation);
}


/* the body may hold HMAC secrets: no copy outlives its use */

static void
ngx_http_auth_jwt_keys_forget(ngx_http_auth_jwt_fetch_t *fetch)
{
    if (fetch->body) {
        ngx_explicit_memzero(fetch->body, fetch->len);
    }
}


static void
ngx_http_auth_jwt_keys_own_cleanup(void *data)
{
    ajwt_keyset_free(data);
}


void
ngx_http_auth_jwt_sets_init(ngx_http_auth_jwt_sets_t *sets, ngx_uint_t max)
{
    ngx_rbtree_init(&sets->tree, &sets->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&sets->lru);
    sets->max = max;
}


void
ngx_http_auth_jwt_sets_free(ngx_http_auth_jwt_sets_t *sets)
{
    ngx_uint_t                   i;
    ngx_queue_t                 *q;
    ngx_http_auth_jwt_parsed_t  *parsed;

    if (sets->lru.next == NULL) {
        return;
    }

    while (!ngx_queue_empty(&sets->lru)) {
        q = ngx_queue_head(&sets->lru);
        ngx_queue_remove(q);

        parsed = ngx_queue_data(q, ngx_http_auth_jwt_parsed_t, queue);
        ajwt_keyset_free(parsed->set);
        ngx_free(parsed);
    }

    for (i = 0; i < NGX_HTTP_AUTH_JWT_UNIONS; i++) {
        ajwt_keyset_free(sets->unions[i].set);
        sets->unions[i].set = NULL;
    }
}


/*
 * A set found is the most recently used: an install later in the same
 * request (another source) never frees a set the request holds.
 */

ngx_http_auth_jwt_parsed_t *
ngx_http_auth_jwt_sets_find(ngx_http_auth_jwt_sets_t *sets, ngx_str_t *name,
    uint32_t hash)
{
    ngx_http_auth_jwt_parsed_t  *parsed;

    parsed = (ngx_http_auth_jwt_parsed_t *)
                 ngx_str_rbtree_lookup(&sets->tree, name, hash);

    if (parsed) {
        ngx_queue_remove(&parsed->queue);
        ngx_queue_insert_head(&sets->lru, &parsed->queue);
    }

    return parsed;
}


void
ngx_http_auth_jwt_sets_install(ngx_http_auth_jwt_sets_t *sets,
    ngx_str_t *name, uint64_t serial, uint64_t generation, ajwt_keyset_t *set)
{
    uint32_t                     hash;
    ngx_queue_t                 *q;
    ngx_http_auth_jwt_parsed_t  *parsed;

    hash = ngx_crc32_long(name->data, name->len);
    parsed = (ngx_http_auth_jwt_parsed_t *)
                 ngx_str_rbtree_lookup(&sets->tree, name, hash);

    if (parsed == NULL) {

        if (sets->n >= sets->max) {
            q = ngx_queue_last(&sets->lru);
            ngx_queue_remove(q);

            parsed = ngx_queue_data(q, ngx_http_auth_jwt_parsed_t, queue);
            ngx_rbtree_delete(&sets->tree, &parsed->sn.node);
            ajwt_keyset_free(parsed->set);
            ngx_free(parsed);
            sets->n--;
        }

        parsed = ngx_alloc(sizeof(ngx_http_auth_jwt_parsed_t) + name->len,
                           ngx_cycle->log);
        if (parsed == NULL) {
            ajwt_keyset_free(set);
            return;
        }

        parsed->sn.str.data = (u_char *) parsed
                              + sizeof(ngx_http_auth_jwt_parsed_t);
        parsed->sn.str.len = name->len;
        ngx_memcpy(parsed->sn.str.data, name->data, name->len);
        parsed->sn.node.key = hash;
        parsed->set = NULL;

        ngx_rbtree_insert(&sets->tree, &parsed->sn.node);
        sets->n++;

    } else {
        ngx_queue_remove(&parsed->queue);
    }

    ngx_queue_insert_head(&sets->lru, &parsed->queue);

    ajwt_keyset_free(parsed->set);

    parsed->set = set;
    parsed->serial = serial;
    parsed->generation = generation;
}


ngx_http_auth_jwt_parsed_t *
ngx_http_auth_jwt_sets_parse(ngx_http_auth_jwt_sets_t *sets, ngx_str_t *name,
    uint64_t serial, uint64_t generation, ngx_uint_t format, u_char *copy,
    size_t len, ngx_log_t *log)
{
    char            err[256];
    ajwt_keyset_t  *parsed;

    parsed = ajwt_keyset_create();

    if (ngx_http_auth_jwt_keys_parse(parsed, format, copy, len, err,
                                     sizeof(err))
        < 0)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "auth_jwt: the keys of \"%V\" no longer parse: %s",
                      name, err);
        ajwt_keyset_free(parsed);
        parsed = NULL;
    }

    /* the body may hold HMAC secrets: no copy outlives its use */

    ngx_explicit_memzero(copy, len);
    ngx_free(copy);

    if (parsed == NULL) {
        return NULL;
    }

    ngx_http_auth_jwt_sets_install(sets, name, serial, generation, parsed);

    return ngx_http_auth_jwt_sets_find(sets, name,
                                       ngx_crc32_long(name->data, name->len));
}


/*
 * Key sets as one: one set alone is itself; combinations are built once
 * per worker and kept, by the ids of their parts (a part parsed anew has a
 * new id, and so has the combination).
 */

ajwt_keyset_t *
ngx_http_auth_jwt_sets_union(ngx_http_auth_jwt_sets_t *sets,
    ajwt_keyset_t *file, ajwt_keyset_t **parts, ngx_uint_t n)
{
    uint64_t                   ids[NGX_HTTP_AUTH_JWT_UNION_PARTS];
    ngx_uint_t                 i, j, nids;
    ngx_http_auth_jwt_union_t  *u, *oldest;

    if (file == NULL && n <= 1) {
        return (n == 1) ? parts[0] : NULL;
    }

    if (n == 0) {
        return file;
    }

    nids = 0;

    if (file) {
        ids[nids++] = ajwt_keyset_id(file);
    }

    for (i = 0; i < n; i++) {
        ids[nids++] = ajwt_keyset_id(parts[i]);
    }

    sets->tick++;
    oldest = &sets->unions[0];

    for (i = 0; i < NGX_HTTP_AUTH_JWT_UNIONS; i++) {
        u = &sets->unions[i];

        if (u->set && u->nids == nids
            && ngx_memcmp(u->ids, ids, nids * sizeof(uint64_t)) == 0)
        {
            u->used = sets->tick;
            return u->set;
        }

        if (u->set == NULL || u->used < oldest->used) {
            oldest = u;
        }
    }

    ajwt_keyset_free(oldest->set);

    oldest->set = ajwt_keyset_create();

    if (file) {
        ajwt_keyset_add_set(oldest->set, file);
    }

    for (j = 0; j < n; j++) {
        ajwt_keyset_add_set(oldest->set, parts[j]);
    }

    ngx_memcpy(oldest->ids, ids, nids * sizeof(uint64_t));
    oldest->nids = nids;
    oldest->used = sets->tick;

    return oldest->set;
}
