
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Keys fetched from the issuer (auth_jwt_key_request, auth_jwt_key_cache):
 * a subrequest returns a JWKS (or kjdev's keyval object); the raw body is
 * kept in a shared memory zone with a generation, so that one fetch serves
 * every worker, and each worker parses it again only when the generation
 * changes. nginx's proxy module does the HTTP; the core (ajwt_keyset_add,
 * ajwt_keyset_add_keyval) reads the body, as it reads key files. What
 * another source of shared bodies uses too (key files named by variables,
 * _keyfile.c): the zone of named nodes, a worker's parsed sets and their
 * unions, and the key file reader.
 */


#ifndef _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_
#define _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <ajwt.h>


/* auth_jwt_key_request directives a location may have */
#define NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS  8

/* the largest key file */
#define NGX_HTTP_AUTH_JWT_MAX_KEY_FILE      (1024 * 1024)


/* the parts of a union of key sets: a key file's and the key requests' */
#define NGX_HTTP_AUTH_JWT_UNION_PARTS  (NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS + 1)

/* unions of key sets a worker keeps built */
#define NGX_HTTP_AUTH_JWT_UNIONS       16


typedef struct ngx_http_auth_jwt_keys_s  ngx_http_auth_jwt_keys_t;


/* the shared part of a zone of named sources (fetched keys, key files) */
typedef struct {
    ngx_rbtree_t                 rbtree;     /* of nodes by name */
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  lru;        /* most recently used first */
    uint64_t                     serial;     /* of the last node made */
    uint64_t                     generation; /* of the last body stored */
    ngx_uint_t                   nodes;
    size_t                       bytes;      /* of bodies */
} ngx_http_auth_jwt_shared_t;


/* a zone of named sources, as a configuration sees it */
typedef struct {
    ngx_shm_zone_t              *zone;
    ngx_slab_pool_t             *shpool;
    ngx_http_auth_jwt_shared_t  *sh;
} ngx_http_auth_jwt_zone_t;


/* a shared body (fetched keys, a key file) as a worker parsed it */
typedef struct {
    ngx_str_node_t               sn;         /* the source's name */
    ngx_queue_t                  queue;
    uint64_t                     serial;     /* of the shared node */
    uint64_t                     generation; /* of its body */
    ajwt_keyset_t               *set;
} ngx_http_auth_jwt_parsed_t;


/* key sets combined, by the ids of their parts */
typedef struct {
    uint64_t                     ids[NGX_HTTP_AUTH_JWT_UNION_PARTS];
    ngx_uint_t                   nids;
    ngx_uint_t                   used;
    ajwt_keyset_t               *set;
} ngx_http_auth_jwt_union_t;


/*
 * A worker's key sets: the bodies it parsed, by name, at most max (the
 * least recently installed go first), and the unions it built.
 */
typedef struct {
    ngx_rbtree_t                 tree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  lru;
    ngx_uint_t                   n;
    ngx_uint_t                   max;
    ngx_uint_t                   tick;
    ngx_http_auth_jwt_union_t    unions[NGX_HTTP_AUTH_JWT_UNIONS];
} ngx_http_auth_jwt_sets_t;


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


/*
 * A zeroed object of size bytes from cf->pool, whose first member is the
 * ngx_http_auth_jwt_zone_t of the zone name (zone_size bytes), added. The
 * zone outlives reloads, with what it holds; a full zone is no error: its
 * users evict the least recently used.
 */
void *ngx_http_auth_jwt_zone_create(ngx_conf_t *cf, size_t size,
    ngx_str_t *name, size_t zone_size);

/*
 * A new node of a zone (its sn and queue; its name copied to data) becomes
 * the zone's node of name, the most recently used; returns its serial,
 * never used before. The zone's lock is held, as for remove.
 */
uint64_t ngx_http_auth_jwt_zone_insert(ngx_http_auth_jwt_zone_t *z,
    ngx_str_node_t *sn, ngx_queue_t *queue, u_char *data, ngx_str_t *name,
    uint32_t hash);
void ngx_http_auth_jwt_zone_remove(ngx_http_auth_jwt_zone_t *z,
    ngx_str_node_t *sn, ngx_queue_t *queue);

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
 * Reads the file name (NUL-terminated) of at most max bytes into pool,
 * with its file information. NGX_DECLINED: larger than max; NGX_ABORT: not
 * a regular file (opened without blocking: a FIFO never blocks); NGX_ERROR:
 * *failed names the call that failed and *err its errno (0: none). The
 * caller clears data holding secrets.
 */
ngx_int_t ngx_http_auth_jwt_read_file(u_char *name, off_t max,
    ngx_pool_t *pool, ngx_str_t *data, ngx_file_info_t *fi,
    const char **failed, ngx_err_t *err);

/*
 * Adds the keys of data, in format, to ks: ajwt_keyset_add() or
 * ajwt_keyset_add_keyval(), as they return.
 */
int ngx_http_auth_jwt_keys_parse(ajwt_keyset_t *ks, ngx_uint_t format,
    u_char *data, size_t len, char *err, size_t errlen);

void ngx_http_auth_jwt_sets_init(ngx_http_auth_jwt_sets_t *sets,
    ngx_uint_t max);
void ngx_http_auth_jwt_sets_free(ngx_http_auth_jwt_sets_t *sets);
ngx_http_auth_jwt_parsed_t *ngx_http_auth_jwt_sets_find(
    ngx_http_auth_jwt_sets_t *sets, ngx_str_t *name, uint32_t hash);

/* set (owned from now on) becomes the worker's set of name */
void ngx_http_auth_jwt_sets_install(ngx_http_auth_jwt_sets_t *sets,
    ngx_str_t *name, uint64_t serial, uint64_t generation,
    ajwt_keyset_t *set);

/*
 * Parses copy (len bytes, ngx_alloc()ed; cleared and freed here), a zone's
 * body in format, into the worker's set of name; the zone holds only
 * bodies that parsed: NULL, logged, only without memory.
 */
ngx_http_auth_jwt_parsed_t *ngx_http_auth_jwt_sets_parse(
    ngx_http_auth_jwt_sets_t *sets, ngx_str_t *name, uint64_t serial,
    uint64_t generation, ngx_uint_t format, u_char *copy, size_t len,
    ngx_log_t *log);

/*
 * file and parts (n of them, at most NGX_HTTP_AUTH_JWT_UNION_PARTS in all)
 * as one set, kept by sets while it is in use; NULL when there is none.
 */
ajwt_keyset_t *ngx_http_auth_jwt_sets_union(ngx_http_auth_jwt_sets_t *sets,
    ajwt_keyset_t *file, ajwt_keyset_t **parts, ngx_uint_t n);

/* the body filter's part: NGX_DECLINED when r is not a key request */
ngx_int_t ngx_http_auth_jwt_keys_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


#endif /* _NGX_HTTP_AUTH_JWT_KEYS_H_INCLUDED_ */
