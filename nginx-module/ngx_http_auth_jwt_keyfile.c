
/*
 * Copyright (C) The nginx-auth-jwt authors
 *
 * Key files named by variables. Each file (its full path, and its format)
 * is a node in the "auth_jwt_key_files" zone: what the last read found
 * (keys, with the raw bytes and a generation that changes when they do;
 * no file; a file that cannot be used) and when. A request reads the file
 * only when the node has never been read, or when its period has passed
 * and no other worker is reading it: a plain blocking read of a small
 * local file, at most once per period per file for all the workers. Each
 * worker parses the bytes again only when the generation changed. The zone
 * is not the fetched keys' one, so that names a client chooses (Host)
 * never evict the issuer's keys. Times in the zone are ngx_current_msec, a
 * monotonic clock all workers share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_auth_jwt_keyfile.h"
#include "ngx_http_auth_jwt_keys.h"


#define NGX_HTTP_AUTH_JWT_KEYFILE_ZONE     (4 * 1024 * 1024)

/* the zone's bounds: distinct files, and bytes of files held */
#define NGX_HTTP_AUTH_JWT_KEYFILE_FILES    1024
#define NGX_HTTP_AUTH_JWT_KEYFILE_BYTES    (2 * 1024 * 1024)

/* files a worker keeps parsed */
#define NGX_HTTP_AUTH_JWT_KEYFILE_PARSED   256

/* variable auth_jwt_key_file directives a level may have */
#define NGX_HTTP_AUTH_JWT_KEYFILE_MAX      NGX_HTTP_AUTH_JWT_MAX_KEY_REQUESTS

/* a file is read again after this many seconds (auth_jwt_key_cache) */
#define NGX_HTTP_AUTH_JWT_KEYFILE_PERIOD   10

/* a read holds the other workers back at most this long, ms */
#define NGX_HTTP_AUTH_JWT_KEYFILE_HOLD     10000

#define ngx_http_auth_jwt_keyfile_past(now, t)                              \
    ((ngx_msec_int_t) ((now) - (t)) >= 0)


/* what a file's last read found */
typedef enum {
    NGX_HTTP_AUTH_JWT_KEYFILE_NEW = 0,       /* never read */
    NGX_HTTP_AUTH_JWT_KEYFILE_KEYS,          /* keys (maybe held from an
                                                earlier read) */
    NGX_HTTP_AUTH_JWT_KEYFILE_MISSING,       /* no such file */
    NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN         /* unreadable, too large, or
                                                no usable key */
} ngx_http_auth_jwt_keyfile_state_e;


/* an auth_jwt_key_file with variables */
typedef struct {
    ngx_http_complex_value_t         name;
    ngx_uint_t                       format;
} ngx_http_auth_jwt_keyfile_t;


/* a file, in the zone */
typedef struct {
    ngx_str_node_t                   sn;         /* format letter, path */
    ngx_queue_t                      queue;
    uint64_t                         serial;     /* this node, never reused */
    uint64_t                         generation; /* of body */
    u_char                          *body;
    size_t                           len;
    ngx_msec_t                       checked;    /* the last read */
    ngx_msec_t                       reading;    /* a read holds until */
    ngx_uint_t                       state;
    u_char                           name[1];
} ngx_http_auth_jwt_keyfile_node_t;


struct ngx_http_auth_jwt_keyfiles_s {
    ngx_http_auth_jwt_zone_t         zone;
    ngx_http_auth_jwt_sets_t         sets;       /* the worker's */
};


static ngx_int_t ngx_http_auth_jwt_keyfile_name(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfile_t *kfile, ngx_str_t *name);
static ngx_uint_t ngx_http_auth_jwt_keyfile_keys(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, ngx_uint_t format,
    ngx_msec_t period, ajwt_keyset_t **set);
static void ngx_http_auth_jwt_keyfile_read(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, uint32_t hash,
    ngx_uint_t format, uint64_t serial);
static ngx_uint_t ngx_http_auth_jwt_keyfile_store(
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, uint32_t hash,
    uint64_t serial, ngx_uint_t state, ngx_str_t *data, uint64_t *generation);
static ngx_http_auth_jwt_keyfile_node_t *ngx_http_auth_jwt_keyfile_lookup(
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, uint32_t hash,
    ngx_uint_t create);
static void *ngx_http_auth_jwt_keyfile_alloc(ngx_http_auth_jwt_keyfiles_t *kf,
    size_t size, ngx_http_auth_jwt_keyfile_node_t *keep);
static ngx_int_t ngx_http_auth_jwt_keyfile_evict(
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_http_auth_jwt_keyfile_node_t *keep);
static void ngx_http_auth_jwt_keyfile_drop(ngx_http_auth_jwt_keyfiles_t *kf,
    ngx_http_auth_jwt_keyfile_node_t *node);
static ngx_uint_t ngx_http_auth_jwt_keyfile_dotdot(u_char *p, size_t len);


static ngx_str_t  ngx_http_auth_jwt_keyfiles_zone_name =
    ngx_string("auth_jwt_key_files");


ngx_http_auth_jwt_keyfiles_t *
ngx_http_auth_jwt_keyfiles_create(ngx_conf_t *cf)
{
    return ngx_http_auth_jwt_zone_create(cf,
                                         sizeof(ngx_http_auth_jwt_keyfiles_t),
                                         &ngx_http_auth_jwt_keyfiles_zone_name,
                                         NGX_HTTP_AUTH_JWT_KEYFILE_ZONE);
}


void
ngx_http_auth_jwt_keyfiles_init_process(ngx_http_auth_jwt_keyfiles_t *kf)
{
    ngx_http_auth_jwt_sets_init(&kf->sets, NGX_HTTP_AUTH_JWT_KEYFILE_PARSED);
}


void
ngx_http_auth_jwt_keyfiles_exit_process(ngx_http_auth_jwt_keyfiles_t *kf)
{
    ngx_http_auth_jwt_sets_free(&kf->sets);
}


char *
ngx_http_auth_jwt_keyfile_add(ngx_conf_t *cf, ngx_array_t **files,
    ngx_str_t *name, ngx_uint_t format)
{
    ngx_str_t                         *directive;
    ngx_http_auth_jwt_keyfile_t       *kfile;
    ngx_http_compile_complex_value_t   ccv;

    directive = cf->args->elts;

    /* a request would always be refused: say so now */

    if (ngx_http_auth_jwt_keyfile_dotdot(name->data, name->len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%V\" has a \"..\" segment, "
                           "which a key file name may not have", directive,
                           name);
        return NGX_CONF_ERROR;
    }

    if (*files == NULL) {
        *files = ngx_array_create(cf->pool, 1,
                                  sizeof(ngx_http_auth_jwt_keyfile_t));
        if (*files == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if ((*files)->nelts == NGX_HTTP_AUTH_JWT_KEYFILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d \"%V\" directives with variables "
                           "at one level", NGX_HTTP_AUTH_JWT_KEYFILE_MAX,
                           directive);
        return NGX_CONF_ERROR;
    }

    kfile = ngx_array_push(*files);
    if (kfile == NULL) {
        return NGX_CONF_ERROR;
    }

    kfile->format = format;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = name;
    ccv.complex_value = &kfile->name;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_auth_jwt_keyfile_get(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_array_t *files, time_t period,
    ajwt_keyset_t *file, ajwt_keyset_t **ks, ajwt_status_t *status,
    const char **reason)
{
    ngx_str_t                     name;
    ngx_msec_t                    ms;
    ngx_uint_t                    i, n, broken;
    ajwt_keyset_t                *sets[NGX_HTTP_AUTH_JWT_KEYFILE_MAX];
    ngx_http_auth_jwt_keyfile_t  *kfile;

    /* 0, NGINX Plus's "no caching", is once a second: never per request */

    if (period == NGX_CONF_UNSET) {
        period = NGX_HTTP_AUTH_JWT_KEYFILE_PERIOD;
    }

    ms = (ngx_msec_t) ngx_max(period, 1) * 1000;

    kfile = files->elts;
    n = 0;
    broken = 0;

    for (i = 0; i < files->nelts; i++) {

        switch (ngx_http_auth_jwt_keyfile_name(r, &kfile[i], &name)) {

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_DECLINED:
            *status = AJWT_INVALID_TOKEN;
            *reason = "the key file name is refused";
            return NGX_DECLINED;
        }

        switch (ngx_http_auth_jwt_keyfile_keys(r, kf, &name, kfile[i].format,
                                               ms, &sets[n]))
        {
        case NGX_HTTP_AUTH_JWT_KEYFILE_KEYS:
            n++;
            break;

        case NGX_HTTP_AUTH_JWT_KEYFILE_MISSING:
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "auth_jwt: key file \"%s\" does not exist",
                          name.data + 1);
            break;

        default:
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "auth_jwt: key file \"%s\" cannot be used",
                          name.data + 1);
            broken = 1;
        }
    }

    /* a file that should serve the request but cannot: fail closed */

    if (broken) {
        *status = AJWT_KEYS_UNAVAILABLE;
        *reason = "a key file cannot be used";
        return NGX_DECLINED;
    }

    *ks = ngx_http_auth_jwt_sets_union(&kf->sets, file, sets, n);

    if (*ks == NULL) {
        *status = AJWT_INVALID_TOKEN;
        *reason = "no key file for this request";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The node name of a file for this request: a format letter, then the
 * full path (relative names are taken from the configuration's prefix),
 * NUL-terminated. NGX_DECLINED, logged: a name that is empty, holds a NUL
 * or has a ".." segment.
 */

static ngx_int_t
ngx_http_auth_jwt_keyfile_name(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfile_t *kfile, ngx_str_t *name)
{
    u_char     *p;
    ngx_str_t   value, prefix;

    if (ngx_http_complex_value(r, &kfile->name, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value.len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_jwt: the key file name is empty");
        return NGX_DECLINED;
    }

    if (ngx_strlchr(value.data, value.data + value.len, '\0')) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_jwt: the key file name holds a NUL byte");
        return NGX_DECLINED;
    }

    if (ngx_http_auth_jwt_keyfile_dotdot(value.data, value.len)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "auth_jwt: the key file name \"%V\" has a \"..\" "
                      "segment", &value);
        return NGX_DECLINED;
    }

    if (value.data[0] == '/') {
        ngx_str_null(&prefix);

    } else {
        prefix = ngx_cycle->conf_prefix;
    }

    name->len = 1 + prefix.len + value.len;
    name->data = ngx_pnalloc(r->pool, name->len + 1);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = name->data;
    *p++ = (kfile->format == NGX_HTTP_AUTH_JWT_KEYS_KEYVAL) ? 'k' : 'j';
    p = ngx_cpymem(p, prefix.data, prefix.len);
    p = ngx_cpymem(p, value.data, value.len);
    *p = '\0';

    return NGX_OK;
}


/*
 * What the file name has for a request, reading it first when it was never
 * read, or when period has passed and no other worker is reading it; *set
 * its keys, the worker's.
 */

static ngx_uint_t
ngx_http_auth_jwt_keyfile_keys(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, ngx_uint_t format,
    ngx_msec_t period, ajwt_keyset_t **set)
{
    u_char                            *copy;
    size_t                             len;
    uint32_t                           hash;
    uint64_t                           serial, generation;
    ngx_msec_t                         now;
    ngx_uint_t                         state;
    ngx_http_auth_jwt_parsed_t        *local;
    ngx_http_auth_jwt_keyfile_node_t  *node;

    *set = NULL;
    hash = ngx_crc32_long(name->data, name->len);
    now = ngx_current_msec;
    local = ngx_http_auth_jwt_sets_find(&kf->sets, name, hash);
    copy = NULL;
    len = 0;

    ngx_shmtx_lock(&kf->zone.shpool->mutex);

    node = ngx_http_auth_jwt_keyfile_lookup(kf, name, hash, 1);

    if (node == NULL) {
        ngx_shmtx_unlock(&kf->zone.shpool->mutex);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key file \"%s\": no room in the "
                      "\"auth_jwt_key_files\" zone", name->data + 1);
        return NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;
    }

    /* a file never read is read by each request that finds it so */

    if (node->state == NGX_HTTP_AUTH_JWT_KEYFILE_NEW
        || (ngx_http_auth_jwt_keyfile_past(now, node->checked + period)
            && ngx_http_auth_jwt_keyfile_past(now, node->reading)))
    {
        node->reading = now + NGX_HTTP_AUTH_JWT_KEYFILE_HOLD;
        serial = node->serial;

        ngx_shmtx_unlock(&kf->zone.shpool->mutex);

        ngx_http_auth_jwt_keyfile_read(r, kf, name, hash, format, serial);

        local = ngx_http_auth_jwt_sets_find(&kf->sets, name, hash);

        ngx_shmtx_lock(&kf->zone.shpool->mutex);

        node = ngx_http_auth_jwt_keyfile_lookup(kf, name, hash, 0);

        if (node == NULL) {
            /* evicted by another worker meanwhile: read again next time */
            ngx_shmtx_unlock(&kf->zone.shpool->mutex);
            return NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;
        }
    }

    state = node->state;
    serial = node->serial;
    generation = node->generation;

    if (state == NGX_HTTP_AUTH_JWT_KEYFILE_KEYS
        && (local == NULL || local->serial != serial
            || local->generation != generation))
    {
        len = node->len;
        copy = ngx_alloc(len, r->connection->log);

        if (copy) {
            ngx_memcpy(copy, node->body, len);
        }
    }

    ngx_shmtx_unlock(&kf->zone.shpool->mutex);

    if (state != NGX_HTTP_AUTH_JWT_KEYFILE_KEYS) {
        return (state == NGX_HTTP_AUTH_JWT_KEYFILE_MISSING)
               ? state : NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;
    }

    if (copy) {
        local = ngx_http_auth_jwt_sets_parse(&kf->sets, name, serial,
                                             generation, format, copy, len,
                                             r->connection->log);
    }

    if (local == NULL || local->serial != serial
        || local->generation != generation)
    {
        return NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;
    }

    *set = local->set;

    return NGX_HTTP_AUTH_JWT_KEYFILE_KEYS;
}


/*
 * Reads the file: a plain blocking read, the file being small and local.
 * What it found becomes the node's; keys parsed become the worker's.
 */

static void
ngx_http_auth_jwt_keyfile_read(ngx_http_request_t *r,
    ngx_http_auth_jwt_keyfiles_t *kf, ngx_str_t *name, uint32_t hash,
    ngx_uint_t format, uint64_t serial)
{
    char             err[256];
    u_char          *path;
    uint64_t         generation;
    ngx_err_t        errn;
    ngx_int_t        rc;
    ngx_str_t        data;
    ngx_uint_t       state, stored;
    const char      *failed;
    ajwt_keyset_t   *parsed;
    ngx_file_info_t  fi;

    path = name->data + 1;
    parsed = NULL;
    ngx_str_null(&data);

    rc = ngx_http_auth_jwt_read_file(path, NGX_HTTP_AUTH_JWT_MAX_KEY_FILE,
                                     r->pool, &data, &fi, &failed, &errn);

    if (rc == NGX_OK) {
        parsed = ajwt_keyset_create();

        if (ngx_http_auth_jwt_keys_parse(parsed, format, data.data, data.len,
                                         err, sizeof(err))
            < 0)
        {
            ajwt_keyset_free(parsed);
            parsed = NULL;
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "auth_jwt: invalid key file \"%s\": %s", path, err);
        }

        state = parsed ? NGX_HTTP_AUTH_JWT_KEYFILE_KEYS
                       : NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;

    } else if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key file \"%s\" is larger than %O bytes",
                      path, (off_t) NGX_HTTP_AUTH_JWT_MAX_KEY_FILE);
        state = NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;

    } else if (rc == NGX_ABORT) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key file \"%s\" is not a regular file",
                      path);
        state = NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;

    } else if (errn == NGX_ENOENT || errn == NGX_ENOTDIR) {
        state = NGX_HTTP_AUTH_JWT_KEYFILE_MISSING;

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, errn,
                      "auth_jwt: key file: %s \"%s\" failed", failed, path);
        state = NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN;
    }

    stored = ngx_http_auth_jwt_keyfile_store(kf, name, hash, serial, state,
                                             &data, &generation);

    /* the file may hold secrets: no copy outlives its use */

    if (data.len) {
        ngx_explicit_memzero(data.data, data.len);
    }

    if (state == NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN
        && stored == NGX_HTTP_AUTH_JWT_KEYFILE_KEYS)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key file \"%s\": keeping the keys read "
                      "before", path);
    }

    if (parsed == NULL) {
        return;
    }

    if (stored != NGX_HTTP_AUTH_JWT_KEYFILE_KEYS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "auth_jwt: key file \"%s\": no room in the "
                      "\"auth_jwt_key_files\" zone", path);
        ajwt_keyset_free(parsed);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "auth_jwt: key file \"%s\": %uz keys", path,
                  ajwt_keyset_count(parsed));

    /* this worker need not parse what it just parsed */

    ngx_http_auth_jwt_sets_install(&kf->sets, name, serial, generation,
                                   parsed);
}


/*
 * The read's result becomes the node's, unless another worker evicted it
 * meanwhile: keys with their bytes (a new generation if they changed); a
 * file that cannot be used keeps the keys read before. Returns the node's
 * state (NEW: evicted, or no room), and its generation in *generation.
 */

static ngx_uint_t
ngx_http_auth_jwt_keyfile_store(ngx_http_auth_jwt_keyfiles_t *kf,
    ngx_str_t *name, uint32_t hash, uint64_t serial, ngx_uint_t state,
    ngx_str_t *data, uint64_t *generation)
{
    u_char                            *body;
    ngx_http_auth_jwt_keyfile_node_t  *node;

    *generation = 0;

    ngx_shmtx_lock(&kf->zone.shpool->mutex);

    node = ngx_http_auth_jwt_keyfile_lookup(kf, name, hash, 0);

    if (node == NULL || node->serial != serial) {
        ngx_shmtx_unlock(&kf->zone.shpool->mutex);
        return NGX_HTTP_AUTH_JWT_KEYFILE_NEW;
    }

    node->reading = ngx_current_msec;
    node->checked = ngx_current_msec;

    switch (state) {

    case NGX_HTTP_AUTH_JWT_KEYFILE_KEYS:

        if (node->body && node->len == data->len
            && ngx_memcmp(node->body, data->data, data->len) == 0)
        {
            break;
        }

        ngx_http_auth_jwt_keyfile_drop(kf, node);

        while (kf->zone.sh->bytes + data->len > NGX_HTTP_AUTH_JWT_KEYFILE_BYTES
               && ngx_http_auth_jwt_keyfile_evict(kf, node) == NGX_OK)
        {
            /* void */
        }

        body = ngx_http_auth_jwt_keyfile_alloc(kf, data->len, node);

        if (body == NULL) {
            /* read again by the next request */
            node->state = NGX_HTTP_AUTH_JWT_KEYFILE_NEW;
            ngx_shmtx_unlock(&kf->zone.shpool->mutex);
            return NGX_HTTP_AUTH_JWT_KEYFILE_NEW;
        }

        ngx_memcpy(body, data->data, data->len);
        node->body = body;
        node->len = data->len;
        node->generation = ++kf->zone.sh->generation;
        kf->zone.sh->bytes += data->len;
        break;

    case NGX_HTTP_AUTH_JWT_KEYFILE_BROKEN:

        if (node->state == NGX_HTTP_AUTH_JWT_KEYFILE_KEYS) {
            state = NGX_HTTP_AUTH_JWT_KEYFILE_KEYS;
        }

        break;

    default: /* MISSING */
        ngx_http_auth_jwt_keyfile_drop(kf, node);
    }

    node->state = state;
    *generation = node->generation;

    ngx_shmtx_unlock(&kf->zone.shpool->mutex);

    return state;
}


/* the node of name, created when asked; the zone's lock is held */

static ngx_http_auth_jwt_keyfile_node_t *
ngx_http_auth_jwt_keyfile_lookup(ngx_http_auth_jwt_keyfiles_t *kf,
    ngx_str_t *name, uint32_t hash, ngx_uint_t create)
{
    ngx_http_auth_jwt_keyfile_node_t  *node;

    node = (ngx_http_auth_jwt_keyfile_node_t *)
               ngx_str_rbtree_lookup(&kf->zone.sh->rbtree, name, hash);

    if (node) {
        ngx_queue_remove(&node->queue);
        ngx_queue_insert_head(&kf->zone.sh->lru, &node->queue);
        return node;
    }

    if (!create) {
        return NULL;
    }

    if (kf->zone.sh->nodes >= NGX_HTTP_AUTH_JWT_KEYFILE_FILES) {
        (void) ngx_http_auth_jwt_keyfile_evict(kf, NULL);
    }

    node = ngx_http_auth_jwt_keyfile_alloc(kf,
                            offsetof(ngx_http_auth_jwt_keyfile_node_t, name)
                            + name->len, NULL);
    if (node == NULL) {
        return NULL;
    }

    ngx_memzero(node, offsetof(ngx_http_auth_jwt_keyfile_node_t, name));

    node->reading = ngx_current_msec;
    node->serial = ngx_http_auth_jwt_zone_insert(&kf->zone, &node->sn,
                                                 &node->queue, node->name,
                                                 name, hash);

    return node;
}


/* allocates in the zone, evicting the least recently used files (not keep) */

static void *
ngx_http_auth_jwt_keyfile_alloc(ngx_http_auth_jwt_keyfiles_t *kf, size_t size,
    ngx_http_auth_jwt_keyfile_node_t *keep)
{
    void  *p;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(kf->zone.shpool, size);
        if (p) {
            return p;
        }

        if (ngx_http_auth_jwt_keyfile_evict(kf, keep) != NGX_OK) {
            return NULL;
        }
    }
}


/* frees the least recently used file but keep; NGX_DECLINED: none */

static ngx_int_t
ngx_http_auth_jwt_keyfile_evict(ngx_http_auth_jwt_keyfiles_t *kf,
    ngx_http_auth_jwt_keyfile_node_t *keep)
{
    ngx_queue_t                       *q;
    ngx_http_auth_jwt_keyfile_node_t  *node;

    for (q = ngx_queue_last(&kf->zone.sh->lru);
         q != ngx_queue_sentinel(&kf->zone.sh->lru);
         q = ngx_queue_prev(q))
    {
        node = ngx_queue_data(q, ngx_http_auth_jwt_keyfile_node_t, queue);

        if (node == keep) {
            continue;
        }

        ngx_http_auth_jwt_zone_remove(&kf->zone, &node->sn, &node->queue);
        ngx_http_auth_jwt_keyfile_drop(kf, node);
        ngx_slab_free_locked(kf->zone.shpool, node);

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* frees the node's bytes */

static void
ngx_http_auth_jwt_keyfile_drop(ngx_http_auth_jwt_keyfiles_t *kf,
    ngx_http_auth_jwt_keyfile_node_t *node)
{
    if (node->body == NULL) {
        return;
    }

    ngx_explicit_memzero(node->body, node->len);
    ngx_slab_free_locked(kf->zone.shpool, node->body);
    kf->zone.sh->bytes -= node->len;
    node->body = NULL;
    node->len = 0;
}


/* whether the name has a ".." segment */

static ngx_uint_t
ngx_http_auth_jwt_keyfile_dotdot(u_char *p, size_t len)
{
    u_char  *last, *dots;

    last = p + len;

    for (dots = p; dots + 1 < last; dots++) {
        if (dots[0] == '.' && dots[1] == '.'
            && (dots == p || dots[-1] == '/')
            && (dots + 2 == last || dots[2] == '/'))
        {
            return 1;
        }
    }

    return 0;
}
