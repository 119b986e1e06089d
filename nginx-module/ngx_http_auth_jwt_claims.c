
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The claim policy: the checks after the signature. Every check is a
 * requirement (a path, an operator, an expected value); auth_jwt_issuer
 * and auth_jwt_audience are requirements on "iss" (in) and "aud" (any)
 * with the accepted values as a JSON array, and a revocation list is one
 * on "sub" or the header's "kid" (!in the names of the file's object, a
 * hashed set the core builds once).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_claims.h"
#include "ngx_http_auth_jwt_keys.h"


/* PCRE's budget per match: a pattern that backtracks past it fails */
#define NGX_HTTP_AUTH_JWT_MATCH_LIMIT    10000
#define NGX_HTTP_AUTH_JWT_DEPTH_LIMIT    1000

/* the longest pattern compiled per request (from a variable) */
#define NGX_HTTP_AUTH_JWT_MAX_PATTERN    1024


/* the outcomes of a policy this long fit on the stack */
#define NGX_HTTP_AUTH_JWT_OUTCOMES       16

/* the largest revocation list file read */
#define NGX_HTTP_AUTH_JWT_MAX_LIST       (64 * 1024 * 1024)

#define NGX_HTTP_AUTH_JWT_LISTS          5


struct ngx_http_auth_jwt_requirement_s {
    ajwt_requirement_t           core;       /* as the policy takes it */
    ngx_str_t                    name;       /* as configured */
    ngx_http_complex_value_t     value;
#if (NGX_PCRE)
    ngx_regex_t                 *regex;      /* a literal pattern */
#endif
    ngx_uint_t                   status;     /* error=, 401 by default */
    ngx_uint_t                   revocation; /* of a revocation list */
    const char                  *reason;     /* static */
};


static char *ngx_http_auth_jwt_policy_compile(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *policy);
static char *ngx_http_auth_jwt_policy_add(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *policy, ngx_http_auth_jwt_requirement_t *rq,
    ngx_uint_t nested);
static void ngx_http_auth_jwt_log_refusal(ngx_http_request_t *r,
    ngx_http_auth_jwt_requirement_t *rq, int rc);
static ngx_int_t ngx_http_auth_jwt_policy_values(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_str_t **values);
static int ngx_http_auth_jwt_match(ngx_http_request_t *r,
    ngx_http_auth_jwt_requirement_t *rq, ajwt_str_t raw);
static char *ngx_http_auth_jwt_read_list(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ajwt_nameset_t **set);
static ngx_http_auth_jwt_requirement_t *ngx_http_auth_jwt_requirement_add(
    ngx_conf_t *cf, ngx_command_t *cmd, ngx_array_t **list, ngx_str_t *name);
static char *ngx_http_auth_jwt_literal(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_auth_jwt_requirement_t *rq, ngx_str_t *text);
static ngx_int_t ngx_http_auth_jwt_pattern(ngx_str_t *value, ngx_uint_t json,
    ngx_pool_t *pool, ngx_str_t *pattern);
#if (NGX_PCRE)
static ngx_regex_t *ngx_http_auth_jwt_regex(ngx_str_t *value, ngx_uint_t json,
    ngx_pool_t *pool, ngx_str_t *err);
#endif
static void ngx_http_auth_jwt_path_cleanup(void *data);
static void ngx_http_auth_jwt_nameset_cleanup(void *data);
static void ngx_http_auth_jwt_policy_cleanup(void *data);


void
ngx_http_auth_jwt_policy_init(ngx_http_auth_jwt_policy_t *policy)
{
    policy->revoked = NGX_CONF_UNSET_PTR;
    policy->issuer = NGX_CONF_UNSET_PTR;
    policy->audience = NGX_CONF_UNSET_PTR;
    policy->headers = NGX_CONF_UNSET_PTR;
    policy->claims = NGX_CONF_UNSET_PTR;
    policy->nested = NGX_CONF_UNSET_PTR;
}


/*
 * nginx's rule: a level that sets a directive replaces what it inherits.
 * The issuer and the audience have directives of their own, so that a
 * location's requirements never drop them; a level whose requirements
 * replace inherited ones is warned about. Revocation lists add up, as in
 * kjdev: a level's lists are checked with the inherited ones.
 */

char *
ngx_http_auth_jwt_policy_merge(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *prev, ngx_http_auth_jwt_policy_t *conf)
{
    ngx_uint_t                        i;
    ngx_http_auth_jwt_requirement_t  *rq, *inherited;

    if (conf->revoked != NGX_CONF_UNSET_PTR
        && prev->revoked != NGX_CONF_UNSET_PTR && prev->revoked != NULL)
    {
        inherited = prev->revoked->elts;

        for (i = 0; i < prev->revoked->nelts; i++) {
            rq = ngx_array_push(conf->revoked);
            if (rq == NULL) {
                return NGX_CONF_ERROR;
            }

            *rq = inherited[i];
        }
    }

    if (conf->claims != NGX_CONF_UNSET_PTR
        && prev->claims != NGX_CONF_UNSET_PTR && prev->claims != NULL)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"auth_jwt_require_claim\" replaces the %ui "
                           "inherited from the enclosing level: repeat "
                           "those that still apply",
                           prev->claims->nelts);
    }

    if (conf->headers != NGX_CONF_UNSET_PTR
        && prev->headers != NGX_CONF_UNSET_PTR && prev->headers != NULL)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"auth_jwt_require_header\" replaces the %ui "
                           "inherited from the enclosing level: repeat "
                           "those that still apply",
                           prev->headers->nelts);
    }

    ngx_conf_merge_ptr_value(conf->revoked, prev->revoked, NULL);
    ngx_conf_merge_ptr_value(conf->issuer, prev->issuer, NULL);
    ngx_conf_merge_ptr_value(conf->audience, prev->audience, NULL);
    ngx_conf_merge_ptr_value(conf->headers, prev->headers, NULL);
    ngx_conf_merge_ptr_value(conf->claims, prev->claims, NULL);
    ngx_conf_merge_ptr_value(conf->nested, prev->nested, NULL);

    /* a level that sets none of them shares the compiled policy */

    if (prev->compiled
        && conf->revoked == prev->revoked
        && conf->issuer == prev->issuer && conf->audience == prev->audience
        && conf->headers == prev->headers && conf->claims == prev->claims
        && conf->nested == prev->nested)
    {
        conf->compiled = prev->compiled;
        conf->requirements = prev->requirements;
        conf->count = prev->count;
        conf->per_request = prev->per_request;
        conf->constant = prev->constant;

        return NGX_CONF_OK;
    }

    return ngx_http_auth_jwt_policy_compile(cf, conf);
}


/*
 * The names of auth_jwt_require_claim and auth_jwt_require_header are split
 * here, with the level's auth_jwt_allow_nested, wherever it was given: as
 * kjdev splits them with the location's setting, whatever the order of the
 * directives and the level they come from.
 */

static char *
ngx_http_auth_jwt_policy_compile(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *policy)
{
    ngx_uint_t                        i, j, n;
    ngx_array_t                      *lists[NGX_HTTP_AUTH_JWT_LISTS];
    ngx_pool_cleanup_t               *cln;
    ngx_http_auth_jwt_requirement_t  *rq;

    /* revocation lists first, as kjdev checks them */

    lists[0] = policy->revoked;
    lists[1] = policy->issuer;
    lists[2] = policy->audience;
    lists[3] = policy->headers;
    lists[4] = policy->claims;

    n = 0;

    for (i = 0; i < NGX_HTTP_AUTH_JWT_LISTS; i++) {
        n += lists[i] ? lists[i]->nelts : 0;
    }

    if (n == 0) {
        return NGX_CONF_OK;
    }

    policy->requirements = ngx_palloc(cf->pool,
                                n * sizeof(ngx_http_auth_jwt_requirement_t *));
    if (policy->requirements == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    policy->compiled = ajwt_policy_create();
    policy->constant = 1;
    cln->handler = ngx_http_auth_jwt_policy_cleanup;
    cln->data = policy->compiled;

    for (i = 0; i < NGX_HTTP_AUTH_JWT_LISTS; i++) {

        if (lists[i] == NULL) {
            continue;
        }

        rq = lists[i]->elts;

        for (j = 0; j < lists[i]->nelts; j++) {
            if (ngx_http_auth_jwt_policy_add(cf, policy, &rq[j], i >= 3)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_policy_add(ngx_conf_t *cf,
    ngx_http_auth_jwt_policy_t *policy, ngx_http_auth_jwt_requirement_t *rq,
    ngx_uint_t nested)
{
    int                  rc;
    char                 err[256];
    ajwt_path_t         *path;
    ajwt_requirement_t   core;

    core = rq->core;
    path = NULL;

    if (nested && policy->nested) {
        path = ajwt_path_parse_nested(rq->name.data, rq->name.len,
                                      policy->nested->delimiter,
                                      policy->nested->quote,
                                      err, sizeof(err));
        if (path == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" directive: invalid name \"%V\" with "
                               "\"auth_jwt_allow_nested\": %s",
                               rq->reason, &rq->name, err);
            return NGX_CONF_ERROR;
        }

        core.path = path;
    }

    /* literals were validated as each directive was read */

    rc = ajwt_policy_add(policy->compiled, &core);
    ajwt_path_free(path);

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" directive: invalid value for \"%V\"",
                           rq->reason, &rq->name);
        return NGX_CONF_ERROR;
    }

    if (rq->core.per_request) {
        policy->per_request = 1;
    }

    if (rq->value.lengths) {
        policy->constant = 0;
    }

    policy->requirements[policy->count++] = rq;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_auth_jwt_policy_check(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_token_t *token,
    ngx_http_auth_jwt_decision_t *decision, ajwt_status_t *status,
    ngx_uint_t *code, const char **reason)
{
    int                               rc;
    ngx_uint_t                        i;
    ajwt_str_t                       *values;
    ajwt_outcome_t                   *outcomes;
    ngx_http_auth_jwt_requirement_t  *rq;
    ajwt_outcome_t                    stack[NGX_HTTP_AUTH_JWT_OUTCOMES];

    *status = AJWT_OK;

    if (policy->compiled == NULL) {
        return NGX_OK;
    }

    if (!policy->constant) {
        decision = NULL;
    }

    if (decision && decision->policy == policy) {
        i = decision->failed;
        rc = decision->outcome;
        goto decided;
    }

    values = NULL;

    if (policy->per_request
        && ngx_http_auth_jwt_policy_values(r, policy, &values) != NGX_OK)
    {
        return NGX_ERROR;
    }

    outcomes = stack;

    if (policy->count > NGX_HTTP_AUTH_JWT_OUTCOMES) {
        outcomes = ngx_palloc(r->pool, policy->count * sizeof(ajwt_outcome_t));
        if (outcomes == NULL) {
            return NGX_ERROR;
        }
    }

    rc = AJWT_REQUIRE_HOLDS;

    for (i = ajwt_policy_check(policy->compiled, token->header,
                               token->payload, values, outcomes);
         i < policy->count;
         i++)
    {
        rc = outcomes[i].outcome;

        if (rc == AJWT_REQUIRE_DEFERRED) {
            rc = ngx_http_auth_jwt_match(r, policy->requirements[i],
                                         outcomes[i].value);
        }

        if (rc != AJWT_REQUIRE_HOLDS) {
            break;
        }
    }

    if (decision) {
        decision->policy = policy;
        decision->failed = i;
        decision->outcome = rc;
    }

decided:

    if (i == policy->count) {
        return NGX_OK;
    }

    rq = policy->requirements[i];

    ngx_http_auth_jwt_log_refusal(r, rq, rc);

    *code = rq->status;
    *status = ngx_http_auth_jwt_refusal(rq->status);
    *reason = rq->revocation ? "the token is revoked"
                             : "a claim requirement failed";

    return NGX_OK;
}


/* the check's name only: never the claim's value */

static void
ngx_http_auth_jwt_log_refusal(ngx_http_request_t *r,
    ngx_http_auth_jwt_requirement_t *rq, int rc)
{
    if (rq->revocation) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      (rc == AJWT_REQUIRE_FAILS)
                      ? "auth_jwt: %s: the token's \"%V\" is listed"
                      : "auth_jwt: %s: the token has no \"%V\" string, "
                        "which the list requires",
                      rq->reason, &rq->name);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_jwt: %s \"%V\" %s", rq->reason, &rq->name,
                  (rc == AJWT_REQUIRE_FAILS)
                  ? "does not hold"
                  : "cannot be checked (absent, or of another type)");
}


/* the expected values that come from variables, for this request */

static ngx_int_t
ngx_http_auth_jwt_policy_values(ngx_http_request_t *r,
    ngx_http_auth_jwt_policy_t *policy, ajwt_str_t **values)
{
    ngx_str_t                         value;
    ngx_uint_t                        i;
    ajwt_str_t                       *v;
    ngx_http_auth_jwt_requirement_t  *rq;

    v = ngx_pcalloc(r->pool, policy->count * sizeof(ajwt_str_t));
    if (v == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < policy->count; i++) {
        rq = policy->requirements[i];

        if (!rq->core.per_request || rq->core.op == AJWT_OP_MATCH) {
            continue;
        }

        if (ngx_http_complex_value(r, &rq->value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        v[i].data = value.data;
        v[i].len = value.len;
    }

    *values = v;

    return NGX_OK;
}


/* "match": the value, a string, against a PCRE pattern with match limits */

static int
ngx_http_auth_jwt_match(ngx_http_request_t *r,
    ngx_http_auth_jwt_requirement_t *rq, ajwt_str_t raw)
{
#if (NGX_PCRE)
    int                   rc;
    u_char               *p;
    ngx_str_t             subject, value, err;
    ngx_regex_t          *regex;
    u_char                errstr[NGX_MAX_CONF_ERRSTR];

    subject.data = (u_char *) raw.data;
    subject.len = raw.len;

    if (ngx_strlchr(subject.data, subject.data + subject.len, '\\')) {
        p = ngx_pnalloc(r->pool, raw.len + 1);
        if (p == NULL) {
            return AJWT_REQUIRE_INVALID;
        }

        subject.len = ajwt_json_unescape(raw, p);
        subject.data = p;
    }

    regex = rq->regex;

    if (regex == NULL) {
        if (ngx_http_complex_value(r, &rq->value, &value) != NGX_OK
            || value.len > NGX_HTTP_AUTH_JWT_MAX_PATTERN)
        {
            return AJWT_REQUIRE_INVALID;
        }

        err.len = NGX_MAX_CONF_ERRSTR;
        err.data = errstr;

        regex = ngx_http_auth_jwt_regex(&value, rq->core.json, r->pool, &err);

        if (regex == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_jwt: %s \"%V\": %V", rq->reason, &rq->name,
                          &err);
            return AJWT_REQUIRE_INVALID;
        }
    }

#if (NGX_PCRE2)
    {
        pcre2_match_data     *md;
        pcre2_match_context  *mc;

        md = pcre2_match_data_create(1, NULL);
        mc = pcre2_match_context_create(NULL);

        if (md == NULL || mc == NULL) {
            pcre2_match_data_free(md);
            pcre2_match_context_free(mc);
            return AJWT_REQUIRE_INVALID;
        }

        pcre2_set_match_limit(mc, NGX_HTTP_AUTH_JWT_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, NGX_HTTP_AUTH_JWT_DEPTH_LIMIT);

        rc = pcre2_match(regex, subject.data, subject.len, 0, 0, md, mc);

        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);

        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) {
            rc = NGX_REGEX_NO_MATCHED - 1000;
        }
    }
#else
    {
        pcre_extra  extra;

        ngx_memzero(&extra, sizeof(pcre_extra));

        extra.flags = PCRE_EXTRA_MATCH_LIMIT
                      | PCRE_EXTRA_MATCH_LIMIT_RECURSION;
        extra.match_limit = NGX_HTTP_AUTH_JWT_MATCH_LIMIT;
        extra.match_limit_recursion = NGX_HTTP_AUTH_JWT_DEPTH_LIMIT;

        rc = pcre_exec(regex->code, &extra, (const char *) subject.data,
                       subject.len, 0, 0, NULL, 0);

        if (rc == PCRE_ERROR_MATCHLIMIT || rc == PCRE_ERROR_RECURSIONLIMIT) {
            rc = NGX_REGEX_NO_MATCHED - 1000;
        }
    }
#endif

    if (rc == NGX_REGEX_NO_MATCHED - 1000) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: %s \"%V\": regex match limit reached",
                      rq->reason, &rq->name);
        return AJWT_REQUIRE_INVALID;
    }

    if (rc >= 0) {
        return rq->core.negate ? AJWT_REQUIRE_FAILS : AJWT_REQUIRE_HOLDS;
    }

    if (rc == NGX_REGEX_NO_MATCHED) {
        return rq->core.negate ? AJWT_REQUIRE_HOLDS : AJWT_REQUIRE_FAILS;
    }

    return AJWT_REQUIRE_INVALID;

#else

    return AJWT_REQUIRE_INVALID;

#endif
}


/*
 * auth_jwt_require_claim name operator $variable | json=value | string
 *     [error=code]; (and auth_jwt_require_header), kjdev's syntax: a
 * value from a variable or after "json=" is JSON text, any other a string.
 */

char *
ngx_http_auth_jwt_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                         *value, text;
    ajwt_str_t                         op;
    ngx_uint_t                         n;
    ngx_http_compile_complex_value_t   ccv;
    ngx_http_auth_jwt_requirement_t   *rq;
#if (NGX_PCRE)
    ngx_str_t                          err;
    u_char                             errstr[NGX_MAX_CONF_ERRSTR];
#endif

    value = cf->args->elts;
    n = cf->args->nelts;

    rq = ngx_http_auth_jwt_requirement_add(cf, cmd,
                        (ngx_array_t **) ((char *) conf + cmd->offset),
                        &value[1]);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    rq->core.on_header = (ngx_strcmp(cmd->name.data,
                                     "auth_jwt_require_header") == 0);
    rq->reason = (char *) cmd->name.data;

    if (n == 5) {
        rq->status = ngx_http_auth_jwt_error_code(&value[4]);

        if (rq->status == (ngx_uint_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" directive: invalid parameter \"%V\": "
                               "error=code is expected, a code from 400 to "
                               "599 other than 444 and 499",
                               &cmd->name, &value[4]);
            return NGX_CONF_ERROR;
        }
    }

    op.data = value[2].data;
    op.len = value[2].len;

    if (ajwt_op_parse(op, &rq->core.op, &rq->core.negate) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: unknown operator \"%V\": eq, "
                           "gt, ge, lt, le, in, any, match, each negated "
                           "with \"!\", or ne, nin, intersect, nintersect",
                           &cmd->name, &value[2]);
        return NGX_CONF_ERROR;
    }

    text = value[3];

    if (text.len && text.data[0] == '$') {
        rq->core.json = 1;

    } else if (text.len >= 5 && ngx_strncmp(text.data, "json=", 5) == 0) {
        rq->core.json = 1;
        text.data += 5;
        text.len -= 5;
    }

    if (text.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: empty value \"%V\"",
                           &cmd->name, &value[3]);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &text;
    ccv.complex_value = &rq->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (rq->core.op != AJWT_OP_MATCH) {
        return ngx_http_auth_jwt_literal(cf, cmd, rq, &text);
    }

#if (NGX_PCRE)

    /* a literal pattern is compiled once, and a bad one refused here */

    if (rq->value.lengths) {
        return NGX_CONF_OK;
    }

    err.len = NGX_MAX_CONF_ERRSTR;
    err.data = errstr;

    rq->regex = ngx_http_auth_jwt_regex(&text, rq->core.json, cf->pool,
                                        &err);

    if (rq->regex == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: %V",
                           &cmd->name, &err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive: \"match\" needs nginx built "
                       "with PCRE", &cmd->name);
    return NGX_CONF_ERROR;

#endif
}


/*
 * auth_jwt_issuer value ...; auth_jwt_audience value ...;: the claim
 * (cmd->post) in (iss) or sharing an element with (aud) the values, as
 * a JSON array built here.
 */

char *
ngx_http_auth_jwt_accepted(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                           *p;
    size_t                            len;
    ngx_str_t                        *value, name, array;
    ngx_uint_t                        i, j;
    ngx_array_t                     **list;
    ngx_http_compile_complex_value_t  ccv;
    ngx_http_auth_jwt_requirement_t  *rq;

    list = (ngx_array_t **) ((char *) conf + cmd->offset);

    if (*list != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    name.data = cmd->post;
    name.len = ngx_strlen(name.data);

    rq = ngx_http_auth_jwt_requirement_add(cf, cmd, list, &name);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    rq->core.op = (name.len == 3 && ngx_strncmp(name.data, "iss", 3) == 0)
                  ? AJWT_OP_IN : AJWT_OP_ANY;
    rq->core.json = 1;
    rq->reason = (char *) cmd->name.data;

    /* ["v1","v2"]: quotes and backslashes escaped, the rest as it is */

    len = sizeof("[]") - 1;

    for (i = 1; i < cf->args->nelts; i++) {
        len += value[i].len * 2 + sizeof("\"\",") - 1;
    }

    array.data = ngx_pnalloc(cf->pool, len);
    if (array.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = array.data;
    *p++ = '[';

    for (i = 1; i < cf->args->nelts; i++) {

        for (j = 0; j < value[i].len; j++) {
            if (value[i].data[j] < 0x20) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" directive: invalid value \"%V\"",
                                   &cmd->name, &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        if (i > 1) {
            *p++ = ',';
        }

        *p++ = '"';

        for (j = 0; j < value[i].len; j++) {
            if (value[i].data[j] == '"' || value[i].data[j] == '\\') {
                *p++ = '\\';
            }

            *p++ = value[i].data[j];
        }

        *p++ = '"';
    }

    *p++ = ']';
    array.len = p - array.data;

    /* a literal: no variables are read from it */

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &array;
    ccv.complex_value = &rq->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (rq->value.lengths) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes no variables", &cmd->name);
        return NGX_CONF_ERROR;
    }

    return ngx_http_auth_jwt_literal(cf, cmd, rq, &array);
}


/*
 * auth_jwt_revocation_list_sub file; auth_jwt_revocation_list_kid file;
 * (kjdev's): the file is a JSON object whose member names are revoked
 * "sub" claims or "kid" header values (cmd->post). A token whose value is
 * listed, or that has none (kjdev makes kid required), is refused.
 */

char *
ngx_http_auth_jwt_revocation_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                        *value, name;
    ajwt_nameset_t                   *set;
    ngx_http_auth_jwt_requirement_t  *rq;

    value = cf->args->elts;

    if (ngx_http_auth_jwt_read_list(cf, cmd, &value[1], &set)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    name.data = cmd->post;
    name.len = ngx_strlen(name.data);

    rq = ngx_http_auth_jwt_requirement_add(cf, cmd,
                        (ngx_array_t **) ((char *) conf + cmd->offset),
                        &name);
    if (rq == NULL) {
        return NGX_CONF_ERROR;
    }

    rq->core.on_header = (name.len == 3
                          && ngx_strncmp(name.data, "kid", 3) == 0);
    rq->core.op = AJWT_OP_IN;
    rq->core.negate = 1;
    rq->core.names = set;
    rq->revocation = 1;
    rq->reason = (char *) cmd->name.data;

    return NGX_CONF_OK;
}


/* the file's names as a set the core hashed, released with cf->pool */

static char *
ngx_http_auth_jwt_read_list(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ajwt_nameset_t **set)
{
    char                 err[256];
    ngx_str_t            file, data;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    file = *name;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_auth_jwt_conf_file(cf, &file, NGX_HTTP_AUTH_JWT_MAX_LIST,
                                    &data, &fi)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    *set = ajwt_nameset_parse(data.data, data.len, err, sizeof(err));

    if (*set == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid file \"%s\": %s",
                           &cmd->name, file.data, err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_auth_jwt_nameset_cleanup;
    cln->data = *set;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "auth_jwt: revocation list \"%s\": %uz names",
                   file.data, ajwt_nameset_count(*set));

    return NGX_CONF_OK;
}


/*
 * auth_jwt_allow_nested [delimiter=string] [quote=string]; (kjdev's): the
 * names of auth_jwt_require_claim, auth_jwt_require_header,
 * auth_jwt_claim_set and auth_jwt_header_set are split on the delimiter
 * (default "."), the quote (default '"') protecting a key that holds it.
 */

char *
ngx_http_auth_jwt_allow_nested(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                         err[256];
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ajwt_path_t                 *probe;
    ngx_http_auth_jwt_nested_t  *nested, **slot;

    slot = (ngx_http_auth_jwt_nested_t **) ((char *) conf + cmd->offset);

    if (*slot != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    nested = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwt_nested_t));
    if (nested == NULL) {
        return NGX_CONF_ERROR;
    }

    nested->delimiter.data = (u_char *) ".";
    nested->delimiter.len = 1;
    nested->quote.data = (u_char *) "\"";
    nested->quote.len = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "delimiter=", 10) == 0) {
            nested->delimiter.data = value[i].data + 10;
            nested->delimiter.len = value[i].len - 10;
            continue;
        }

        if (ngx_strncmp(value[i].data, "quote=", 6) == 0) {
            nested->quote.data = value[i].data + 6;
            nested->quote.len = value[i].len - 6;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid parameter \"%V\"",
                           &cmd->name, &value[i]);
        return NGX_CONF_ERROR;
    }

    /* the core says whether the two can split names */

    probe = ajwt_path_parse_nested((u_char *) "a", 1, nested->delimiter,
                                   nested->quote, err, sizeof(err));
    if (probe == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: %s",
                           &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    ajwt_path_free(probe);

    *slot = nested;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_auth_jwt_error_code(ngx_str_t *arg)
{
    ngx_int_t  code;

    if (arg->len < 6 || ngx_strncmp(arg->data, "error=", 6) != 0) {
        return NGX_ERROR;
    }

    code = ngx_atoi(arg->data + 6, arg->len - 6);

    if (code < 400 || code > 599 || code == 444 || code == 499) {
        return NGX_ERROR;
    }

    return code;
}


/*
 * A requirement's expected value: from variables, for each request, or a
 * literal, checked here so that a malformed one fails nginx -t on its line.
 */

static char *
ngx_http_auth_jwt_literal(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_auth_jwt_requirement_t *rq, ngx_str_t *text)
{
    ngx_int_t       rc;
    ajwt_policy_t  *probe;

    if (rq->value.lengths) {
        rq->core.per_request = 1;
        return NGX_CONF_OK;
    }

    rq->core.expected.data = text->data;
    rq->core.expected.len = text->len;

    probe = ajwt_policy_create();
    rc = ajwt_policy_add(probe, &rq->core);
    ajwt_policy_free(probe);

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid JSON value \"%V\"",
                           &cmd->name, text);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_http_auth_jwt_requirement_t *
ngx_http_auth_jwt_requirement_add(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **list, ngx_str_t *name)
{
    char                              err[256];
    ngx_pool_cleanup_t               *cln;
    ngx_http_auth_jwt_requirement_t  *rq;

    if (*list == NGX_CONF_UNSET_PTR) {
        *list = ngx_array_create(cf->pool, 2,
                                 sizeof(ngx_http_auth_jwt_requirement_t));
        if (*list == NULL) {
            return NULL;
        }
    }

    rq = ngx_array_push(*list);
    if (rq == NULL) {
        return NULL;
    }

    ngx_memzero(rq, sizeof(ngx_http_auth_jwt_requirement_t));

    rq->name = *name;
    rq->status = NGX_HTTP_UNAUTHORIZED;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    rq->core.path = ajwt_path_parse(name->data, name->len, err, sizeof(err));

    if (rq->core.path == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: invalid name \"%V\": %s",
                           &cmd->name, name, err);
        return NULL;
    }

    cln->handler = ngx_http_auth_jwt_path_cleanup;
    cln->data = (void *) rq->core.path;

    return rq;
}


/* a pattern given as JSON ($variable, json=) is one JSON string, decoded */

static ngx_int_t
ngx_http_auth_jwt_pattern(ngx_str_t *value, ngx_uint_t json, ngx_pool_t *pool,
    ngx_str_t *pattern)
{
    size_t      len;
    ajwt_str_t  text;

    if (!json) {
        *pattern = *value;
        return NGX_OK;
    }

    text.data = value->data;
    text.len = value->len;

    pattern->data = ngx_pnalloc(pool, value->len + 1);
    if (pattern->data == NULL) {
        return NGX_ERROR;
    }

    /* only one valid JSON string: an invalid escape never widens it */

    len = ajwt_json_string_decode(text, pattern->data);
    if (len == (size_t) -1) {
        return NGX_ERROR;
    }

    pattern->len = len;

    return NGX_OK;
}


#if (NGX_PCRE)

/*
 * The pattern of a "match" (a plain string, or one JSON string), compiled;
 * NULL with the reason in err (err->len bytes at err->data).
 */

static ngx_regex_t *
ngx_http_auth_jwt_regex(ngx_str_t *value, ngx_uint_t json, ngx_pool_t *pool,
    ngx_str_t *err)
{
    ngx_regex_compile_t  rgc;

    ngx_memzero(&rgc, sizeof(ngx_regex_compile_t));

    if (ngx_http_auth_jwt_pattern(value, json, pool, &rgc.pattern) != NGX_OK) {
        err->len = ngx_snprintf(err->data, err->len,
                                "invalid pattern \"%V\": one JSON string "
                                "expected", value)
                   - err->data;
        return NULL;
    }

    rgc.pool = pool;
    rgc.err = *err;

    if (ngx_regex_compile(&rgc) != NGX_OK) {
        *err = rgc.err;
        return NULL;
    }

    return rgc.regex;
}

#endif


static void
ngx_http_auth_jwt_path_cleanup(void *data)
{
    ajwt_path_free(data);
}


static void
ngx_http_auth_jwt_nameset_cleanup(void *data)
{
    ajwt_nameset_free(data);
}


static void
ngx_http_auth_jwt_policy_cleanup(void *data)
{
    ajwt_policy_free(data);
}
