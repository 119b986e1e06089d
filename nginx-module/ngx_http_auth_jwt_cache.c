
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The cache of verified tokens: a red-black tree by the token's hash, with
 * the token's bytes and key set compared in full on equal hashes, and a
 * queue in the order of use, least recently used last, for eviction. Each
 * worker has its own copy (the tree is empty when the master forks), so
 * no locks; nodes come from the worker's heap and go back when evicted or
 * when the worker's cycle pool is destroyed at exit. A reload starts new
 * workers, with new, empty caches.
 *
 * Only tokens that verified get in, so filling the cache takes valid
 * signatures; the size bound and the balanced tree keep it small and its
 * lookups logarithmic whatever the tokens.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_auth_jwt_cache.h"
#include "ngx_http_auth_jwt_status.h"


struct ngx_http_auth_jwt_cache_s {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;      /* most recently used first */
    ngx_uint_t                   count;
    ngx_uint_t                   max;
};


typedef struct {
    ngx_rbtree_node_t            node;       /* key: the token's hash */
    ngx_queue_t                  queue;
    uint64_t                     keys;       /* ajwt_keyset_id() */
    ajwt_times_t                 times;
    ngx_http_auth_jwt_decision_t  decision;
    size_t                       token_len;
    size_t                       header_len;
    size_t                       payload_len;
    u_char                       data[1];    /* token, header, payload */
} ngx_http_auth_jwt_cache_node_t;


static ngx_int_t ngx_http_auth_jwt_cache_cmp(uint64_t keys,
    u_char *token, size_t len, ngx_http_auth_jwt_cache_node_t *cn);
static void ngx_http_auth_jwt_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_auth_jwt_cache_evict(ngx_http_auth_jwt_cache_t *cache);
static void ngx_http_auth_jwt_cache_cleanup(void *data);


ngx_http_auth_jwt_cache_t *
ngx_http_auth_jwt_cache_create(ngx_conf_t *cf, ngx_uint_t max)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_auth_jwt_cache_t  *cache;

    cache = ngx_palloc(cf->pool, sizeof(ngx_http_auth_jwt_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    ngx_rbtree_init(&cache->rbtree, &cache->sentinel,
                    ngx_http_auth_jwt_cache_insert_value);
    ngx_queue_init(&cache->queue);

    cache->count = 0;
    cache->max = max;

    /* a worker destroys its cycle pool at exit: the nodes go with it */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_auth_jwt_cache_cleanup;
    cln->data = cache;

    return cache;
}


/*
 * Finds the token verified against keys. On a hit, copies its decoded
 * header and payload into pool and points out at them: the request keeps
 * them while it waits (on the session store), when another request may
 * evict the node. Returns NGX_OK on a hit, NGX_DECLINED on a miss (with
 * *hash set for ngx_http_auth_jwt_cache_put()), NGX_ERROR.
 */

ngx_int_t
ngx_http_auth_jwt_cache_get(ngx_http_auth_jwt_cache_t *cache,
    uint64_t keys, ngx_str_t *token, uint32_t *hash,
    ngx_pool_t *pool, ajwt_token_t *out, ajwt_times_t *times,
    ngx_http_auth_jwt_decision_t **decision)
{
    u_char                          *p;
    ngx_int_t                        rc;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_auth_jwt_cache_node_t  *cn;

    *decision = NULL;

    if (token->len > NGX_HTTP_AUTH_JWT_CACHE_MAX_TOKEN) {
        return NGX_DECLINED;
    }

    *hash = ngx_murmur_hash2(token->data, token->len);

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {

        if (*hash != node->key) {
            node = (*hash < node->key) ? node->left : node->right;
            continue;
        }

        /*
         * the bytes are compared only once the hash matched, which a
         * client cannot aim at a token it does not know
         */

        cn = (ngx_http_auth_jwt_cache_node_t *) node;

        rc = ngx_http_auth_jwt_cache_cmp(keys, token->data, token->len, cn);

        if (rc == 0) {
            goto found;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    ngx_http_auth_jwt_status_add(NGX_HTTP_AUTH_JWT_STATUS_CACHE_MISSES, 1);

    return NGX_DECLINED;

found:

    ngx_http_auth_jwt_status_add(NGX_HTTP_AUTH_JWT_STATUS_CACHE_HITS, 1);

    p = ngx_pnalloc(pool, cn->header_len + cn->payload_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, cn->data + cn->token_len,
               cn->header_len + cn->payload_len);

    out->header.data = p;
    out->header.len = cn->header_len;
    out->payload.data = p + cn->header_len;
    out->payload.len = cn->payload_len;

    *times = cn->times;
    *decision = &cn->decision;

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->queue, &cn->queue);

    return NGX_OK;
}


/*
 * Keeps a token that verified against keys, after a miss (hash is what
 * ngx_http_auth_jwt_cache_get() set), evicting the least recently used
 * token when full. The caller does not wait in between, so the token is
 * not in the cache. Best effort: without memory the request goes on.
 */

ngx_http_auth_jwt_decision_t *
ngx_http_auth_jwt_cache_put(ngx_http_auth_jwt_cache_t *cache,
    uint64_t keys, ngx_str_t *token, uint32_t hash,
    ajwt_token_t *verified, ngx_log_t *log)
{
    u_char                          *p;
    const char                      *reason;
    ajwt_times_t                     times;
    ngx_http_auth_jwt_cache_node_t  *cn;

    if (token->len > NGX_HTTP_AUTH_JWT_CACHE_MAX_TOKEN
        || ajwt_times_read(verified->payload, &times, &reason) != AJWT_OK)
    {
        return NULL;
    }

    if (cache->count >= cache->max) {
        ngx_http_auth_jwt_cache_evict(cache);
        ngx_http_auth_jwt_status_add(NGX_HTTP_AUTH_JWT_STATUS_CACHE_EVICTIONS,
                                     1);
    }

    cn = ngx_alloc(offsetof(ngx_http_auth_jwt_cache_node_t, data)
                   + token->len + verified->header.len
                   + verified->payload.len, log);
    if (cn == NULL) {
        return NULL;
    }

    cn->node.key = hash;
    cn->keys = keys;
    cn->times = times;
    cn->decision.policy = NULL;
    cn->token_len = token->len;
    cn->header_len = verified->header.len;
    cn->payload_len = verified->payload.len;

    p = ngx_cpymem(cn->data, token->data, token->len);
    p = ngx_cpymem(p, verified->header.data, verified->header.len);
    ngx_memcpy(p, verified->payload.data, verified->payload.len);

    ngx_rbtree_insert(&cache->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->queue, &cn->queue);

    cache->count++;
    ngx_http_auth_jwt_status_add(NGX_HTTP_AUTH_JWT_STATUS_CACHE_ENTRIES, 1);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "auth_jwt: token cache keeps a token, %ui of %ui",
                   cache->count, cache->max);

    return &cn->decision;
}


/* orders nodes of equal hash: by key set, then token length and bytes */

static ngx_int_t
ngx_http_auth_jwt_cache_cmp(uint64_t keys, u_char *token, size_t len,
    ngx_http_auth_jwt_cache_node_t *cn)
{
    if (keys != cn->keys) {
        return (keys < cn->keys) ? -1 : 1;
    }

    if (len != cn->token_len) {
        return (len < cn->token_len) ? -1 : 1;
    }

    return ngx_memcmp(token, cn->data, len);
}


static void
ngx_http_auth_jwt_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_auth_jwt_cache_node_t   *cn;

    cn = (ngx_http_auth_jwt_cache_node_t *) node;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (ngx_http_auth_jwt_cache_cmp(cn->keys, cn->data, cn->token_len,
                     (ngx_http_auth_jwt_cache_node_t *) temp) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static void
ngx_http_auth_jwt_cache_evict(ngx_http_auth_jwt_cache_t *cache)
{
    ngx_queue_t                     *q;
    ngx_http_auth_jwt_cache_node_t  *cn;

    q = ngx_queue_last(&cache->queue);
    cn = ngx_queue_data(q, ngx_http_auth_jwt_cache_node_t, queue);

    ngx_queue_remove(q);
    ngx_rbtree_delete(&cache->rbtree, &cn->node);
    ngx_free(cn);

    cache->count--;
    ngx_http_auth_jwt_status_add(NGX_HTTP_AUTH_JWT_STATUS_CACHE_ENTRIES, -1);
}


static void
ngx_http_auth_jwt_cache_cleanup(void *data)
{
    ngx_http_auth_jwt_cache_t  *cache = data;

    while (cache->count) {
        ngx_http_auth_jwt_cache_evict(cache);
    }
}
