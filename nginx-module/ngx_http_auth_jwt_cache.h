
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * A per-worker cache of verified tokens (auth_jwt_cache): the decoded
 * header and payload of a token that verified, keyed by the token's bytes
 * and the identity of the key set that verified it (ajwt_keyset_id(): a
 * set built anew, as fetched keys are, starts with no entries), so that the
 * next request with the same token skips base64url, JSON and the
 * signature. The time claims are read once, when the token is kept; the
 * caller checks them on every hit (ajwt_times_check).
 *
 * An entry also keeps what a claim policy without variables decided for
 * its token (the policy and the token are immutable, so is the decision),
 * for the policy checks to replay.
 */


#ifndef _NGX_HTTP_AUTH_JWT_CACHE_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <ajwt.h>


/* tokens kept per worker unless auth_jwt_cache says otherwise */
#define NGX_HTTP_AUTH_JWT_CACHE_SIZE       1024

/* longer tokens are verified every time, never kept */
#define NGX_HTTP_AUTH_JWT_CACHE_MAX_TOKEN  4096


typedef struct ngx_http_auth_jwt_cache_s  ngx_http_auth_jwt_cache_t;

typedef struct {
    void                        *policy;     /* that decided, or NULL */
    ngx_uint_t                   failed;     /* first not holding, or the
                                                policy's count */
    ngx_int_t                    outcome;    /* AJWT_REQUIRE_* of failed */
} ngx_http_auth_jwt_decision_t;


ngx_http_auth_jwt_cache_t *ngx_http_auth_jwt_cache_create(ngx_conf_t *cf,
    ngx_uint_t max);
/*
 * *decision points into the entry: valid until the request next waits
 * (an entry is only evicted by another request's put); NULL if none.
 */
ngx_int_t ngx_http_auth_jwt_cache_get(ngx_http_auth_jwt_cache_t *cache,
    uint64_t keys, ngx_str_t *token, uint32_t *hash,
    ngx_pool_t *pool, ajwt_token_t *out, ajwt_times_t *times,
    ngx_http_auth_jwt_decision_t **decision);
ngx_http_auth_jwt_decision_t *ngx_http_auth_jwt_cache_put(
    ngx_http_auth_jwt_cache_t *cache, uint64_t keys, ngx_str_t *token,
    uint32_t hash, ajwt_token_t *verified, ngx_log_t *log);


#endif /* _NGX_HTTP_AUTH_JWT_CACHE_H_INCLUDED_ */
