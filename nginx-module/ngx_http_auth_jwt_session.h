
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The session check and revocation lookups of a request: one "gets" per
 * memcached server for all of the request's keys, then a "cas" when the
 * core says a touch is due. What a record or a reply means is the core's
 * (ajwt_session_*, ajwt_revocation_decide); the bytes move through the
 * pipelined client of ngx_http_auth_jwt_memcached.c.
 */


#ifndef _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>

#include "ngx_http_auth_jwt_memcached.h"


/* auth_jwt_revocation keys a location may have */
#define NGX_HTTP_AUTH_JWT_MAX_REVOCATION_KEYS  (NGX_HTTP_AUTH_JWT_MAX_KEYS - 1)


/* one request's session check: inputs, then the verdict */
typedef struct {
    ngx_str_t                    key;        /* with "session" only */
    ngx_str_t                    fingerprint;
    time_t                       touch;
    ngx_str_t                   *revocation; /* revocation keys */
    ngx_uint_t                   nrevocation;
    ajwt_status_t                status;
    const char                  *reason;     /* static */
    unsigned                     session:1;
    unsigned                     pending:1;
    unsigned                     done:1;
} ngx_http_auth_jwt_session_t;


/*
 * NGX_OK: s->status is the verdict. NGX_AGAIN: the request is blocked on
 * memcached; when the verdict is in s, the request's phases run again.
 */
ngx_int_t ngx_http_auth_jwt_session_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_store_t *store, ngx_http_auth_jwt_session_t *s);


#endif /* _NGX_HTTP_AUTH_JWT_SESSION_H_INCLUDED_ */
