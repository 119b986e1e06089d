
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The claim policy of a location: auth_jwt_issuer, auth_jwt_audience,
 * auth_jwt_require_claim and auth_jwt_require_header (kjdev's syntax and
 * operators, with auth_jwt_allow_nested's names), and kjdev's
 * auth_jwt_revocation_list_sub and auth_jwt_revocation_list_kid. The core
 * compiles the requirements into one policy and decides them
 * (ajwt_policy_check); this part reads the directives, runs "match"
 * through nginx's PCRE with match limits, and says which check failed.
 */


#ifndef _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>

#include "ngx_http_auth_jwt_cache.h"


typedef struct ngx_http_auth_jwt_requirement_s  ngx_http_auth_jwt_requirement_t;

/* auth_jwt_allow_nested */
typedef struct {
    ajwt_str_t                         delimiter;
    ajwt_str_t                         quote;
    ngx_array_t                       *paths;   /* of ajwt_path_t *: the
                                                   auth_jwt_claim_set and
                                                   auth_jwt_header_set names
                                                   split, built at merge */
} ngx_http_auth_jwt_nested_t;

typedef struct {
    /* the revocation lists: a level adds its own to the inherited ones */
    ngx_array_t                       *revoked;

    /* each list of ngx_http_auth_jwt_requirement_t, inherited on its own */
    ngx_array_t                       *issuer;
    ngx_array_t                       *audience;
    ngx_array_t                       *headers;
    ngx_array_t                       *claims;

    ngx_http_auth_jwt_nested_t        *nested;  /* NULL: names as given */

    /* the five lists in that order, compiled by the merge; NULL: none */
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
char *ngx_http_auth_jwt_revocation_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_auth_jwt_allow_nested(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * The code of an "error=code" parameter: 400 to 599, but not nginx's own
 * 444 and 499; NGX_ERROR for anything else.
 */
ngx_int_t ngx_http_auth_jwt_error_code(ngx_str_t *arg);

/* a refusal's status as its HTTP code says: 401 INVALID_TOKEN, else
 * FORBIDDEN (a refusal by policy) */
#define ngx_http_auth_jwt_refusal(code)                                      \
    (((code) == NGX_HTTP_UNAUTHORIZED) ? AJWT_INVALID_TOKEN : AJWT_FORBIDDEN)

/*
 * Checks token against the policy. NGX_OK with *status AJWT_OK, or the
 * refusal, its HTTP code in *code (the directive's error=, 401 by default;
 * *status INVALID_TOKEN for 401, else FORBIDDEN) and a static *reason, the
 * failed check logged at info; NGX_ERROR. A constant policy replays the
 * decision kept with a cached token (decision, if not NULL), or keeps its
 * own there.
 */
ngx_int_t ngx_http_auth_jwt_policy_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_token_t *token,
    ngx_http_auth_jwt_decision_t *decision, ajwt_status_t *status,
    ngx_uint_t *code, const char **reason);


#endif /* _NGX_HTTP_AUTH_JWT_CLAIMS_H_INCLUDED_ */
