
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The session check's I/O: memcached, spoken on nginx's event loop.
 *
 * The decision about a record is the Swift core's (ajwt_session_decide);
 * this part only fetches the record, and writes back what the core
 * returns.
 */


#ifndef _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


#define NGX_HTTP_AUTH_JWT_STORE_TIMEOUT    250
#define NGX_HTTP_AUTH_JWT_KEEPALIVE        32


typedef struct ngx_http_auth_jwt_server_s  ngx_http_auth_jwt_server_t;


/* the memcached servers of auth_jwt_memcached */
typedef struct {
    ngx_array_t                  servers;    /* ngx_http_auth_jwt_server_t */
    ajwt_ring_t                 *ring;
    ngx_msec_t                   timeout;
    ngx_uint_t                   keepalive;  /* idle connections kept */
} ngx_http_auth_jwt_store_t;


/* one request's session check: inputs, then the verdict */
typedef struct {
    ngx_str_t                    key;
    ngx_str_t                    fingerprint;
    time_t                       touch;
    ajwt_status_t                status;
    const char                  *reason;     /* static */
    unsigned                     pending:1;
    unsigned                     done:1;
} ngx_http_auth_jwt_session_t;


ngx_http_auth_jwt_store_t *ngx_http_auth_jwt_store_create(ngx_conf_t *cf);
char *ngx_http_auth_jwt_store_add(ngx_conf_t *cf,
    ngx_http_auth_jwt_store_t *store, ngx_str_t *url);
char *ngx_http_auth_jwt_store_init(ngx_conf_t *cf,
    ngx_http_auth_jwt_store_t *store);
ngx_int_t ngx_http_auth_jwt_store_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_store_t *store);
void ngx_http_auth_jwt_store_exit_process(ngx_http_auth_jwt_store_t *store);

/*
 * NGX_OK: s->status is the verdict. NGX_AGAIN: the request is blocked on
 * memcached; when the verdict is in s, the request's phases run again.
 */
ngx_int_t ngx_http_auth_jwt_session_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_store_t *store, ngx_http_auth_jwt_session_t *s);


#endif /* _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_ */
