
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The claim policy of a location: auth_jwt_issuer, auth_jwt_audience,
 * auth_jwt_require_claim and auth_jwt_require_header (kjdev's syntax and
 * operators). The core decides what a requirement means
 * (ajwt_require_check); this part reads the directives, runs "match"
 * through nginx's PCRE with match limits, and says which check failed.
 */


#ifndef _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


/* each list of ngx_http_auth_jwt_requirement_t, inherited on its own */
typedef struct {
    ngx_array_t                 *issuer;
    ngx_array_t                 *audience;
    ngx_array_t                 *headers;
    ngx_array_t                 *claims;
} ngx_http_auth_jwt_policy_t;


void ngx_http_auth_jwt_policy_init(ngx_http_auth_jwt_policy_t *policy);
void ngx_http_auth_jwt_policy_merge(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *prev, ngx_http_auth_jwt_policy_t *conf);

/* the setters; cmd->offset locates the list in the location's conf */
char *ngx_http_auth_jwt_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_auth_jwt_accepted(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Checks token against the policy. NGX_OK with *status AJWT_OK, or the
 * refusal (AJWT_INVALID_TOKEN or AJWT_FORBIDDEN) and a static *reason,
 * the failed check logged at info; NGX_ERROR.
 */
ngx_int_t ngx_http_auth_jwt_policy_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_token_t *token,
    ajwt_status_t *status, const char **reason);


#endif /* _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_ */
