
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The module's counters (auth_jwt_status, auth_jwt_status_zone): lock-free
 * atomics in a shared memory zone, summed over the workers by sharing, and
 * shown as Prometheus text or JSON. Without auth_jwt_status anywhere there
 * is no zone, and every call below returns at once.
 */


#ifndef _NGX_HTTP_AUTH_JWT_STATUS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


/* counters of the whole module, for ngx_http_auth_jwt_status_add() */
#define NGX_HTTP_AUTH_JWT_STATUS_CACHE_HITS       0
#define NGX_HTTP_AUTH_JWT_STATUS_CACHE_MISSES     1
#define NGX_HTTP_AUTH_JWT_STATUS_CACHE_EVICTIONS  2
#define NGX_HTTP_AUTH_JWT_STATUS_CACHE_ENTRIES    3   /* a gauge */
#define NGX_HTTP_AUTH_JWT_STATUS_COUNTERS         4

/* counters of a memcached server, for ngx_http_auth_jwt_status_store() */
#define NGX_HTTP_AUTH_JWT_STATUS_REFUSED          0   /* errors by kind */
#define NGX_HTTP_AUTH_JWT_STATUS_RESET            1
#define NGX_HTTP_AUTH_JWT_STATUS_TIMEOUT          2
#define NGX_HTTP_AUTH_JWT_STATUS_UNREADABLE       3
#define NGX_HTTP_AUTH_JWT_STATUS_LOCAL            4
#define NGX_HTTP_AUTH_JWT_STATUS_ERRORS           5
#define NGX_HTTP_AUTH_JWT_STATUS_LOOKUPS          5
#define NGX_HTTP_AUTH_JWT_STATUS_TOUCHES          6
#define NGX_HTTP_AUTH_JWT_STATUS_CONFLICTS        7
#define NGX_HTTP_AUTH_JWT_STATUS_TRIPS            8
#define NGX_HTTP_AUTH_JWT_STATUS_OPEN             9   /* gauges */
#define NGX_HTTP_AUTH_JWT_STATUS_IDLE             10
#define NGX_HTTP_AUTH_JWT_STATUS_SERVER_COUNTERS  11

/* the kind of a failed send() or recv(), from its errno */
#define ngx_http_auth_jwt_status_io_error(err)                               \
    ((err) == NGX_ECONNREFUSED ? NGX_HTTP_AUTH_JWT_STATUS_REFUSED             \
                               : NGX_HTTP_AUTH_JWT_STATUS_RESET)


ngx_uint_t ngx_http_auth_jwt_status_server(ngx_conf_t *cf, ngx_str_t *name);

void ngx_http_auth_jwt_status_decision(ngx_http_request_t *r,
    ajwt_status_t status);
void ngx_http_auth_jwt_status_add(ngx_uint_t counter, ngx_atomic_int_t n);
void ngx_http_auth_jwt_status_store(ngx_uint_t server, ngx_uint_t counter,
    ngx_atomic_int_t n);
uint64_t ngx_http_auth_jwt_status_lookup(ngx_uint_t server);
void ngx_http_auth_jwt_status_replied(ngx_uint_t server, uint64_t *start);
void ngx_http_auth_jwt_status_keys(ngx_uint_t ok, size_t nkeys);


#endif /* _NGX_HTTP_AUTH_JWT_STATUS_H_INCLUDED_ */
