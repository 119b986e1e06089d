
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Key files named by variables (auth_jwt_key_file conf/keys/$host.jwks):
 * read by the workers at request time, at most once per period per file,
 * kept as raw bytes with a generation in a shared memory zone of their own
 * (bounded in files and bytes, least recently used out), and parsed again
 * by a worker only when the generation changed, as fetched keys are.
 */


#ifndef _NGX_HTTP_AUTH_JWT_KEYFILE_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_KEYFILE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


typedef struct ngx_http_auth_jwt_keyfiles_s  ngx_http_auth_jwt_keyfiles_t;


/* the zone and the worker's parsed sets, for the whole http block */
ngx_http_auth_jwt_keyfiles_t *ngx_http_auth_jwt_keyfiles_create(
    ngx_conf_t *cf);
void ngx_http_auth_jwt_keyfiles_init_process(ngx_http_auth_jwt_keyfiles_t *kf);
void ngx_http_auth_jwt_keyfiles_exit_process(ngx_http_auth_jwt_keyfiles_t *kf);

/*
 * Adds the auth_jwt_key_file name (with variables) in format to *files (an
 * array created on first use); NGX_CONF_ERROR with the reason logged.
 */
char *ngx_http_auth_jwt_keyfile_add(ngx_conf_t *cf, ngx_array_t **files,
    ngx_str_t *name, ngx_uint_t format);

/*
 * The keys of a request: file (the key files read at configuration time,
 * or NULL) and those files names, as one set *ks, the worker's; period is
 * auth_jwt_key_cache (NGX_CONF_UNSET: the default). NGX_OK; NGX_DECLINED:
 * no key for this request, *status and *reason say why (a file missing or
 * a refused name: AJWT_INVALID_TOKEN; a file that cannot be used:
 * AJWT_KEYS_UNAVAILABLE); NGX_ERROR.
 */
ngx_int_t ngx_http_auth_jwt_keyfile_get(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_array_t *files, time_t period,
    ajwt_keyset_t *file, ajwt_keyset_t **ks, ajwt_status_t *status,
    const char **reason);


#endif /* _NGX_HTTP_AUTH_JWT_KEYFILE_H_INCLUDED_ */
