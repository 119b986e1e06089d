
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * The module's counters, as ngx_http_stub_status_module keeps nginx's: each
 * worker adds to ngx_atomic_t counters in shared memory with
 * ngx_atomic_fetch_add(), so that the status location shows the sum over
 * the workers without a lock. The zone exists only when some location has
 * auth_jwt_status; it is reused on reload (same name, same size), so the
 * counters continue. Labels are bounded: at most
 * NGX_HTTP_AUTH_JWT_STATUS_ZONES zone names and
 * NGX_HTTP_AUTH_JWT_STATUS_SERVERS memcached servers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>

#include "ngx_http_auth_jwt_status.h"


#define NGX_HTTP_AUTH_JWT_STATUS_ZONES     32
#define NGX_HTTP_AUTH_JWT_STATUS_SERVERS   32
#define NGX_HTTP_AUTH_JWT_STATUS_NAME      64
#define NGX_HTTP_AUTH_JWT_STATUS_BUCKETS   10   /* the last is +Inf */

/* the last status code of ajwt_status_t */
#define NGX_HTTP_AUTH_JWT_STATUS_CODES     (AJWT_TOKEN_REVOKED + 1)

/* the longest sample line, labels included, in either format */
#define NGX_HTTP_AUTH_JWT_STATUS_LINE  (256 + 2 * NGX_HTTP_AUTH_JWT_STATUS_NAME)


typedef struct {
    u_char                   name[NGX_HTTP_AUTH_JWT_STATUS_NAME];
    size_t                   len;
    ngx_atomic_t             decisions[NGX_HTTP_AUTH_JWT_STATUS_CODES];
} ngx_http_auth_jwt_status_zone_t;


typedef struct {
    u_char                   name[NGX_HTTP_AUTH_JWT_STATUS_NAME];
    size_t                   len;
    ngx_atomic_t             counters[NGX_HTTP_AUTH_JWT_STATUS_SERVER_COUNTERS];
    ngx_atomic_t             buckets[NGX_HTTP_AUTH_JWT_STATUS_BUCKETS];
    ngx_atomic_t             sum;          /* microseconds */
} ngx_http_auth_jwt_status_server_t;


/* the shared memory: zone 0 is the decisions of no auth_jwt_status_zone */
typedef struct {
    ngx_http_auth_jwt_status_zone_t    zones[NGX_HTTP_AUTH_JWT_STATUS_ZONES
                                             + 1];
    ngx_http_auth_jwt_status_server_t  servers[
                                           NGX_HTTP_AUTH_JWT_STATUS_SERVERS];
    ngx_atomic_t                       counters[
                                           NGX_HTTP_AUTH_JWT_STATUS_COUNTERS];
    ngx_atomic_t                       fetches[2];    /* failed, ok */
    ngx_atomic_t                       keys;
    ngx_atomic_t                       fetched;       /* unix time */
} ngx_http_auth_jwt_status_shm_t;


typedef struct {
    ngx_shm_zone_t          *shm_zone;     /* NULL: no auth_jwt_status */
    ngx_array_t              zones;        /* ngx_str_t, from zone 1 */
    ngx_array_t              servers;      /* ngx_str_t */
} ngx_http_auth_jwt_status_main_conf_t;


typedef struct {
    ngx_uint_t               zone;         /* 0: none */
} ngx_http_auth_jwt_status_loc_conf_t;


/* the output being written: Prometheus text, or JSON */
typedef struct {
    u_char                  *p;
    ngx_uint_t               json;
    ngx_uint_t               samples;      /* in the family, for commas */
    ngx_uint_t               families;
} ngx_http_auth_jwt_status_out_t;


typedef struct {
    char                               *name;
    char                               *type;
    char                               *help;
    ngx_uint_t                          counter;
} ngx_http_auth_jwt_status_metric_t;


static ngx_int_t ngx_http_auth_jwt_status_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_auth_jwt_status_wants_json(ngx_http_request_t *r);
static void ngx_http_auth_jwt_status_write(ngx_http_auth_jwt_status_out_t *o,
    ngx_http_auth_jwt_status_shm_t *shm);
static void ngx_http_auth_jwt_status_family(
    ngx_http_auth_jwt_status_out_t *o, char *name, char *type, char *help);
static void ngx_http_auth_jwt_status_sample(
    ngx_http_auth_jwt_status_out_t *o, char *name, ngx_str_t *labels,
    ngx_uint_t nlabels, ngx_atomic_int_t value, ngx_uint_t micro);
static void ngx_http_auth_jwt_status_end(ngx_http_auth_jwt_status_out_t *o);
static uint64_t ngx_http_auth_jwt_status_usec(void);
static ngx_int_t ngx_http_auth_jwt_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_auth_jwt_status_name(u_char *name, size_t *len,
    ngx_str_t *value, ngx_atomic_t *counters, size_t n);
static void *ngx_http_auth_jwt_status_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_auth_jwt_status_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_auth_jwt_status_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_auth_jwt_status_init_process(ngx_cycle_t *cycle);

static char *ngx_http_auth_jwt_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_auth_jwt_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_auth_jwt_status_commands[] = {

    { ngx_string("auth_jwt_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_auth_jwt_status,
      0,
      0,
      NULL },

    { ngx_string("auth_jwt_status_zone"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_auth_jwt_status_zone,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_auth_jwt_status_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_auth_jwt_status_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_auth_jwt_status_create_loc_conf, /* create location conf */
    ngx_http_auth_jwt_status_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_auth_jwt_status_module = {
    NGX_MODULE_V1,
    &ngx_http_auth_jwt_status_module_ctx,  /* module context */
    ngx_http_auth_jwt_status_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_auth_jwt_status_init_process, /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_auth_jwt_status_zone_name =
    ngx_string("auth_jwt_status");

/* the upper bounds of the lookup latency buckets, in microseconds */
static ngx_uint_t  ngx_http_auth_jwt_status_bounds[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000
};

static char  *ngx_http_auth_jwt_status_le[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "+Inf"
};

static char  *ngx_http_auth_jwt_status_errors[] = {
    "refused", "reset", "timeout", "unreadable", "local"
};


/*
 * The worker's view of the zone: set once per worker process, after fork,
 * from its cycle's configuration; NULL counts nothing. (stub_status keeps
 * its ngx_stat_* pointers the same way.)
 */
/* the per-server metrics with the server as their only label */
static ngx_http_auth_jwt_status_metric_t
    ngx_http_auth_jwt_status_server_metrics[] =
{
    { "auth_jwt_memcached_lookups_total", "counter",
      "Session lookups (gets) started, by memcached server.",
      NGX_HTTP_AUTH_JWT_STATUS_LOOKUPS },

    { "auth_jwt_memcached_touches_total", "counter",
      "Session touches (cas) sent, by memcached server.",
      NGX_HTTP_AUTH_JWT_STATUS_TOUCHES },

    { "auth_jwt_memcached_cas_conflicts_total", "counter",
      "Touches answered EXISTS: another request touched first.",
      NGX_HTTP_AUTH_JWT_STATUS_CONFLICTS },

    { "auth_jwt_memcached_trips_total", "counter",
      "Times a memcached server was marked down for 1-2 s.",
      NGX_HTTP_AUTH_JWT_STATUS_TRIPS },

    { "auth_jwt_memcached_connections_open", "gauge",
      "Open connections to memcached, idle ones included.",
      NGX_HTTP_AUTH_JWT_STATUS_OPEN },

    { "auth_jwt_memcached_connections_idle", "gauge",
      "Idle connections to memcached kept for the next lookup.",
      NGX_HTTP_AUTH_JWT_STATUS_IDLE },

    { NULL, NULL, NULL, 0 }
};


static ngx_http_auth_jwt_status_shm_t  *ngx_http_auth_jwt_status_shm;


static ngx_int_t
ngx_http_auth_jwt_status_handler(ngx_http_request_t *r)
{
    size_t                                 size;
    ngx_int_t                              rc;
    ngx_buf_t                             *b;
    ngx_uint_t                             i, n;
    ngx_chain_t                            out;
    ngx_http_auth_jwt_status_out_t         o;
    ngx_http_auth_jwt_status_shm_t        *shm;
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_auth_jwt_status_module);
    shm = smcf->shm_zone->data;

    ngx_memzero(&o, sizeof(ngx_http_auth_jwt_status_out_t));
    o.json = ngx_http_auth_jwt_status_wants_json(r);

    if (o.json) {
        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    /* a bound on the samples: the labels that have names, and the rest */

    n = 32;

    for (i = 0; i <= NGX_HTTP_AUTH_JWT_STATUS_ZONES; i++) {
        if (i == 0 || shm->zones[i].len) {
            n += NGX_HTTP_AUTH_JWT_STATUS_CODES + 2;
        }
    }

    for (i = 0; i < NGX_HTTP_AUTH_JWT_STATUS_SERVERS; i++) {
        if (shm->servers[i].len) {
            n += NGX_HTTP_AUTH_JWT_STATUS_SERVER_COUNTERS
                 + NGX_HTTP_AUTH_JWT_STATUS_BUCKETS + 16;
        }
    }

    size = n * NGX_HTTP_AUTH_JWT_STATUS_LINE;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o.p = b->last;
    ngx_http_auth_jwt_status_write(&o, shm);
    b->last = o.p;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


/* "?format=json", or an Accept header that names application/json */

static ngx_uint_t
ngx_http_auth_jwt_status_wants_json(ngx_http_request_t *r)
{
    u_char     *p;
    ngx_str_t   format;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        return format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0;
    }

#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)

    if (r->headers_in.accept == NULL) {
        return 0;
    }

    p = ngx_strlcasestrn(r->headers_in.accept->value.data,
                         r->headers_in.accept->value.data
                         + r->headers_in.accept->value.len,
                         (u_char *) "application/json",
                         sizeof("application/json") - 2);

    return p != NULL;

#else

    return 0;

#endif
}


static void
ngx_http_auth_jwt_status_write(ngx_http_auth_jwt_status_out_t *o,
    ngx_http_auth_jwt_status_shm_t *shm)
{
    ngx_str_t                           labels[4];
    ngx_uint_t                          i, k;
    ngx_atomic_int_t                    total;
    ngx_http_auth_jwt_status_zone_t    *zone;
    ngx_http_auth_jwt_status_metric_t  *m;
    ngx_http_auth_jwt_status_server_t  *server;

    if (o->json) {
        *o->p++ = '{';
    }

    ngx_http_auth_jwt_status_family(o, "auth_jwt_decisions_total", "counter",
        "Access decisions, by zone and status code.");

    ngx_str_set(&labels[0], "zone");
    ngx_str_set(&labels[2], "status");

    for (i = 0; i <= NGX_HTTP_AUTH_JWT_STATUS_ZONES; i++) {
        zone = &shm->zones[i];

        if (i && zone->len == 0) {
            continue;
        }

        labels[1].data = zone->name;
        labels[1].len = zone->len;

        for (k = 0; k < NGX_HTTP_AUTH_JWT_STATUS_CODES; k++) {
            labels[3].data = (u_char *) ajwt_status_name(k);
            labels[3].len = ngx_strlen(labels[3].data);

            ngx_http_auth_jwt_status_sample(o, "auth_jwt_decisions_total",
                                            labels, 2,
                                            zone->decisions[k], 0);
        }
    }

    ngx_http_auth_jwt_status_family(o, "auth_jwt_token_cache_hits_total",
        "counter", "Tokens found in the token cache.");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_token_cache_hits_total",
        NULL, 0, shm->counters[NGX_HTTP_AUTH_JWT_STATUS_CACHE_HITS], 0);

    ngx_http_auth_jwt_status_family(o, "auth_jwt_token_cache_misses_total",
        "counter", "Tokens looked up in the token cache and not found.");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_token_cache_misses_total",
        NULL, 0, shm->counters[NGX_HTTP_AUTH_JWT_STATUS_CACHE_MISSES], 0);

    ngx_http_auth_jwt_status_family(o,
        "auth_jwt_token_cache_evictions_total", "counter",
        "Tokens evicted from a full token cache.");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_token_cache_evictions_total",
        NULL, 0, shm->counters[NGX_HTTP_AUTH_JWT_STATUS_CACHE_EVICTIONS], 0);

    ngx_http_auth_jwt_status_family(o, "auth_jwt_token_cache_entries",
        "gauge", "Tokens in the token caches of all workers.");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_token_cache_entries",
        NULL, 0, shm->counters[NGX_HTTP_AUTH_JWT_STATUS_CACHE_ENTRIES], 0);

    ngx_str_set(&labels[0], "server");

    for (m = ngx_http_auth_jwt_status_server_metrics; m->name; m++) {
        ngx_http_auth_jwt_status_family(o, m->name, m->type, m->help);

        for (i = 0; i < NGX_HTTP_AUTH_JWT_STATUS_SERVERS; i++) {
            server = &shm->servers[i];

            if (server->len) {
                labels[1].data = server->name;
                labels[1].len = server->len;
                ngx_http_auth_jwt_status_sample(o, m->name, labels, 1,
                                                server->counters[m->counter],
                                                0);
            }
        }
    }

    ngx_http_auth_jwt_status_family(o,
        "auth_jwt_memcached_errors_total", "counter",
        "Failed exchanges with memcached, by server and kind.");

    ngx_str_set(&labels[2], "kind");

    for (i = 0; i < NGX_HTTP_AUTH_JWT_STATUS_SERVERS; i++) {
        server = &shm->servers[i];

        if (server->len == 0) {
            continue;
        }

        labels[1].data = server->name;
        labels[1].len = server->len;

        for (k = 0; k < NGX_HTTP_AUTH_JWT_STATUS_ERRORS; k++) {
            labels[3].data = (u_char *) ngx_http_auth_jwt_status_errors[k];
            labels[3].len = ngx_strlen(labels[3].data);

            ngx_http_auth_jwt_status_sample(o,
                "auth_jwt_memcached_errors_total", labels, 2,
                server->counters[k], 0);
        }
    }

    ngx_http_auth_jwt_status_family(o,
        "auth_jwt_memcached_lookup_duration_seconds", "histogram",
        "Time from a session lookup's start to memcached's reply.");

    ngx_str_set(&labels[2], "le");

    for (i = 0; i < NGX_HTTP_AUTH_JWT_STATUS_SERVERS; i++) {
        server = &shm->servers[i];

        if (server->len == 0) {
            continue;
        }

        labels[1].data = server->name;
        labels[1].len = server->len;

        total = 0;

        for (k = 0; k < NGX_HTTP_AUTH_JWT_STATUS_BUCKETS; k++) {
            total += server->buckets[k];

            labels[3].data = (u_char *) ngx_http_auth_jwt_status_le[k];
            labels[3].len = ngx_strlen(labels[3].data);

            ngx_http_auth_jwt_status_sample(o,
                "auth_jwt_memcached_lookup_duration_seconds_bucket",
                labels, 2, total, 0);
        }

        ngx_http_auth_jwt_status_sample(o,
            "auth_jwt_memcached_lookup_duration_seconds_sum", labels, 1,
            server->sum, 1);
        ngx_http_auth_jwt_status_sample(o,
            "auth_jwt_memcached_lookup_duration_seconds_count", labels, 1,
            total, 0);
    }

    ngx_http_auth_jwt_status_family(o, "auth_jwt_key_fetches_total",
        "counter", "Key requests (auth_jwt_key_request), by outcome.");

    ngx_str_set(&labels[0], "outcome");
    ngx_str_set(&labels[1], "ok");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_key_fetches_total",
                                    labels, 1, shm->fetches[1], 0);
    ngx_str_set(&labels[1], "failed");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_key_fetches_total",
                                    labels, 1, shm->fetches[0], 0);

    ngx_http_auth_jwt_status_family(o, "auth_jwt_keys_loaded", "gauge",
        "Keys in the last key request that succeeded.");
    ngx_http_auth_jwt_status_sample(o, "auth_jwt_keys_loaded", NULL, 0,
                                    shm->keys, 0);

    ngx_http_auth_jwt_status_family(o,
        "auth_jwt_key_last_fetch_timestamp_seconds", "gauge",
        "Unix time of the last key request that succeeded (0: never).");
    ngx_http_auth_jwt_status_sample(o,
        "auth_jwt_key_last_fetch_timestamp_seconds", NULL, 0,
        shm->fetched, 0);

    ngx_http_auth_jwt_status_end(o);

    if (o->json) {
        *o->p++ = '}';
        *o->p++ = LF;
    }
}


static void
ngx_http_auth_jwt_status_family(ngx_http_auth_jwt_status_out_t *o,
    char *name, char *type, char *help)
{
    if (!o->json) {
        o->p = ngx_sprintf(o->p, "# HELP %s %s\n# TYPE %s %s\n",
                           name, help, name, type);
        return;
    }

    ngx_http_auth_jwt_status_end(o);

    o->p = ngx_sprintf(o->p, "%s\"%s\":{\"type\":\"%s\",\"help\":\"%s\","
                       "\"samples\":[", o->families ? "," : "",
                       name, type, help);
    o->families++;
    o->samples = 1;
}


/*
 * labels: nlabels pairs of name and value. Label values are zone names
 * (checked at configuration: no quotes, backslashes or controls) and
 * server names as configured (a host and a port).
 */

static void
ngx_http_auth_jwt_status_sample(ngx_http_auth_jwt_status_out_t *o,
    char *name, ngx_str_t *labels, ngx_uint_t nlabels,
    ngx_atomic_int_t value, ngx_uint_t micro)
{
    ngx_uint_t  i;

    if (o->json) {
        o->p = ngx_sprintf(o->p, "%s{\"name\":\"%s\",\"labels\":{",
                           o->samples > 1 ? "," : "", name);

        for (i = 0; i < nlabels; i++) {
            o->p = ngx_sprintf(o->p, "%s\"%V\":\"%V\"", i ? "," : "",
                               &labels[2 * i], &labels[2 * i + 1]);
        }

        o->p = ngx_cpymem(o->p, "},\"value\":", sizeof("},\"value\":") - 1);
        o->samples++;

    } else {
        o->p = ngx_sprintf(o->p, "%s", name);

        for (i = 0; i < nlabels; i++) {
            o->p = ngx_sprintf(o->p, "%c%V=\"%V\"", i ? ',' : '{',
                               &labels[2 * i], &labels[2 * i + 1]);
        }

        o->p = ngx_cpymem(o->p, nlabels ? "} " : " ", nlabels ? 2 : 1);
    }

    if (micro) {
        o->p = ngx_sprintf(o->p, "%uA.%06uA", (ngx_atomic_uint_t) value
                                              / 1000000,
                           (ngx_atomic_uint_t) value % 1000000);

    } else {
        o->p = ngx_sprintf(o->p, "%A", value);
    }

    if (o->json) {
        *o->p++ = '}';

    } else {
        *o->p++ = LF;
    }
}


static void
ngx_http_auth_jwt_status_end(ngx_http_auth_jwt_status_out_t *o)
{
    if (o->json && o->families) {
        *o->p++ = ']';
        *o->p++ = '}';
    }
}


void
ngx_http_auth_jwt_status_decision(ngx_http_request_t *r,
    ajwt_status_t status)
{
    ngx_http_auth_jwt_status_loc_conf_t  *slcf;

    if (ngx_http_auth_jwt_status_shm == NULL
        || (ngx_uint_t) status >= NGX_HTTP_AUTH_JWT_STATUS_CODES)
    {
        return;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwt_status_module);

    (void) ngx_atomic_fetch_add(
        &ngx_http_auth_jwt_status_shm->zones[slcf->zone].decisions[status],
        1);
}


void
ngx_http_auth_jwt_status_add(ngx_uint_t counter, ngx_atomic_int_t n)
{
    if (ngx_http_auth_jwt_status_shm) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_auth_jwt_status_shm->counters[counter], n);
    }
}


void
ngx_http_auth_jwt_status_store(ngx_uint_t server, ngx_uint_t counter,
    ngx_atomic_int_t n)
{
    if (ngx_http_auth_jwt_status_shm
        && server < NGX_HTTP_AUTH_JWT_STATUS_SERVERS)
    {
        (void) ngx_atomic_fetch_add(
            &ngx_http_auth_jwt_status_shm->servers[server].counters[counter],
            n);
    }
}


/* counts a lookup; returns its start, for ..._replied(), 0: not timed */

uint64_t
ngx_http_auth_jwt_status_lookup(ngx_uint_t server)
{
    if (ngx_http_auth_jwt_status_shm == NULL
        || server >= NGX_HTTP_AUTH_JWT_STATUS_SERVERS)
    {
        return 0;
    }

    (void) ngx_atomic_fetch_add(&ngx_http_auth_jwt_status_shm
                                    ->servers[server]
                                    .counters[NGX_HTTP_AUTH_JWT_STATUS_LOOKUPS],
                                1);

    return ngx_http_auth_jwt_status_usec();
}


/* the lookup's first reply: observed once, *start is cleared */

void
ngx_http_auth_jwt_status_replied(ngx_uint_t server, uint64_t *start)
{
    uint64_t                            usec;
    ngx_uint_t                          k;
    ngx_http_auth_jwt_status_server_t  *s;

    if (*start == 0 || ngx_http_auth_jwt_status_shm == NULL) {
        return;
    }

    usec = ngx_http_auth_jwt_status_usec() - *start;
    *start = 0;

    for (k = 0; k < NGX_HTTP_AUTH_JWT_STATUS_BUCKETS - 1; k++) {
        if (usec <= ngx_http_auth_jwt_status_bounds[k]) {
            break;
        }
    }

    s = &ngx_http_auth_jwt_status_shm->servers[server];

    (void) ngx_atomic_fetch_add(&s->buckets[k], 1);
    (void) ngx_atomic_fetch_add(&s->sum, (ngx_atomic_int_t) usec);
}


void
ngx_http_auth_jwt_status_keys(ngx_uint_t ok, size_t nkeys)
{
    ngx_http_auth_jwt_status_shm_t  *shm;

    shm = ngx_http_auth_jwt_status_shm;

    if (shm == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&shm->fetches[ok ? 1 : 0], 1);

    if (ok) {
        shm->keys = nkeys;
        shm->fetched = ngx_time();
    }
}


/* a monotonic clock: nginx's cached time is too coarse for memcached */

static uint64_t
ngx_http_auth_jwt_status_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + 1;
}


/*
 * The zone of the previous cycle, when its size is the same, is kept as it
 * is: its counters continue. Zone and server names are given their slots
 * by position; a slot whose name changed starts from zero.
 */

static ngx_int_t
ngx_http_auth_jwt_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_str_t                             *names;
    ngx_uint_t                             i;
    ngx_slab_pool_t                       *shpool;
    ngx_http_auth_jwt_status_shm_t        *shm;
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    smcf = shm_zone->data;
    shm = data;

    if (shm == NULL) {
        shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        shm = ngx_slab_calloc(shpool, sizeof(ngx_http_auth_jwt_status_shm_t));
        if (shm == NULL) {
            return NGX_ERROR;
        }

        shpool->data = shm;
    }

    shm_zone->data = shm;

    names = smcf->zones.elts;

    for (i = 0; i < smcf->zones.nelts; i++) {
        ngx_http_auth_jwt_status_name(shm->zones[i + 1].name,
                                      &shm->zones[i + 1].len, &names[i],
                                      shm->zones[i + 1].decisions,
                                      NGX_HTTP_AUTH_JWT_STATUS_CODES);
    }

    names = smcf->servers.elts;

    for (i = 0; i < smcf->servers.nelts; i++) {
        ngx_http_auth_jwt_status_name(shm->servers[i].name,
                                      &shm->servers[i].len, &names[i],
                                      shm->servers[i].counters,
                                      NGX_HTTP_AUTH_JWT_STATUS_SERVER_COUNTERS
                                      + NGX_HTTP_AUTH_JWT_STATUS_BUCKETS + 1);
    }

    return NGX_OK;
}


/* counters: n ngx_atomic_t in a row, zeroed when the slot changes name */

static void
ngx_http_auth_jwt_status_name(u_char *name, size_t *len, ngx_str_t *value,
    ngx_atomic_t *counters, size_t n)
{
    size_t  i;

    if (*len == value->len && ngx_strncmp(name, value->data, *len) == 0) {
        return;
    }

    for (i = 0; i < n; i++) {
        counters[i] = 0;
    }

    ngx_memcpy(name, value->data, value->len);
    *len = value->len;
}


static void *
ngx_http_auth_jwt_status_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_auth_jwt_status_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->zones, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&smcf->servers, cf->pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_auth_jwt_status_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_auth_jwt_status_loc_conf_t  *slcf;

    slcf = ngx_palloc(cf->pool, sizeof(ngx_http_auth_jwt_status_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    slcf->zone = NGX_CONF_UNSET_UINT;

    return slcf;
}


static char *
ngx_http_auth_jwt_status_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_auth_jwt_status_loc_conf_t  *prev = parent;
    ngx_http_auth_jwt_status_loc_conf_t  *conf = child;

    ngx_conf_merge_uint_value(conf->zone, prev->zone, 0);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_auth_jwt_status_init_process(ngx_cycle_t *cycle)
{
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    ngx_http_auth_jwt_status_shm = NULL;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_auth_jwt_status_module);

    if (smcf && smcf->shm_zone) {
        ngx_http_auth_jwt_status_shm = smcf->shm_zone->data;
    }

    return NGX_OK;
}


/*
 * A memcached server of auth_jwt_memcached gets its slot, the index
 * returned, in the order of configuration; past the last slot a server is
 * not counted.
 */

ngx_uint_t
ngx_http_auth_jwt_status_server(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t                             *s;
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_auth_jwt_status_module);

    if (smcf->servers.nelts == NGX_HTTP_AUTH_JWT_STATUS_SERVERS) {
        return NGX_HTTP_AUTH_JWT_STATUS_SERVERS;
    }

    s = ngx_array_push(&smcf->servers);
    if (s == NULL) {
        return NGX_HTTP_AUTH_JWT_STATUS_SERVERS;
    }

    s->len = ngx_min(name->len, NGX_HTTP_AUTH_JWT_STATUS_NAME);
    s->data = name->data;

    return smcf->servers.nelts - 1;
}


static char *
ngx_http_auth_jwt_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t                                 size;
    ngx_http_core_loc_conf_t              *clcf;
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_auth_jwt_status_module);

    if (smcf->shm_zone == NULL) {
        size = ngx_align(sizeof(ngx_http_auth_jwt_status_shm_t),
                         ngx_pagesize)
               + 8 * ngx_pagesize;

        smcf->shm_zone = ngx_shared_memory_add(cf,
                                          &ngx_http_auth_jwt_status_zone_name,
                                          size,
                                          &ngx_http_auth_jwt_status_module);
        if (smcf->shm_zone == NULL) {
            return NGX_CONF_ERROR;
        }

        smcf->shm_zone->init = ngx_http_auth_jwt_status_init_zone;
        smcf->shm_zone->data = smcf;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_auth_jwt_status_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_auth_jwt_status_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_auth_jwt_status_loc_conf_t *slcf = conf;

    u_char                                *p;
    ngx_str_t                             *value, *name;
    ngx_uint_t                             i;
    ngx_http_auth_jwt_status_main_conf_t  *smcf;

    if (slcf->zone != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_AUTH_JWT_STATUS_NAME) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\": 1 to %d characters",
                           &value[1], NGX_HTTP_AUTH_JWT_STATUS_NAME);
        return NGX_CONF_ERROR;
    }

    /* a label value that needs no escaping in either format */

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone name \"%V\": letters, digits, "
                               "\"_\", \"-\", \".\" and \":\" only",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    smcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_auth_jwt_status_module);

    name = smcf->zones.elts;

    for (i = 0; i < smcf->zones.nelts; i++) {
        if (name[i].len == value[1].len
            && ngx_strncmp(name[i].data, value[1].data, value[1].len) == 0)
        {
            slcf->zone = i + 1;
            return NGX_CONF_OK;
        }
    }

    if (smcf->zones.nelts == NGX_HTTP_AUTH_JWT_STATUS_ZONES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many auth_jwt_status_zone names: at most %d",
                           NGX_HTTP_AUTH_JWT_STATUS_ZONES);
        return NGX_CONF_ERROR;
    }

    name = ngx_array_push(&smcf->zones);
    if (name == NULL) {
        return NGX_CONF_ERROR;
    }

    *name = value[1];
    slcf->zone = smcf->zones.nelts;

    return NGX_CONF_OK;
}
