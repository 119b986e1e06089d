
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Keys fetched from the issuer (auth_jwt_key_request, auth_jwt_key_cache):
 * a subrequest returns a JWKS (or kjdev's keyval object); the raw body is
 * kept in a shared memory zone with a generation, so that one fetch serves
 * every worker, and each worker parses it again only when the generation
 * changes. nginx's proxy module does the HTTP; the core (ajwt_keyset_add,
 * ajwt_keyset_add_keyval) reads the body, as it reads key files.
 */


#ifndef _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


/* auth_jwt_key_request directives a location may have */
#define NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS  8


typedef struct ngx_http_auth_jwt_keys_s  ngx_http_auth_jwt_keys_t;


extern ngx_module_t  ngx_http_auth_jwt_module;


/* the formats of a key file or a fetched body */
#define NGX_HTTP_AUTH_JWT_KEYS_JWKS    0     /* a JWKS, a JWK or PEM keys */
#define NGX_HTTP_AUTH_JWT_KEYS_KEYVAL  1     /* kjdev's: kid -> PEM key */


/* an auth_jwt_key_request */
typedef struct {
    ngx_http_complex_value_t     uri;
    ngx_uint_t                   format;     /* NGX_HTTP_AUTH_JWT_KEYS_* */
} ngx_http_auth_jwt_key_request_t;


/* a location's key sources */
typedef struct {
    ngx_array_t                 *requests;   /* of
                                                ngx_http_auth_jwt_key_request_t
                                              */
    ajwt_keyset_t               *file;       /* auth_jwt_key_file, or NULL */
    time_t                       period;     /* auth_jwt_key_cache */
} ngx_http_auth_jwt_key_sources_t;


/* one request's wait for keys; zeroed when the request starts */
typedef struct {
    ajwt_keyset_t               *own;        /* auth_jwt_key_cache 0 */
    ngx_msec_t                   deadline;
    ngx_uint_t                   fetches;    /* own fetches under way */
    unsigned                     waiting:1;
    unsigned                     own_done:1;
    unsigned                     refetch:1;  /* waits for an unknown kid */
    unsigned                     refetched:1;
} ngx_http_auth_jwt_keys_wait_t;


ngx_http_auth_jwt_keys_t *ngx_http_auth_jwt_keys_create(ngx_conf_t *cf);
ngx_int_t ngx_http_auth_jwt_keys_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_keys_t *keys);
void ngx_http_auth_jwt_keys_exit_process(ngx_http_auth_jwt_keys_t *keys);

/*
 * The keys to verify a request's token with. NGX_OK: *ks is the set (NULL:
 * no key could be had, KEYS_UNAVAILABLE); NGX_AGAIN: the request waits for
 * a fetch, and its phases run again when it may go on; NGX_ERROR. With w
 * NULL (a variable read before the access phase) nothing waits: NGX_DECLINED
 * where it would.
 */
ngx_int_t ngx_http_auth_jwt_keys_get(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w, ajwt_keyset_t **ks);

/*
 * After ks refused a token that names a kid it lacks: fetches the keys
 * again, at most once per NGX_HTTP_AUTH_JWT_REFETCH seconds per source.
 * NGX_AGAIN: the request waits for that fetch; NGX_DECLINED: the refusal
 * stands; NGX_ERROR.
 */
ngx_int_t ngx_http_auth_jwt_keys_refetch(ngx_http_request_t *r,
    ngx_http_auth_jwt_keys_t *keys, ngx_http_auth_jwt_key_sources_t *src,
    ngx_http_auth_jwt_keys_wait_t *w);

/*
 * Reads a file the configuration names (name, a full path) of at most max
 * bytes into cf->temp_pool, with its file information; NGX_ERROR with the
 * reason logged. The caller clears data holding secrets.
 */
ngx_int_t ngx_http_auth_jwt_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    off_t max, ngx_str_t *data, ngx_file_info_t *fi);

/*
 * Adds the keys of data, in format, to ks: ajwt_keyset_add() or
 * ajwt_keyset_add_keyval(), as they return.
 */
int ngx_http_auth_jwt_keys_parse(ajwt_keyset_t *ks, ngx_uint_t format,
    u_char *data, size_t len, char *err, size_t errlen);

/* the body filter's part: NGX_DECLINED when r is not a key request */
ngx_int_t ngx_http_auth_jwt_keys_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


#endif /* _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_ */
