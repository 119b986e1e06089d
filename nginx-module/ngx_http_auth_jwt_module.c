
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Validates JSON Web Tokens in the access phase. The validation logic is
 * the Swift core behind ajwt.h; this file is the nginx shell around it:
 * directives, the access handler, the variables and the JSON rejection body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>

#include "ngx_http_auth_jwt_cache.h"
#include "ngx_http_auth_jwt_claims.h"
#include "ngx_http_auth_jwt_keyfile.h"
#include "ngx_http_auth_jwt_keys.h"
#include "ngx_http_auth_jwt_session.h"
#include "ngx_http_auth_jwt_status.h"


#define NGX_HTTP_AUTH_JWT_CLAIMS        0
#define NGX_HTTP_AUTH_JWT_HEADER        1
#define NGX_HTTP_AUTH_JWT_REFUSED       2


typedef struct {
    ngx_array_t                 *values;     /* of ngx_http_complex_value_t */
    ngx_uint_t                   status;     /* error=, 401 by default */
} ngx_http_auth_jwt_require_t;


typedef struct {
    ngx_http_auth_jwt_store_t   *store;      /* NULL: no auth_jwt_memcached */
    ngx_http_auth_jwt_cache_t   *cache;      /* where no auth_jwt_cache is */
    ngx_http_auth_jwt_keys_t    *keys;       /* NULL: no key requests */
    ngx_http_auth_jwt_keyfiles_t  *key_files; /* NULL: no key file names
                                                 with variables */
    ngx_array_t                 *paths;      /* ngx_http_auth_jwt_path_t *:
                                                auth_jwt_claim_set and
                                                auth_jwt_header_set */
} ngx_http_auth_jwt_main_conf_t;


typedef struct {
    ngx_http_complex_value_t    *realm;      /* NULL: auth_jwt off */
    ngx_http_complex_value_t    *token;      /* NULL: Authorization header */
    ajwt_keyset_t               *keys;       /* of auth_jwt_key_file */
    ngx_array_t                 *key_files;  /* auth_jwt_key_file names with
                                                variables */
    ngx_array_t                 *key_requests;
    time_t                       key_cache;
    ngx_http_auth_jwt_key_sources_t  sources; /* merged; requests NULL: none */
    ngx_http_auth_jwt_policy_t   policy;
    ngx_array_t                 *require;    /* ngx_http_auth_jwt_require_t */
    ngx_http_auth_jwt_cache_t   *cache;      /* NULL: auth_jwt_cache off */
    time_t                       leeway;
    ngx_uint_t                   type;       /* ajwt_type_t */
    ngx_http_complex_value_t    *challenge;  /* WWW-Authenticate: NULL off,
                                                &ngx_http_auth_jwt_bearer */

    ngx_http_complex_value_t    *session;    /* key=; NULL: session off */
    ngx_http_complex_value_t    *fingerprint;
    time_t                       touch;
    ngx_array_t                 *revocation; /* of ngx_http_complex_value_t;
                                                NULL: off */

    ngx_uint_t                   phase;      /* NGX_HTTP_ACCESS_PHASE or
                                                NGX_HTTP_PREACCESS_PHASE */
} ngx_http_auth_jwt_loc_conf_t;


/* the verdict on the request's token, made once per location configuration */
typedef struct {
    ngx_http_auth_jwt_loc_conf_t  *conf;     /* the configuration it is for */
    ajwt_token_t                   token;
    ngx_http_auth_jwt_decision_t  *decision; /* in the token cache */
    ajwt_status_t                  status;
    ngx_uint_t                     code;     /* error=; 0: the status's */
    const char                    *reason;   /* static, from the core */
    ngx_http_auth_jwt_keys_wait_t  keys;
    ngx_http_auth_jwt_session_t    session;
    unsigned                       keys_pending:1;  /* waits for keys */
    unsigned                       keys_deferred:1; /* the access phase
                                                       decides again */
    unsigned                       presented:1;
    unsigned                       verified:1;
    unsigned                       refused:1;  /* verified, then refused */
    unsigned                       rejected:1;
    unsigned                       json_body:1;
} ngx_http_auth_jwt_ctx_t;


/* the member path of an auth_jwt_claim_set or auth_jwt_header_set variable */
typedef struct {
    ajwt_str_t                  *names;
    ngx_uint_t                   nnames;
    ngx_uint_t                   part;       /* NGX_HTTP_AUTH_JWT_CLAIMS... */
    ngx_uint_t                   index;      /* in the main conf's paths */
} ngx_http_auth_jwt_path_t;


static ngx_conf_enum_t  ngx_http_auth_jwt_phases[] = {
    { ngx_string("preaccess"), NGX_HTTP_PREACCESS_PHASE },
    { ngx_string("access"), NGX_HTTP_ACCESS_PHASE },
    { ngx_null_string, 0 }
};


static ngx_int_t ngx_http_auth_jwt_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwt_preaccess_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwt_handler(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf);
static ngx_int_t ngx_http_auth_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_uint_t access,
    ngx_http_auth_jwt_ctx_t **ctxp);
static ngx_int_t ngx_http_auth_jwt_verify(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx,
    ajwt_keyset_t *keys, ngx_str_t *token);
static ngx_int_t ngx_http_auth_jwt_get_token(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_str_t *token);
static ngx_int_t ngx_http_auth_jwt_check_require(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_uint_t *code);
static ngx_int_t ngx_http_auth_jwt_reject(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx);
static ngx_uint_t ngx_http_auth_jwt_http_status(ngx_http_auth_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_auth_jwt_session_start(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx);
static ngx_int_t ngx_http_auth_jwt_get_ctx(ngx_http_request_t *r,
    ngx_http_auth_jwt_ctx_t **ctxp);
static void ngx_http_auth_jwt_ctx_cleanup(void *data);

static ngx_int_t ngx_http_auth_jwt_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwt_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);

static ngx_int_t ngx_http_auth_jwt_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwt_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_uint_t part, ajwt_str_t *names,
    ngx_uint_t nnames, ajwt_path_t *path, ngx_uint_t ignore_case);
static ngx_int_t ngx_http_auth_jwt_join(ngx_http_request_t *r,
    ajwt_str_t raw, u_char **p, size_t *len);
static ngx_int_t ngx_http_auth_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwt_nowtime_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwt_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len);

static ngx_int_t ngx_http_auth_jwt_add_variables(ngx_conf_t *cf);
static void *ngx_http_auth_jwt_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_auth_jwt_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_auth_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_auth_jwt_nested_paths(ngx_conf_t *cf,
    ngx_http_auth_jwt_nested_t *nested);
static ngx_int_t ngx_http_auth_jwt_init(ngx_conf_t *cf);
static void ngx_http_auth_jwt_keys_cleanup(void *data);
static void ngx_http_auth_jwt_path_cleanup(void *data);
static ngx_int_t ngx_http_auth_jwt_init_process(ngx_cycle_t *cycle);
static void ngx_http_auth_jwt_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_auth_jwt(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_auth_jwt_challenge(ngx_http_request_t *r,
    ngx_http_complex_value_t *challenge);
static char *ngx_http_auth_jwt_www_authenticate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_key_request(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_auth_jwt_key_format(ngx_conf_t *cf,
    ngx_command_t *cmd);
static char *ngx_http_auth_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_validate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_memcached(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_revocation(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwt_session(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_auth_jwt_param(ngx_conf_t *cf, ngx_str_t *arg,
    char *name, ngx_http_complex_value_t **cv);
static char *ngx_http_auth_jwt_compile(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_complex_value_t **cv);


static ngx_conf_enum_t  ngx_http_auth_jwt_types[] = {
    { ngx_string("signed"), AJWT_TYPE_SIGNED },
    { ngx_string("encrypted"), AJWT_TYPE_ENCRYPTED },
    { ngx_string("nested"), AJWT_TYPE_NESTED },
    { ngx_null_string, 0 }
};


/* the challenge "auth_jwt_www_authenticate on" builds from the realm */
static ngx_http_complex_value_t  ngx_http_auth_jwt_bearer;


static ngx_command_t  ngx_http_auth_jwt_commands[] = {

    { ngx_string("auth_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_auth_jwt,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_auth_jwt_key_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_key_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_auth_jwt_key_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_key_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, key_cache),
      NULL },

    { ngx_string("auth_jwt_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, type),
      &ngx_http_auth_jwt_types },

    { ngx_string("auth_jwt_www_authenticate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_http_auth_jwt_www_authenticate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, leeway),
      NULL },

    { ngx_string("auth_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_auth_jwt_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_require_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_auth_jwt_require_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.claims),
      NULL },

    { ngx_string("auth_jwt_require_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_auth_jwt_require_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.headers),
      NULL },

    { ngx_string("auth_jwt_allow_nested"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
                        |NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_auth_jwt_allow_nested,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.nested),
      NULL },

    { ngx_string("auth_jwt_revocation_list_sub"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_http_auth_jwt_revocation_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.revoked),
      "sub" },                                /* the claim */

    { ngx_string("auth_jwt_revocation_list_kid"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_http_auth_jwt_revocation_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.revoked),
      "kid" },                                /* the header member */

    { ngx_string("auth_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_auth_jwt_accepted,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.issuer),
      "iss" },                                /* the claim */

    { ngx_string("auth_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_auth_jwt_accepted,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, policy.audience),
      "aud" },

    { ngx_string("auth_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_auth_jwt_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_auth_jwt_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AUTH_JWT_CLAIMS,               /* the part the path is in */
      NULL },

    { ngx_string("auth_jwt_header_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_auth_jwt_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AUTH_JWT_HEADER,
      NULL },

    { ngx_string("auth_jwt_validate_sig"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_http_auth_jwt_validate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      "this module always verifies the signature; for a location that "
      "needs no token, write \"auth_jwt off\"" },

    { ngx_string("auth_jwt_validate_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_TAKE1,
      ngx_http_auth_jwt_validate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      "this module always checks \"exp\" when a token has one; for clock "
      "skew, set \"auth_jwt_leeway\", or have the issuer give tokens a "
      "later \"exp\"" },

    { ngx_string("auth_jwt_phase"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_auth_jwt_loc_conf_t, phase),
      &ngx_http_auth_jwt_phases },

    { ngx_string("auth_jwt_memcached"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_auth_jwt_memcached,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_session"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_auth_jwt_session,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("auth_jwt_revocation"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_auth_jwt_revocation,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_auth_jwt_module_ctx = {
    ngx_http_auth_jwt_add_variables,       /* preconfiguration */
    ngx_http_auth_jwt_init,                /* postconfiguration */

    ngx_http_auth_jwt_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_auth_jwt_create_loc_conf,     /* create location configuration */
    ngx_http_auth_jwt_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_auth_jwt_module = {
    NGX_MODULE_V1,
    &ngx_http_auth_jwt_module_ctx,         /* module context */
    ngx_http_auth_jwt_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_auth_jwt_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_auth_jwt_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_auth_jwt_vars[] = {

    { ngx_string("jwt_claim_"), NULL,
      ngx_http_auth_jwt_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("jwt_header_"), NULL,
      ngx_http_auth_jwt_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("jwt_refused_claim_"), NULL,
      ngx_http_auth_jwt_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("jwt_payload"), NULL,
      ngx_http_auth_jwt_payload_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwt_claims"), NULL,         /* kjdev's name */
      ngx_http_auth_jwt_payload_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwt_nowtime"), NULL,
      ngx_http_auth_jwt_nowtime_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("jwt_auth_status"), NULL,
      ngx_http_auth_jwt_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_auth_jwt_access_handler(ngx_http_request_t *r)
{
    ngx_http_auth_jwt_loc_conf_t  *ajlcf;

    ajlcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwt_module);

    if (ajlcf->realm == NULL || ajlcf->phase != NGX_HTTP_ACCESS_PHASE) {
        return NGX_DECLINED;
    }

    return ngx_http_auth_jwt_handler(r, ajlcf);
}


/*
 * auth_jwt_phase preaccess (kjdev's): the same check, before the access
 * phase, so that it runs for subrequests too (nginx runs no access phase
 * for them); "satisfy" does not apply. A pass lets the phase's other
 * handlers run.
 */

static ngx_int_t
ngx_http_auth_jwt_preaccess_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_auth_jwt_loc_conf_t  *ajlcf;

    ajlcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwt_module);

    if (ajlcf->realm == NULL || ajlcf->phase != NGX_HTTP_PREACCESS_PHASE) {
        return NGX_DECLINED;
    }

    rc = ngx_http_auth_jwt_handler(r, ajlcf);

    return (rc == NGX_OK) ? NGX_DECLINED : rc;
}


static ngx_int_t
ngx_http_auth_jwt_handler(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf)
{
    ngx_uint_t                code;
    ngx_http_auth_jwt_ctx_t  *ctx;

    if (ngx_http_auth_jwt_evaluate(r, ajlcf, 1, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->keys_pending || ctx->session.pending) {
        return NGX_AGAIN;
    }

    if (ctx->status == AJWT_OK && !ctx->session.done) {

        if (ngx_http_auth_jwt_check_require(r, ajlcf, &code) != NGX_OK) {
            return NGX_ERROR;
        }

        if (code) {
            ctx->status = ngx_http_auth_jwt_refusal(code);
            ctx->code = code;
            ctx->reason = "auth_jwt_require failed";

        } else if (ajlcf->session || ajlcf->revocation) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "auth_jwt: session check");

            if (ngx_http_auth_jwt_session_start(r, ajlcf, ctx) != NGX_OK) {
                return NGX_ERROR;
            }

            if (ctx->session.pending) {
                return NGX_AGAIN;
            }
        }
    }

    if (ctx->session.done) {
        /* the session's verdict, also when re-entered after the lookup */
        ctx->status = ctx->session.status;
        ctx->reason = ctx->session.reason;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: decision %s", ajwt_status_name(ctx->status));

    ngx_http_auth_jwt_status_decision(r, ctx->status);

    if (ctx->status != AJWT_OK) {
        return ngx_http_auth_jwt_reject(r, ajlcf, ctx);
    }

    return NGX_OK;
}


/*
 * Verifies the token once per location configuration: in the access phase,
 * or earlier when a variable is read in the rewrite phase ("if"). A location
 * change (rewrite ... last) brings a new configuration and a new verdict.
 * Only the access phase waits for keys being fetched; a verdict made
 * earlier without them is made again there.
 */

static ngx_int_t
ngx_http_auth_jwt_evaluate(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_uint_t access,
    ngx_http_auth_jwt_ctx_t **ctxp)
{
    ngx_int_t                         rc;
    ngx_str_t                         token;
    ajwt_keyset_t                    *keys;
    ngx_pool_cleanup_t               *cln;
    ngx_http_auth_jwt_ctx_t          *ctx;
    ngx_http_auth_jwt_keys_wait_t     wait;
    ngx_http_auth_jwt_main_conf_t    *amcf;
    ngx_http_auth_jwt_key_sources_t   sources;

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_jwt_module);

    if (ctx && ctx->conf == ajlcf
        && !((ctx->keys_pending || ctx->keys_deferred) && access))
    {
        *ctxp = ctx;
        return NGX_OK;
    }

    if (ctx) {
        /* a request waiting for keys keeps its place in the wait */

        ngx_memzero(&wait, sizeof(ngx_http_auth_jwt_keys_wait_t));

        if (ctx->conf == ajlcf) {
            wait = ctx->keys;
        }

        ngx_memzero(ctx, sizeof(ngx_http_auth_jwt_ctx_t));
        ctx->keys = wait;

    } else {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_auth_jwt_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        /* the cleanup keeps ctx findable after an internal redirect */

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_auth_jwt_ctx_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_auth_jwt_module);
    }

    ctx->conf = ajlcf;
    *ctxp = ctx;

    if (ngx_http_auth_jwt_get_token(r, ajlcf, &token) != NGX_OK) {
        return NGX_ERROR;
    }

    if (token.len == 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth_jwt: no token");

        ctx->status = AJWT_TOKEN_MISSING;
        ctx->reason = "no token in the request";
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: token of %uz bytes", token.len);

    ctx->presented = 1;
    keys = ajlcf->keys;
    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_jwt_module);

    if (ajlcf->key_files) {
        rc = ngx_http_auth_jwt_keyfile_get(r, amcf->key_files,
                                           ajlcf->key_files, ajlcf->key_cache,
                                           ajlcf->keys, &keys, &ctx->status,
                                           &ctx->reason);
        if (rc != NGX_OK) {
            return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
        }
    }

    if (ajlcf->sources.requests) {
        /* the key files of this request, with the fetched keys */
        sources = ajlcf->sources;
        sources.file = keys;

        rc = ngx_http_auth_jwt_keys_get(r, amcf->keys, &sources,
                                        access ? &ctx->keys : NULL, &keys);

        switch (rc) {

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_AGAIN:
            ctx->keys_pending = 1;
            return NGX_OK;

        case NGX_DECLINED:
            ctx->keys_deferred = 1;
            keys = NULL;
            break;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth_jwt: fetched keys: %uz%s",
                       keys ? ajwt_keyset_count(keys) : 0,
                       rc == NGX_DECLINED ? ", deferred" : "");

        if (keys == NULL) {
            ctx->status = AJWT_KEYS_UNAVAILABLE;
            ctx->reason = "no key could be fetched";
            ctx->keys_deferred = !access;
            return NGX_OK;
        }
    }

    if (ngx_http_auth_jwt_verify(r, ajlcf, ctx, keys, &token) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a kid the keys lack: the issuer may have published a new key */

    if (ctx->status == AJWT_INVALID_TOKEN && ajlcf->sources.requests
        && ajwt_keyset_lacks_kid(keys, token.data, token.len))
    {
        if (!access) {
            ctx->keys_deferred = 1;
            return NGX_OK;
        }

        rc = ngx_http_auth_jwt_keys_refetch(r, amcf->keys, &ajlcf->sources,
                                            &ctx->keys);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_AGAIN) {
            ctx->keys_pending = 1;
            return NGX_OK;
        }
    }

    if (ctx->status != AJWT_OK) {
        return NGX_OK;
    }

    /*
     * The claim policy is part of the verdict, so that no read of a claim,
     * in any phase, sees a token that fails it.
     */

    if (ngx_http_auth_jwt_policy_check(r, &ajlcf->policy, &ctx->token,
                                       ctx->decision, &ctx->status,
                                       &ctx->code, &ctx->reason)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: claim policy: %s", ajwt_status_name(ctx->status));

    ctx->verified = (ctx->status == AJWT_OK);
    ctx->refused = !ctx->verified;

    return NGX_OK;
}


/*
 * A token that verified against the same keys before, in this worker, is
 * decided from the cache: its time claims are checked again, the rest of
 * the verdict (base64url, JSON, signature) cannot have changed.
 */

static ngx_int_t
ngx_http_auth_jwt_verify(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx,
    ajwt_keyset_t *keys, ngx_str_t *token)
{
    u_char                     *scratch;
    size_t                      size;
    time_t                      now;
    uint32_t                    hash;
    ngx_int_t                   rc;
    uint64_t                    id;
    ajwt_times_t                times;
    ngx_http_auth_jwt_cache_t  *cache;

    now = ngx_time();
    hash = 0;
    ctx->decision = NULL;

    /* a token is cached for the keys and the type that accepted it */

    id = ajwt_keyset_id(keys) << 2 | ajlcf->type;

    /* keys fetched for one request only (auth_jwt_key_cache 0) are not
     * worth a cache entry */

    cache = (ajlcf->sources.requests && ajlcf->sources.period == 0)
            ? NULL : ajlcf->cache;

    if (cache) {
        rc = ngx_http_auth_jwt_cache_get(cache, id, token, &hash, r->pool,
                                         &ctx->token, &times, &ctx->decision);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "auth_jwt: token cache %s",
                       rc == NGX_OK ? "hit" : "miss");

        if (rc == NGX_OK) {
            ctx->status = ajwt_times_check(&times, now, ajlcf->leeway,
                                           &ctx->reason);
            return NGX_OK;
        }
    }

    size = ajwt_scratch_size(token->len);

    scratch = ngx_pnalloc(r->pool, size);
    if (scratch == NULL) {
        return NGX_ERROR;
    }

    ctx->status = ajwt_open(keys, ajlcf->type, token->data, token->len,
                            scratch, size, now, ajlcf->leeway,
                            &ctx->token, &ctx->reason);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "auth_jwt: verified against %uz keys: %s",
                   ajwt_keyset_count(keys), ajwt_status_name(ctx->status));

    /* only tokens that verified are kept: a failure is never cached */

    if (ctx->status == AJWT_OK && cache) {
        ctx->decision = ngx_http_auth_jwt_cache_put(cache, id, token, hash,
                                                    &ctx->token,
                                                    r->connection->log);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_jwt_get_token(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_str_t *token)
{
    u_char  *p, *last;

    if (ajlcf->token) {
        return ngx_http_complex_value(r, ajlcf->token, token);
    }

    ngx_str_null(token);

    if (r->headers_in.authorization == NULL) {
        return NGX_OK;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    if (last - p < (ssize_t) sizeof("Bearer ") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_OK;
    }

    p += sizeof("Bearer ") - 1;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/* *code: 0, or the HTTP code of the first directive that fails */

static ngx_int_t
ngx_http_auth_jwt_check_require(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_uint_t *code)
{
    ngx_str_t                     value;
    ngx_uint_t                    i, j;
    ngx_http_complex_value_t     *cv;
    ngx_http_auth_jwt_require_t  *rq;

    *code = 0;

    if (ajlcf->require == NULL) {
        return NGX_OK;
    }

    rq = ajlcf->require->elts;

    for (i = 0; i < ajlcf->require->nelts; i++) {

        cv = rq[i].values->elts;

        for (j = 0; j < rq[i].values->nelts; j++) {

            if (ngx_http_complex_value(r, &cv[j], &value) != NGX_OK) {
                return NGX_ERROR;
            }

            if (value.len == 0 || (value.len == 1 && value.data[0] == '0')) {
                *code = rq[i].status;
                return NGX_OK;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_jwt_reject(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         realm;
    ngx_uint_t        i, level, status;
    ngx_table_elt_t  *h;

    ctx->rejected = 1;
    status = ngx_http_auth_jwt_http_status(ctx);

    /*
     * No claim of a refused token may reach an upstream ("satisfy any",
     * an error_page that proxies): only $jwt_refused_claim_* shows them,
     * for the access log.
     */

    if (ctx->verified) {
        ctx->refused = 1;
        ctx->verified = 0;
    }

    /*
     * Reasons are static strings from the core: never token bytes or keys.
     * Client mistakes are logged at info; a store failure, or a record the
     * auth server wrote wrong, at error, the latter with its key.
     */

    switch (ctx->status) {

    case AJWT_SESSION_STORE_UNAVAILABLE:
    case AJWT_KEYS_UNAVAILABLE:
        level = NGX_LOG_ERR;
        break;

    case AJWT_INVALID_SESSION:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: %s: %s, key \"%V\"",
                      ajwt_status_name(ctx->status), ctx->reason,
                      &ctx->session.key);
        level = 0;
        break;

    default:
        level = NGX_LOG_INFO;
    }

    if (level) {
        ngx_log_error(level, r->connection->log, 0, "auth_jwt: %s: %s",
                      ajwt_status_name(ctx->status), ctx->reason);
    }

    if (status != NGX_HTTP_UNAUTHORIZED || ajlcf->challenge == NULL) {
        return status;
    }

    if (ajlcf->challenge != &ngx_http_auth_jwt_bearer) {
        return ngx_http_auth_jwt_challenge(r, ajlcf->challenge);
    }

    if (ngx_http_complex_value(r, ajlcf->realm, &realm) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("Bearer realm=\"\"") - 1 + realm.len;

    for (i = 0; i < realm.len; i++) {
        if (realm.data[i] == '"' || realm.data[i] == '\\') {
            len++;
        }
    }

    if (ctx->presented) {
        len += sizeof(", error=\"invalid_token\"") - 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = ngx_cpymem(p, "Bearer realm=\"", sizeof("Bearer realm=\"") - 1);

    /* realm is a quoted-string (RFC 9110): escape its quotes */

    for (i = 0; i < realm.len; i++) {
        if (realm.data[i] == '"' || realm.data[i] == '\\') {
            *p++ = '\\';
        }

        *p++ = realm.data[i];
    }

    *p++ = '"';

    if (ctx->presented) {
        p = ngx_cpymem(p, ", error=\"invalid_token\"",
                       sizeof(", error=\"invalid_token\"") - 1);
    }

    h->value.len = p - h->value.data;

#if (nginx_version >= 1023000)
    /*
     * nginx 1.23+ links the challenges; "satisfy any" clears them all by
     * following the links, so ours joins the ones already there
     */
    h->next = r->headers_out.www_authenticate;
#endif

    r->headers_out.www_authenticate = h;

    return NGX_HTTP_UNAUTHORIZED;
}


/* auth_jwt_www_authenticate string: the challenge as configured */

static ngx_int_t
ngx_http_auth_jwt_challenge(ngx_http_request_t *r,
    ngx_http_complex_value_t *challenge)
{
    ngx_str_t         value;
    ngx_table_elt_t  *h;

    if (ngx_http_complex_value(r, challenge, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value.len == 0) {
        return NGX_HTTP_UNAUTHORIZED;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value = value;

#if (nginx_version >= 1023000)
    h->next = r->headers_out.www_authenticate;
#endif

    r->headers_out.www_authenticate = h;

    return NGX_HTTP_UNAUTHORIZED;
}


/* auth_jwt_www_authenticate on | off | string (kjdev's) */

static char *
ngx_http_auth_jwt_www_authenticate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (ajlcf->challenge != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        ajlcf->challenge = &ngx_http_auth_jwt_bearer;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ajlcf->challenge = NULL;
        return NGX_CONF_OK;
    }

    ajlcf->challenge = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (ajlcf->challenge == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = ajlcf->challenge;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the refusal's HTTP code: a directive's error=, else the status's */

static ngx_uint_t
ngx_http_auth_jwt_http_status(ngx_http_auth_jwt_ctx_t *ctx)
{
    if (ctx->code) {
        return ctx->code;
    }

    switch (ctx->status) {

    case AJWT_OK:
        return NGX_HTTP_OK;

    case AJWT_FORBIDDEN:
        return NGX_HTTP_FORBIDDEN;

    case AJWT_SESSION_STORE_UNAVAILABLE:
    case AJWT_KEYS_UNAVAILABLE:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        return NGX_HTTP_UNAUTHORIZED;
    }
}


/* the session check and revocation, on memcached; ctx->session has its verdict */

static ngx_int_t
ngx_http_auth_jwt_session_start(ngx_http_request_t *r,
    ngx_http_auth_jwt_loc_conf_t *ajlcf, ngx_http_auth_jwt_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_uint_t                      i;
    ngx_http_complex_value_t       *cv;
    ngx_http_auth_jwt_session_t    *s;
    ngx_http_auth_jwt_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_auth_jwt_module);

    s = &ctx->session;

    if (ajlcf->session) {
        s->session = 1;
        s->touch = ajlcf->touch;

        if (ngx_http_complex_value(r, ajlcf->session, &s->key) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ajlcf->fingerprint
            && ngx_http_complex_value(r, ajlcf->fingerprint, &s->fingerprint)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ajlcf->revocation) {
        cv = ajlcf->revocation->elts;
        s->nrevocation = ajlcf->revocation->nelts;

        s->revocation = ngx_palloc(r->pool, s->nrevocation * sizeof(ngx_str_t));
        if (s->revocation == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < s->nrevocation; i++) {
            if (ngx_http_complex_value(r, &cv[i], &s->revocation[i]) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    rc = ngx_http_auth_jwt_session_check(r, amcf->store, s);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/*
 * The verdict the variables show: for the location's configuration when
 * auth_jwt is on there, else the last one made for the request.
 */

static ngx_int_t
ngx_http_auth_jwt_get_ctx(ngx_http_request_t *r,
    ngx_http_auth_jwt_ctx_t **ctxp)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_auth_jwt_loc_conf_t  *ajlcf;

    ajlcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwt_module);

    if (ajlcf->realm) {
        return ngx_http_auth_jwt_evaluate(r, ajlcf, 0, ctxp);
    }

    *ctxp = ngx_http_get_module_ctx(r, ngx_http_auth_jwt_module);

    if (*ctxp || !r->internal) {
        return NGX_OK;
    }

    /*
     * an internal redirect (error_page) or a subrequest (which shares the
     * main request's pool) finds the last verdict through its cleanup,
     * as the realip module does
     */

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_auth_jwt_ctx_cleanup) {
            *ctxp = cln->data;
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_http_auth_jwt_ctx_cleanup(void *data)
{
    /* nothing to free: the cleanup only marks where ctx is */
}


static ngx_int_t
ngx_http_auth_jwt_header_filter(ngx_http_request_t *r)
{
    ngx_http_auth_jwt_ctx_t  *ctx;

    /*
     * Our rejections return a status code, as nginx's own access modules
     * do, so that "satisfy", "auth_delay" and "error_page" keep working;
     * when nginx then sends its built-in page for it, the body becomes the
     * JSON one. An error_page redirect clears the ctx, so its page is
     * left alone.
     */

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_jwt_module);

    if (ctx == NULL
        || !ctx->rejected
        || r->err_status != ngx_http_auth_jwt_http_status(ctx))
    {
        return ngx_http_next_header_filter(r);
    }

    ctx->json_body = 1;

    r->headers_out.content_type_len = sizeof("application/json") - 1;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = sizeof("{\"status\":\"\"}") - 1
                                      + ngx_strlen(ajwt_status_name(
                                                                ctx->status));

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_auth_jwt_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                    len;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_uint_t                last;
    ngx_chain_t              *cl, out;
    const char               *name;
    ngx_http_auth_jwt_ctx_t  *ctx;

    rc = ngx_http_auth_jwt_keys_body_filter(r, in);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_jwt_module);

    if (ctx == NULL || !ctx->json_body) {
        return ngx_http_next_body_filter(r, in);
    }

    /* swallow nginx's page, send ours where it ends */

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    ctx->json_body = 0;

    name = ajwt_status_name(ctx->status);
    len = sizeof("{\"status\":\"\"}") - 1 + ngx_strlen(name);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->pos, "{\"status\":\"%s\"}", name);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


/*
 * $jwt_claim_<name> and $jwt_header_<name>: data is the variable's full
 * name. nginx lowercases variable names, so member names match ignoring
 * ASCII case.
 */

static ngx_int_t
ngx_http_auth_jwt_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t   *name = (ngx_str_t *) data;
    size_t       prefix;
    ngx_uint_t   part;
    ajwt_str_t   member;

    if (ngx_strncmp(name->data, "jwt_claim_", sizeof("jwt_claim_") - 1)
        == 0)
    {
        part = NGX_HTTP_AUTH_JWT_CLAIMS;
        prefix = sizeof("jwt_claim_") - 1;

    } else if (ngx_strncmp(name->data, "jwt_refused_claim_",
                           sizeof("jwt_refused_claim_") - 1)
               == 0)
    {
        part = NGX_HTTP_AUTH_JWT_REFUSED;
        prefix = sizeof("jwt_refused_claim_") - 1;

    } else {
        part = NGX_HTTP_AUTH_JWT_HEADER;
        prefix = sizeof("jwt_header_") - 1;
    }

    member.data = name->data + prefix;
    member.len = name->len - prefix;

    return ngx_http_auth_jwt_json_value(r, v, part, &member, 1, NULL, 1);
}


/*
 * auth_jwt_claim_set and auth_jwt_header_set: under the location's
 * auth_jwt_allow_nested, a single name is split as the merge split it
 */

static ngx_int_t
ngx_http_auth_jwt_path_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_auth_jwt_path_t  *path = (ngx_http_auth_jwt_path_t *) data;

    ajwt_path_t                   **split;
    ngx_http_auth_jwt_nested_t     *nested;
    ngx_http_auth_jwt_loc_conf_t   *ajlcf;

    ajlcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwt_module);
    nested = ajlcf->policy.nested;

    if (nested && nested->paths) {
        split = nested->paths->elts;

        if (split[path->index]) {
            return ngx_http_auth_jwt_json_value(r, v, path->part, NULL, 0,
                                                split[path->index], 0);
        }
    }

    return ngx_http_auth_jwt_json_value(r, v, path->part, path->names,
                                        path->nnames, NULL, 0);
}


/* the value at names, or at path when given */

static ngx_int_t
ngx_http_auth_jwt_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_uint_t part, ajwt_str_t *names,
    ngx_uint_t nnames, ajwt_path_t *path, ngx_uint_t ignore_case)
{
    ajwt_json_type_t          type;
    u_char                   *p;
    size_t                    len;
    ajwt_str_t                json, raw;
    ngx_http_auth_jwt_ctx_t  *ctx;

    if (ngx_http_auth_jwt_get_ctx(r, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL
        || !((part == NGX_HTTP_AUTH_JWT_REFUSED) ? ctx->refused
                                                 : ctx->verified))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    json = (part == NGX_HTTP_AUTH_JWT_HEADER) ? ctx->token.header
                                              : ctx->token.payload;

    type = path ? ajwt_json_get_path(json, path, &raw)
                : ajwt_json_get(json, names, nnames, ignore_case, &raw);

    switch (type) {

    case AJWT_JSON_ABSENT:
    case AJWT_JSON_NULL:
        v->not_found = 1;
        return NGX_OK;

    case AJWT_JSON_STRING:
        p = (u_char *) raw.data;
        len = raw.len;

        /* without escapes, the contents in the token's buffer are the value */

        if (ngx_strlchr(p, p + len, '\\') == NULL) {
            break;
        }

        p = ngx_pnalloc(r->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ajwt_json_unescape(raw, p);
        break;

    case AJWT_JSON_ARRAY:
        if (ngx_http_auth_jwt_join(r, raw, &p, &len) != NGX_OK) {
            return NGX_ERROR;
        }

        break;

    default:
        /* numbers and booleans as text, objects as JSON */
        p = (u_char *) raw.data;
        len = raw.len;
    }

    return ngx_http_auth_jwt_set_value(r, v, p, len);
}


/*
 * An array of scalars as NGINX Plus gives it, its elements separated by
 * commas; an array holding arrays or objects stays JSON text.
 */

static ngx_int_t
ngx_http_auth_jwt_join(ngx_http_request_t *r, ajwt_str_t raw, u_char **p,
    size_t *len)
{
    u_char  *out;
    size_t   n;

    out = ngx_pnalloc(r->pool, raw.len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    n = ajwt_json_join(raw, out);

    if (n == (size_t) -1) {
        *p = (u_char *) raw.data;
        *len = raw.len;
        return NGX_OK;
    }

    *p = out;
    *len = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_jwt_payload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_auth_jwt_ctx_t  *ctx;

    if (ngx_http_auth_jwt_get_ctx(r, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_auth_jwt_set_value(r, v, (u_char *) ctx->token.payload.data,
                                       ctx->token.payload.len);
}


static ngx_int_t
ngx_http_auth_jwt_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char               *name;
    ngx_http_auth_jwt_ctx_t  *ctx;

    if (ngx_http_auth_jwt_get_ctx(r, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = ajwt_status_name(ctx->status);

    return ngx_http_auth_jwt_set_value(r, v, (u_char *) name,
                                       ngx_strlen(name));
}


/* kjdev's $jwt_nowtime: the current time, in seconds since the Epoch */

static ngx_int_t
ngx_http_auth_jwt_nowtime_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%T", ngx_time()) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_jwt_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    u_char  *p;
    size_t   i;

    /*
     * Values go into upstream headers and logs: control characters
     * (escaped newlines in a claim, whitespace in raw JSON) become spaces,
     * so that no value can split a header line.
     */

    for (i = 0; i < len; i++) {
        if (data[i] < 0x20 || data[i] == 0x7f) {
            break;
        }
    }

    if (i < len) {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < len; i++) {
            p[i] = (data[i] < 0x20 || data[i] == 0x7f) ? ' ' : data[i];
        }

        data = p;
    }

    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_auth_jwt_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_auth_jwt_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_auth_jwt_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_auth_jwt_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwt_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->store = NULL;
     *     conf->cache = NULL;
     *     conf->keys = NULL;
     *     conf->paths = NULL;
     */

    return conf;
}


static void *
ngx_http_auth_jwt_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_auth_jwt_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwt_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->token = NULL;
     *     conf->fingerprint = NULL;
     *     conf->touch = 0;
     */

    conf->realm = NGX_CONF_UNSET_PTR;
    conf->session = NGX_CONF_UNSET_PTR;
    conf->revocation = NGX_CONF_UNSET_PTR;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->key_files = NGX_CONF_UNSET_PTR;
    conf->key_requests = NGX_CONF_UNSET_PTR;
    conf->key_cache = NGX_CONF_UNSET;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->cache = NGX_CONF_UNSET_PTR;

    ngx_http_auth_jwt_policy_init(&conf->policy);
    conf->leeway = NGX_CONF_UNSET;
    conf->type = NGX_CONF_UNSET_UINT;
    conf->challenge = NGX_CONF_UNSET_PTR;
    conf->phase = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_auth_jwt_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_auth_jwt_loc_conf_t  *prev = parent;
    ngx_http_auth_jwt_loc_conf_t  *conf = child;

    char                            err[256];
    ngx_http_auth_jwt_main_conf_t  *amcf;

    /* parameters are inherited with their directive */

    if (conf->realm == NGX_CONF_UNSET_PTR) {
        conf->realm = (prev->realm == NGX_CONF_UNSET_PTR) ? NULL
                                                          : prev->realm;
        conf->token = prev->token;
    }

    if (conf->session == NGX_CONF_UNSET_PTR) {
        conf->session = (prev->session == NGX_CONF_UNSET_PTR) ? NULL
                                                              : prev->session;
        conf->fingerprint = prev->fingerprint;
        conf->touch = prev->touch;
    }

    ngx_conf_merge_ptr_value(conf->revocation, prev->revocation, NULL);

    /* key files, read at configuration time or not, go together */

    if (conf->keys == NGX_CONF_UNSET_PTR
        && conf->key_files == NGX_CONF_UNSET_PTR)
    {
        conf->keys = prev->keys;
        conf->key_files = prev->key_files;
    }

    if (conf->keys == NGX_CONF_UNSET_PTR) {
        conf->keys = NULL;
    }

    if (conf->key_files == NGX_CONF_UNSET_PTR) {
        conf->key_files = NULL;
    }

    ngx_conf_merge_ptr_value(conf->key_requests, prev->key_requests, NULL);
    ngx_conf_merge_value(conf->key_cache, prev->key_cache, NGX_CONF_UNSET);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);
    if (ngx_http_auth_jwt_policy_merge(cf, &prev->policy, &conf->policy)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    conf->sources.requests = conf->key_requests;
    conf->sources.file = conf->keys;
    conf->sources.period = conf->key_cache;
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_uint_value(conf->type, prev->type, AJWT_TYPE_SIGNED);
    ngx_conf_merge_ptr_value(conf->challenge, prev->challenge,
                             &ngx_http_auth_jwt_bearer);
    ngx_conf_merge_uint_value(conf->phase, prev->phase,
                              NGX_HTTP_ACCESS_PHASE);

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwt_module);

    if (conf->policy.nested && conf->policy.nested->paths == NULL
        && amcf->paths
        && ngx_http_auth_jwt_nested_paths(cf, conf->policy.nested)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the levels without auth_jwt_cache share one cache of the default size */

    if (conf->cache == NGX_CONF_UNSET_PTR) {

        if (prev->cache != NGX_CONF_UNSET_PTR) {
            conf->cache = prev->cache;

        } else {
            if (amcf->cache == NULL) {
                amcf->cache = ngx_http_auth_jwt_cache_create(cf,
                                                NGX_HTTP_AUTH_JWT_CACHE_SIZE);
                if (amcf->cache == NULL) {
                    return NGX_CONF_ERROR;
                }
            }

            conf->cache = amcf->cache;
        }
    }

    /* never skip the signature check for want of a key */

    if (conf->realm && conf->keys == NULL && conf->key_files == NULL
        && conf->key_requests == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"auth_jwt\" is enabled but no "
                           "\"auth_jwt_key_file\" or "
                           "\"auth_jwt_key_request\" is configured for it");
        return NGX_CONF_ERROR;
    }

    /* keys from files are known now: they must serve the token type */

    if (conf->realm && conf->keys && conf->key_files == NULL
        && conf->key_requests == NULL
        && ajwt_keyset_check_type(conf->keys, conf->type, err, sizeof(err))
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the keys of this location cannot serve "
                           "\"auth_jwt_type %s\": %s",
                           ngx_http_auth_jwt_types[conf->type].name.data,
                           err);
        return NGX_CONF_ERROR;
    }

    if ((conf->session || conf->revocation) && amcf->store == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is enabled but no "
                           "\"auth_jwt_memcached\" is configured",
                           conf->session ? "auth_jwt_session"
                                         : "auth_jwt_revocation");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The names of auth_jwt_claim_set and auth_jwt_header_set (all read before
 * any merge, in the http block) split by an auth_jwt_allow_nested, once
 * for the levels that share it; a variable of several names is already a
 * path and keeps it (NULL).
 */

static char *
ngx_http_auth_jwt_nested_paths(ngx_conf_t *cf,
    ngx_http_auth_jwt_nested_t *nested)
{
    char                            err[256];
    ngx_uint_t                      i;
    ajwt_path_t                   **split;
    ngx_pool_cleanup_t             *cln;
    ngx_http_auth_jwt_path_t      **path;
    ngx_http_auth_jwt_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwt_module);

    nested->paths = ngx_array_create(cf->pool, amcf->paths->nelts,
                                     sizeof(ajwt_path_t *));
    if (nested->paths == NULL) {
        return NGX_CONF_ERROR;
    }

    path = amcf->paths->elts;

    for (i = 0; i < amcf->paths->nelts; i++) {
        split = ngx_array_push(nested->paths);
        if (split == NULL) {
            return NGX_CONF_ERROR;
        }

        *split = NULL;

        if (path[i]->nnames != 1) {
            continue;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        *split = ajwt_path_parse_nested(path[i]->names[0].data,
                                        path[i]->names[0].len,
                                        nested->delimiter, nested->quote,
                                        err, sizeof(err));
        if (*split == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" directive: invalid name \"%*s\" "
                               "with \"auth_jwt_allow_nested\": %s",
                               (path[i]->part == NGX_HTTP_AUTH_JWT_CLAIMS)
                               ? "auth_jwt_claim_set" : "auth_jwt_header_set",
                               path[i]->names[0].len, path[i]->names[0].data,
                               err);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_auth_jwt_path_cleanup;
        cln->data = *split;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_jwt_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_auth_jwt_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_auth_jwt_preaccess_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_auth_jwt_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_auth_jwt_body_filter;

    return NGX_OK;
}


static void
ngx_http_auth_jwt_keys_cleanup(void *data)
{
    ajwt_keyset_free(data);
}


static void
ngx_http_auth_jwt_path_cleanup(void *data)
{
    ajwt_path_free(data);
}


static ngx_int_t
ngx_http_auth_jwt_init_process(ngx_cycle_t *cycle)
{
    ngx_http_auth_jwt_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_auth_jwt_module);

    if (amcf == NULL) {
        return NGX_OK;
    }

    if (amcf->keys
        && ngx_http_auth_jwt_keys_init_process(cycle, amcf->keys) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->key_files) {
        ngx_http_auth_jwt_keyfiles_init_process(amcf->key_files);
    }

    if (amcf->store == NULL) {
        return NGX_OK;
    }

    return ngx_http_auth_jwt_store_init_process(cycle, amcf->store);
}


static void
ngx_http_auth_jwt_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_auth_jwt_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_auth_jwt_module);

    if (amcf && amcf->store) {
        ngx_http_auth_jwt_store_exit_process(amcf->store);
    }

    if (amcf && amcf->keys) {
        ngx_http_auth_jwt_keys_exit_process(amcf->keys);
    }

    if (amcf && amcf->key_files) {
        ngx_http_auth_jwt_keyfiles_exit_process(amcf->key_files);
    }
}


static char *
ngx_http_auth_jwt(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_str_t  *value;

    if (ajlcf->realm != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters with \"off\"";
        }

        ajlcf->realm = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_http_auth_jwt_compile(cf, &value[1], &ajlcf->realm)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    switch (ngx_http_auth_jwt_param(cf, &value[2], "token=", &ajlcf->token)) {

    case NGX_OK:
        if (ajlcf->token->lengths) {
            return NGX_CONF_OK;
        }

        /* fall through */

    case NGX_ERROR:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"token=\" must name a variable, "
                           "as in \"token=$http_x_auth_token\"");
        return NGX_CONF_ERROR;

    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }
}


/*
 * auth_jwt_key_file file [jwks | keyval];: "jwks" (kjdev's name) is what is
 * read by default, a JWKS, a JWK or PEM public keys; "keyval" is kjdev's
 * object of key IDs and PEM public keys
 */

static char *
ngx_http_auth_jwt_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    char                            err[256];
    ssize_t                         n;
    ngx_str_t                      *value, name, data;
    ngx_int_t                       format;
    ajwt_keyset_t                  *file;
    ngx_file_info_t                 fi;
    ngx_pool_cleanup_t             *cln;
    ngx_http_auth_jwt_main_conf_t  *amcf;

    value = cf->args->elts;
    name = value[1];

    format = ngx_http_auth_jwt_key_format(cf, cmd);
    if (format == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    /* a name with variables is read by the workers, at request time */

    if (ngx_http_script_variables_count(&name)) {
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_auth_jwt_module);

        if (amcf->key_files == NULL) {
            amcf->key_files = ngx_http_auth_jwt_keyfiles_create(cf);
            if (amcf->key_files == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        if (ajlcf->key_files == NGX_CONF_UNSET_PTR) {
            ajlcf->key_files = NULL;
        }

        return ngx_http_auth_jwt_keyfile_add(cf, &ajlcf->key_files, &name,
                                             format);
    }

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_auth_jwt_conf_file(cf, &name, NGX_HTTP_AUTH_JWT_MAX_KEY_FILE,
                                    &data, &fi)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ajlcf->keys == NGX_CONF_UNSET_PTR) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            ngx_explicit_memzero(data.data, data.len);
            return NGX_CONF_ERROR;
        }

        ajlcf->keys = ajwt_keyset_create();

        cln->handler = ngx_http_auth_jwt_keys_cleanup;
        cln->data = ajlcf->keys;
    }

    file = ajwt_keyset_create();

    n = ngx_http_auth_jwt_keys_parse(file, format, data.data, data.len, err,
                                     sizeof(err));

    /* the file may hold secrets: leave no copy behind */
    ngx_explicit_memzero(data.data, data.len);

    if (n < 0) {
        ajwt_keyset_free(file);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key file \"%s\": %s", name.data, err);
        return NGX_CONF_ERROR;
    }

    /* as ssh says of a private key others can read */

    if ((ngx_file_access(&fi) & S_IROTH)
        && ajwt_keyset_holds_private_keys(file))
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "key file \"%s\" holds decryption keys and is "
                           "readable by any user: chmod o-r it", name.data);
    }

    ajwt_keyset_add_set(ajlcf->keys, file);
    ajwt_keyset_free(file);

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_int_t                          format;
    ngx_str_t                         *value;
    ngx_http_auth_jwt_main_conf_t     *amcf;
    ngx_http_auth_jwt_key_request_t   *kr;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    format = ngx_http_auth_jwt_key_format(cf, cmd);
    if (format == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0
        || (value[1].data[0] != '/' && value[1].data[0] != '$'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid uri \"%V\": the uri "
                           "of a location is expected, as in \"/_jwks\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ajlcf->key_requests == NGX_CONF_UNSET_PTR) {
        ajlcf->key_requests = ngx_array_create(cf->pool, 1,
                                     sizeof(ngx_http_auth_jwt_key_request_t));
        if (ajlcf->key_requests == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ajlcf->key_requests->nelts == NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d \"%V\" directives at one level",
                           NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS, &cmd->name);
        return NGX_CONF_ERROR;
    }

    kr = ngx_array_push(ajlcf->key_requests);
    if (kr == NULL) {
        return NGX_CONF_ERROR;
    }

    kr->format = format;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &kr->uri;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the keys fetched live in one zone for the whole http block */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwt_module);

    if (amcf->keys == NULL) {
        amcf->keys = ngx_http_auth_jwt_keys_create(cf);
        if (amcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* the format parameter of a key directive, kjdev's names */

static ngx_int_t
ngx_http_auth_jwt_key_format(ngx_conf_t *cf, ngx_command_t *cmd)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (cf->args->nelts < 3 || ngx_strcmp(value[2].data, "jwks") == 0) {
        return NGX_HTTP_AUTH_JWT_KEYS_JWKS;
    }

    if (ngx_strcmp(value[2].data, "keyval") == 0) {
        return NGX_HTTP_AUTH_JWT_KEYS_KEYVAL;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive: invalid format \"%V\": \"jwks\" "
                       "or \"keyval\" is expected", &cmd->name, &value[2]);

    return NGX_ERROR;
}


static char *
ngx_http_auth_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i, n;
    ngx_http_complex_value_t          *cv;
    ngx_http_auth_jwt_require_t       *rq;
    ngx_http_compile_complex_value_t   ccv;

    if (ajlcf->require == NGX_CONF_UNSET_PTR) {
        ajlcf->require = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_auth_jwt_require_t));
        if (ajlcf->require == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rq = ngx_array_push(ajlcf->require);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    rq->status = NGX_HTTP_UNAUTHORIZED;

    /* each directive's code is its own (kjdev's rule) */

    if (ngx_strncmp(value[n].data, "error=", 6) == 0) {

        rq->status = ngx_http_auth_jwt_error_code(&value[n]);

        if (rq->status == (ngx_uint_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" directive: invalid \"%V\": a code "
                               "from 400 to 599 other than 444 and 499 is "
                               "expected", &cmd->name, &value[n]);
            return NGX_CONF_ERROR;
        }

        n--;
    }

    if (n == 0) {
        return "needs at least one value";
    }

    rq->values = ngx_array_create(cf->pool, n,
                                  sizeof(ngx_http_complex_value_t));
    if (rq->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i <= n; i++) {
        cv = ngx_array_push(rq->values);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * auth_jwt_validate_sig, auth_jwt_validate_exp (kjdev's): "on" is what this
 * module always does; "off" is refused, cmd->post saying why
 */

static char *
ngx_http_auth_jwt_validate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V off\" is not supported: %s",
                           &cmd->name, (char *) cmd->post);
        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be \"on\" or \"off\"",
                       &value[1], &cmd->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_auth_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_int_t   max;
    ngx_str_t  *value;

    if (ajlcf->cache != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ajlcf->cache = NULL;
        return NGX_CONF_OK;
    }

    max = ngx_atoi(value[1].data, value[1].len);
    if (max == NGX_ERROR || max == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" size \"%V\": a number of "
                           "tokens above 0, or \"off\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    ajlcf->cache = ngx_http_auth_jwt_cache_create(cf, max);
    if (ajlcf->cache == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                      *value, name;
    ngx_uint_t                      i;
    ngx_http_variable_t            *v;
    ngx_http_auth_jwt_path_t       *path, **slot;
    ngx_http_auth_jwt_main_conf_t  *amcf;

    value = cf->args->elts;
    name = value[1];

    if (name.len < 2 || name.data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    name.len--;
    name.data++;

    v = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    path = ngx_palloc(cf->pool, sizeof(ngx_http_auth_jwt_path_t));
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    path->part = cmd->offset;
    path->nnames = cf->args->nelts - 2;

    path->names = ngx_palloc(cf->pool, path->nnames * sizeof(ajwt_str_t));
    if (path->names == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < path->nnames; i++) {
        path->names[i].data = value[i + 2].data;
        path->names[i].len = value[i + 2].len;
    }

    /* auth_jwt_allow_nested splits the names at merge time */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwt_module);

    if (amcf->paths == NULL) {
        amcf->paths = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_auth_jwt_path_t *));
        if (amcf->paths == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    slot = ngx_array_push(amcf->paths);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = path;
    path->index = amcf->paths->nelts - 1;

    v->get_handler = ngx_http_auth_jwt_path_variable;
    v->data = (uintptr_t) path;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_memcached(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_main_conf_t *amcf = conf;

    char                       *rv;
    ngx_int_t                   n;
    ngx_str_t                  *value, s;
    ngx_uint_t                  i;
    ngx_http_auth_jwt_store_t  *store;

    if (amcf->store) {
        return "is duplicate";
    }

    store = ngx_http_auth_jwt_store_create(cf);
    if (store == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            store->timeout = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "keepalive=", 10) == 0) {
            n = ngx_atoi(value[i].data + 10, value[i].len - 10);
            if (n == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid keepalive \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            store->keepalive = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connections=", 12) == 0) {
            n = ngx_atoi(value[i].data + 12, value[i].len - 12);
            if (n == NGX_ERROR || n == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid connections \"%V\": "
                                   "at least 1", &value[i]);
                return NGX_CONF_ERROR;
            }

            store->connections = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "pipeline=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (n == NGX_ERROR || n == 0 || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid pipeline \"%V\": "
                                   "1 to 1024", &value[i]);
                return NGX_CONF_ERROR;
            }

            store->pipeline = n;
            continue;
        }

        rv = ngx_http_auth_jwt_store_add(cf, store, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    rv = ngx_http_auth_jwt_store_init(cf, store);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    amcf->store = store;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_revocation(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    ngx_int_t                  rc;
    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv, *slot;

    if (ajlcf->revocation != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters with \"off\"";
        }

        ajlcf->revocation = NULL;
        return NGX_CONF_OK;
    }

    if (cf->args->nelts - 1 > NGX_HTTP_AUTH_JWT_MAX_REVOCATION_KEYS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "takes at most %d keys",
                           NGX_HTTP_AUTH_JWT_MAX_REVOCATION_KEYS);
        return NGX_CONF_ERROR;
    }

    ajlcf->revocation = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_http_complex_value_t));
    if (ajlcf->revocation == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        cv = NULL;

        rc = ngx_http_auth_jwt_param(cf, &value[i], "key=", &cv);

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": expected "
                               "\"key=\", as in "
                               "\"key=revoked:jti:$jwt_claim_jti\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        slot = ngx_array_push(ajlcf->revocation);
        if (slot == NULL) {
            return NGX_CONF_ERROR;
        }

        *slot = *cv;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_session(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_auth_jwt_loc_conf_t *ajlcf = conf;

    time_t      touch;
    ngx_int_t   rc;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (ajlcf->session != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters with \"off\"";
        }

        ajlcf->session = NULL;
        return NGX_CONF_OK;
    }

    ajlcf->session = NULL;
    ajlcf->touch = 1;

    for (i = 1; i < cf->args->nelts; i++) {

        rc = ngx_http_auth_jwt_param(cf, &value[i], "key=", &ajlcf->session);

        if (rc == NGX_DECLINED) {
            rc = ngx_http_auth_jwt_param(cf, &value[i], "fingerprint=",
                                         &ajlcf->fingerprint);
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (rc == NGX_ERROR) {
            goto invalid;
        }

        if (ngx_strncmp(value[i].data, "touch=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            touch = ngx_parse_time(&s, 1);
            if (touch == (time_t) NGX_ERROR) {
                goto invalid;
            }

            ajlcf->touch = touch;
            continue;
        }

        goto invalid;
    }

    if (ajlcf->session == NULL) {
        return "needs \"key=\", as in \"key=$jwt_claim_tokenId\"";
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/*
 * A "name=value" parameter: NGX_DECLINED if arg is not one, NGX_OK with
 * its value compiled into *cv, NGX_ERROR for an empty or bad value.
 */

static ngx_int_t
ngx_http_auth_jwt_param(ngx_conf_t *cf, ngx_str_t *arg, char *name,
    ngx_http_complex_value_t **cv)
{
    size_t     len;
    ngx_str_t  value;

    len = ngx_strlen(name);

    if (arg->len < len || ngx_strncmp(arg->data, name, len) != 0) {
        return NGX_DECLINED;
    }

    value.data = arg->data + len;
    value.len = arg->len - len;

    if (value.len == 0
        || ngx_http_auth_jwt_compile(cf, &value, cv) != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_auth_jwt_compile(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_complex_value_t **cv)
{
    ngx_http_compile_complex_value_t  ccv;

    *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*cv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = *cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
