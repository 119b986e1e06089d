
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * A memcached client on nginx's event loop, for the session check and
 * revocation: commands of concurrent requests share a few kept-alive
 * connections per server, written together once per event-loop pass and
 * answered in order (memcached's text protocol replies in the order it
 * reads). It only moves and frames bytes; what a reply means is the
 * caller's, and the core's.
 */


#ifndef _NGX_HTTP_AUTH_JWT_MEMCACHED_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_MEMCACHED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


#define NGX_HTTP_AUTH_JWT_STORE_TIMEOUT      250
#define NGX_HTTP_AUTH_JWT_KEEPALIVE          32
#define NGX_HTTP_AUTH_JWT_CONNECTIONS        16
#define NGX_HTTP_AUTH_JWT_PIPELINE           32

/* keys one lookup asks for: a session and its revocation keys */
#define NGX_HTTP_AUTH_JWT_MAX_KEYS           9

/* the lookups merged into one "gets": its keys, and its line with "\r\n" */
#define NGX_HTTP_AUTH_JWT_GROUP_KEYS         64
#define NGX_HTTP_AUTH_JWT_GROUP_LINE         2048


typedef struct ngx_http_auth_jwt_server_s  ngx_http_auth_jwt_server_t;
typedef struct ngx_http_auth_jwt_mc_op_s   ngx_http_auth_jwt_mc_op_t;

typedef void (*ngx_http_auth_jwt_mc_handler_pt)(ngx_http_auth_jwt_mc_op_t *op);


/* the memcached servers of auth_jwt_memcached */
typedef struct {
    ngx_array_t                  servers;    /* ngx_http_auth_jwt_server_t */
    ajwt_ring_t                 *ring;
    ngx_msec_t                   timeout;
    ngx_uint_t                   keepalive;  /* idle connections kept */
    ngx_uint_t                   connections; /* open, per server */
    ngx_uint_t                   pipeline;   /* commands in flight, each */
} ngx_http_auth_jwt_store_t;


/* a server, and its connections in this worker */
struct ngx_http_auth_jwt_server_s {
    ngx_str_t                      name;      /* "host:port", as given */
    ngx_addr_t                     addr;
    ngx_http_auth_jwt_store_t     *store;
    ngx_queue_t                    conns;     /* ngx_http_auth_jwt_mc_conn_t */
    ngx_uint_t                     nconns;
    ngx_uint_t                     nidle;
    ngx_queue_t                    backlog;   /* ops waiting for room */
    time_t                         down;      /* failed: 503 until then */
    ngx_uint_t                     status;    /* its counters' slot */
};


#define NGX_HTTP_AUTH_JWT_MC_GETS    0
#define NGX_HTTP_AUTH_JWT_MC_CAS     1


/*
 * A command and its reply. The caller fills the command part (a lookup's
 * keys, a touch's whole command) and submits; the handler is called once,
 * with rc NGX_OK (the reply is in items or line) or NGX_ERROR (reason says
 * why; too_long is set when an item was longer than max_value). Lookups
 * queued together leave merged into one "gets".
 */
struct ngx_http_auth_jwt_mc_op_s {
    ngx_queue_t                  queue;      /* in a pipeline or a backlog */
    ngx_http_auth_jwt_server_t  *server;

    /* the command */
    ngx_uint_t                   type;       /* ..._MC_GETS, ..._MC_CAS */
    ngx_str_t                    command;    /* cas: whole, with "\r\n" */
    ajwt_str_t                  *keys;       /* gets: the keys, in order */
    ngx_uint_t                   nkeys;
    size_t                       max_value;  /* the same for all lookups */

    /* the reply */
    ngx_int_t                    rc;
    ajwt_mc_item_t               items[NGX_HTTP_AUTH_JWT_MAX_KEYS];
                                             /* valid in the handler only */
    ngx_str_t                    line;       /* cas: the reply line */
    const char                  *reason;     /* static */
    uint64_t                     too_long;   /* the length announced */

    ngx_http_auth_jwt_mc_handler_pt  handler;
    void                        *data;

    uint64_t                     start;      /* timed, for the counters */
    ngx_uint_t                   merged;     /* ops its reply answers */
    unsigned                     retried:1;
    unsigned                     solo:1;     /* was in an unreadable reply */
};


ngx_http_auth_jwt_store_t *ngx_http_auth_jwt_store_create(ngx_conf_t *cf);
char *ngx_http_auth_jwt_store_add(ngx_conf_t *cf,
    ngx_http_auth_jwt_store_t *store, ngx_str_t *url);
char *ngx_http_auth_jwt_store_init(ngx_conf_t *cf,
    ngx_http_auth_jwt_store_t *store);
ngx_int_t ngx_http_auth_jwt_store_init_process(ngx_cycle_t *cycle,
    ngx_http_auth_jwt_store_t *store);
void ngx_http_auth_jwt_store_exit_process(ngx_http_auth_jwt_store_t *store);

/* the server that holds key, as the core places it; or why the key is unusable */
ajwt_status_t ngx_http_auth_jwt_store_locate(ngx_http_auth_jwt_store_t *store,
    ngx_str_t *key, ngx_http_auth_jwt_server_t **server, const char **reason);

/*
 * Queues op on its server. NGX_OK: the handler will be called from the
 * event loop. NGX_DECLINED: the server failed within the last second, or
 * no connection could be had; op->reason says which, and the handler is
 * not called.
 */
ngx_int_t ngx_http_auth_jwt_mc_submit(ngx_http_auth_jwt_store_t *store,
    ngx_http_auth_jwt_mc_op_t *op);


#endif /* _NGX_HTTP_AUTH_JWT_MEMCACHED_H_INCLUDED_ */
