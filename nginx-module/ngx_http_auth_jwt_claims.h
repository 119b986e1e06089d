
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The claim policy of a location: auth_jwt_issuer, auth_jwt_audience,
 * auth_jwt_require_claim and auth_jwt_require_header (kjdev's syntax and
 * operators). The core compiles the requirements into one policy and
 * decides them (ajwt_policy_check); this part reads the directives, runs
 * "match" through nginx's PCRE with match limits, and says which check
 * failed.
 */


#ifndef _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>

#include "ngx_http_auth_jwt_cache.h"


typedef struct ngx_http_auth_jwt_requirement_s  ngx_http_auth_jwt_requirement_t;

typedef struct {
    /* each list of ngx_http_auth_jwt_requirement_t, inherited on its own */
    ngx_array_t                       *issuer;
    ngx_array_t                       *audience;
    ngx_array_t                       *headers;
    ngx_array_t                       *claims;

    /* the four lists in that order, compiled by the merge; NULL: none */
    ajwt_policy_t                     *compiled;
    ngx_http_auth_jwt_requirement_t  **requirements;
    ngx_uint_t                         count;
    ngx_uint_t                         per_request;  /* values from
                                                        variables */
    ngx_uint_t                         constant;     /* no variables: the
                                                        token decides */
} ngx_http_auth_jwt_policy_t;


void ngx_http_auth_jwt_policy_init(ngx_http_auth_jwt_policy_t *policy);
char *ngx_http_auth_jwt_policy_merge(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *prev, ngx_http_auth_jwt_policy_t *conf);

/* the setters; cmd->offset locates the list in the location's conf */
char *ngx_http_auth_jwt_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_auth_jwt_accepted(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Checks token against the policy. NGX_OK with *status AJWT_OK, or the
 * refusal (AJWT_INVALID_TOKEN or AJWT_FORBIDDEN) and a static *reason,
 * the failed check logged at info; NGX_ERROR. A constant policy replays
 * the decision kept with a cached token (decision, if not NULL), or keeps
 * its own there.
 */
ngx_int_t ngx_http_auth_jwt_policy_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_token_t *token,
    ngx_http_auth_jwt_decision_t *decision, ajwt_status_t *status,
    const char **reason);


#endif /* _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_ */
