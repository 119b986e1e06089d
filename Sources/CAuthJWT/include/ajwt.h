/*
 * ajwt.h: the C ABI of the Swift JWT core (libAuthJWT.a).
 *
 * Hand-written and the single source of truth for the boundary between the
 * nginx module and the Swift core; the Swift side implements it with
 * @c @implementation, so the compiler rejects any mismatch.
 *
 * Conventions:
 *   - All byte strings are (pointer, length) pairs, never NUL-terminated,
 *     and are only read during the call unless stated otherwise.
 *   - Nothing here logs, allocates from, or keeps pointers into caller
 *     memory after returning, except ajwt_token_t, whose spans point into
 *     the caller's scratch buffer.
 *   - Reason strings are static (never freed, never contain token bytes or
 *     key material) unless a function writes into a caller buffer.
 */

#ifndef AJWT_H
#define AJWT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif


/*
 * Limits: the Swift core reads these definitions (JWTCore's ABILimits), so
 * they hold on both sides of the boundary.
 */

/*
 * Longest token the core accepts; a longer one is AJWT_INVALID_TOKEN. The
 * contract asks for at least 32 KiB.
 */
#define AJWT_MAX_TOKEN_LEN  65536

/*
 * Deepest nesting of JSON arrays and objects (the outermost counting as 1)
 * in a header, a payload or a session record.
 */
#define AJWT_MAX_JSON_DEPTH  32


/* Outcome of a check; the names are the product's status codes. */
typedef enum {
    AJWT_OK = 0,
    AJWT_TOKEN_MISSING,
    AJWT_INVALID_TOKEN,
    AJWT_TOKEN_EXPIRED,
    AJWT_LOGGED_OUT,
    AJWT_FINGERPRINT_MISMATCH,
    AJWT_SESSION_IDLE_TIMEOUT,
    AJWT_INVALID_SESSION,
    AJWT_FORBIDDEN,
    AJWT_SESSION_STORE_UNAVAILABLE,
    AJWT_KEYS_UNAVAILABLE,
    AJWT_TOKEN_REVOKED
} ajwt_status_t;


/* A byte span. */
typedef struct {
    const uint8_t  *data;
    size_t          len;
} ajwt_str_t;


/* JSON value kinds, as ajwt_json_get() reports them. */
typedef enum {
    AJWT_JSON_ABSENT = 0,
    AJWT_JSON_STRING,
    AJWT_JSON_NUMBER,
    AJWT_JSON_TRUE,
    AJWT_JSON_FALSE,
    AJWT_JSON_NULL,
    AJWT_JSON_ARRAY,
    AJWT_JSON_OBJECT
} ajwt_json_type_t;


/* A verified token: spans into the caller's scratch buffer. */
typedef struct {
    ajwt_str_t      header;     /* decoded JOSE header, a JSON object */
    ajwt_str_t      payload;    /* decoded claims set, a JSON object */
} ajwt_token_t;


/*
 * An immutable set of keys, built at configuration time: verification keys
 * (public keys, HMAC secrets) for signed tokens, and decryption keys
 * (private keys, encryption secrets) for encrypted ones. A key serves one
 * role: signing keys never decrypt, decryption keys never verify.
 */
typedef struct ajwt_keyset_s  ajwt_keyset_t;


/* What a location accepts (NGINX Plus's auth_jwt_type). */
typedef enum {
    AJWT_TYPE_SIGNED = 0,       /* a compact JWS */
    AJWT_TYPE_ENCRYPTED,        /* a compact JWE whose plaintext is the
                                   claims set */
    AJWT_TYPE_NESTED            /* a compact JWE (cty "JWT") whose plaintext
                                   is a compact JWS */
} ajwt_type_t;


/*
 * The status code as the product spells it ("OK", "INVALID_TOKEN", ...).
 * Static string; thread-safe.
 */
const char *ajwt_status_name(ajwt_status_t status);


/*
 * Creates an empty key set. The caller owns it and releases it with
 * ajwt_keyset_free(). Never returns NULL.
 */
ajwt_keyset_t *ajwt_keyset_create(void);

/*
 * Parses a key file's contents (a JWKS, a single JWK, or PEM blocks) and
 * adds every key in it to the set.
 *
 * Verification keys: PEM "PUBLIC KEY" (SPKI: RSA, EC P-256/384/521,
 * Ed25519) and "RSA PUBLIC KEY" (PKCS#1); public RSA, EC and Ed25519 JWKs;
 * oct JWKs with "use" "sig" or a JWS "alg".
 * Decryption keys: PEM "PRIVATE KEY" (PKCS#8: RSA, EC P-256/384/521,
 * X25519), "RSA PRIVATE KEY", "EC PRIVATE KEY"; JWKs with private members
 * (RSA with d, p, q, dp, dq, qi; EC with d; OKP X25519 with d); oct JWKs
 * with "use" "enc" or a JWE "alg" (dir, A*KW, A*GCMKW, or an enc name for
 * dir).
 * Both: an oct JWK with neither "use" nor "alg" ("unmarked"): it verifies
 * signed tokens and decrypts encrypted ones, and serves no nested token.
 * Skipped: JWKs with another "use", and public keys meant for encrypting
 * ("use" "enc", a JWE "alg", X25519). A JWK's "alg" pins the key to it.
 *
 * Returns the number of keys added (at least 1; an unmarked key counts
 * once). On any error returns -1, adds nothing, and writes a NUL-terminated
 * reason naming the offending key (never its material) into err (errlen
 * bytes, truncated to fit). Whether the set can serve a token type is
 * ajwt_keyset_check_type()'s question.
 *
 * Not thread-safe for the same set: call during configuration only.
 */
int ajwt_keyset_add(ajwt_keyset_t *ks, const uint8_t *data, size_t len,
    char *err, size_t errlen);

/*
 * Parses a key file in kjdev/nginx-auth-jwt's "keyval" format, a JSON object
 * whose member names are key IDs and whose values are PEM public keys (the
 * PEM types ajwt_keyset_add() reads, one block per value; an HMAC secret
 * belongs in a JWKS "oct" key), and adds every key in it, in the file's
 * order, each with its member name as its "kid".
 *
 * Returns and errors as ajwt_keyset_add(). Not thread-safe for the same
 * set: call during configuration only.
 */
int ajwt_keyset_add_keyval(ajwt_keyset_t *ks, const uint8_t *data,
    size_t len, char *err, size_t errlen);

/*
 * Adds every key of from to ks, after the keys already there: to combine
 * key files with fetched keys. The keys are shared, not copied; from stays
 * the caller's. Not thread-safe for ks.
 */
void ajwt_keyset_add_set(ajwt_keyset_t *ks, const ajwt_keyset_t *from);

/* Number of keys in the set (an unmarked oct key counts once). Thread-safe. */
size_t ajwt_keyset_count(const ajwt_keyset_t *ks);

/*
 * The set's identity: unique among the sets this process creates, never
 * reused (unlike its address), so that a cache of verified tokens can bind
 * its entries to the set that verified them. Thread-safe.
 */
uint64_t ajwt_keyset_id(const ajwt_keyset_t *ks);

/*
 * Returns 0 when ks can serve tokens of type: SIGNED needs at least one
 * verification key, ENCRYPTED at least one decryption key, NESTED both and
 * no unmarked oct key (a nested token keeps the signer's and the
 * encrypter's keys apart: each oct key must say "use" "sig" or "enc").
 * Otherwise returns -1 and writes a NUL-terminated reason into err (errlen
 * bytes, truncated to fit), for nginx -t. Thread-safe; ks is only read.
 */
int ajwt_keyset_check_type(const ajwt_keyset_t *ks, ajwt_type_t type,
    char *err, size_t errlen);

/*
 * Returns 1 when the token's header names a "kid" that no key in ks has
 * (for a JWE: no decryption key; for a JWS: no verification key), else 0
 * (also for a token whose header cannot be read): after ajwt_verify() or
 * ajwt_open() refused a token, tells a cache of fetched keys that the
 * issuer may have published a key it does not hold yet. Reentrant and
 * thread-safe.
 */
int ajwt_keyset_lacks_kid(const ajwt_keyset_t *ks, const uint8_t *token,
    size_t token_len);

/*
 * Returns 1 when ks holds a key that only decrypts (a private key, or an
 * oct key marked for encryption), else 0: nginx warns about such a file
 * that any user can read. Thread-safe.
 */
int ajwt_keyset_holds_private_keys(const ajwt_keyset_t *ks);

/* Releases a set created by ajwt_keyset_create(). NULL is ignored. */
void ajwt_keyset_free(ajwt_keyset_t *ks);


/*
 * Size of the scratch buffer ajwt_verify() and ajwt_open() need for a token
 * of token_len bytes, whatever its type (room for the decoded segments, a
 * JWE's plaintext, and a nested token's inner JWS with the JSON
 * validator's work space): about five times token_len.
 */
size_t ajwt_scratch_size(size_t token_len);

/*
 * Verifies a compact JWS: strict parse, signature against the key set
 * (selected by "kid" when the token names one, bound to key type and JWK
 * "alg"), then "exp" and "nbf" against now (seconds since the Epoch) with
 * leeway seconds of tolerance.
 *
 * scratch must hold ajwt_scratch_size(token_len) bytes; on AJWT_OK, *out
 * holds spans into it that stay valid as long as scratch does.
 *
 * Returns AJWT_OK, AJWT_INVALID_TOKEN or AJWT_TOKEN_EXPIRED; *reason is set
 * to a static string explaining a rejection (NULL on success).
 *
 * Reentrant and thread-safe; ks is only read.
 */
ajwt_status_t ajwt_verify(const ajwt_keyset_t *ks,
    const uint8_t *token, size_t token_len,
    uint8_t *scratch, size_t scratch_len,
    int64_t now, int64_t leeway,
    ajwt_token_t *out, const char **reason);

/*
 * Like ajwt_verify(), for a token of the given type:
 *   AJWT_TYPE_SIGNED     exactly ajwt_verify(): a JWE is AJWT_INVALID_TOKEN.
 *   AJWT_TYPE_ENCRYPTED  decrypts a compact JWE (RFC 7516) with the set's
 *                        decryption keys; the plaintext must be a JSON object
 *                        (the claims, validated as strictly as a JWS payload),
 *                        and a header cty "JWT" is refused.
 *   AJWT_TYPE_NESTED     decrypts a compact JWE whose header has cty "JWT"
 *                        (any case, or "application/jwt"), then the
 *                        plaintext must be a compact JWS that verifies with
 *                        the set's verification keys (alg none refused as
 *                        ever).
 * Unmarked oct keys decrypt for ENCRYPTED and serve nothing in NESTED. A JWS
 * given for ENCRYPTED or NESTED is AJWT_INVALID_TOKEN. Then "exp" and "nbf"
 * of the claims are checked against now with leeway, as ajwt_verify() does.
 *
 * Algorithms (alg): dir, A128KW, A192KW, A256KW, A128GCMKW, A192GCMKW,
 * A256GCMKW, RSA-OAEP, RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW, +A192KW,
 * +A256KW (P-256, P-384, P-521, X25519); (enc): A128GCM, A192GCM, A256GCM,
 * A128CBC-HS256, A192CBC-HS384, A256CBC-HS512. Refused with a reason of
 * their own: RSA1_5, PBES2-*, RSA-OAEP-384/512, none, any other alg or
 * enc, zip, crit, a malformed header or epk (a point not on its curve).
 * Every failure once a key is chosen (unwrapping, a CEK of the wrong
 * length, the tag, the padding, a wrong key) has the one reason "the token
 * could not be decrypted", so that nothing tells which step failed.
 *
 * out->header is the JWE's protected header (ENCRYPTED) or the inner JWS's
 * header (NESTED); out->payload is the claims set. scratch must hold
 * ajwt_scratch_size(token_len) bytes; on AJWT_OK, *out holds spans into it.
 *
 * Returns AJWT_OK, AJWT_INVALID_TOKEN or AJWT_TOKEN_EXPIRED; *reason is set
 * to a static string explaining a rejection (NULL on success); an unknown
 * type is AJWT_INVALID_TOKEN.
 *
 * Reentrant and thread-safe; ks is only read.
 */
ajwt_status_t ajwt_open(const ajwt_keyset_t *ks, ajwt_type_t type,
    const uint8_t *token, size_t token_len,
    uint8_t *scratch, size_t scratch_len,
    int64_t now, int64_t leeway,
    ajwt_token_t *out, const char **reason);

/* A token's "exp" and "nbf" in seconds since the Epoch, read once. */
typedef struct {
    double          exp;
    double          nbf;
    int             has_exp;
    int             has_nbf;
} ajwt_times_t;

/*
 * Reads "exp" and "nbf" of payload, the payload of a token ajwt_verify()
 * or ajwt_open() accepted, as they read them: for a cache of verified
 * tokens, which skips the signature and checks the kept times on every hit
 * with ajwt_times_check(), so that it sees a token expire exactly when
 * ajwt_verify() would.
 *
 * Returns AJWT_OK, or AJWT_INVALID_TOKEN with *reason for a payload
 * ajwt_verify() would have refused (never read outside). Reentrant.
 */
ajwt_status_t ajwt_times_read(ajwt_str_t payload, ajwt_times_t *times,
    const char **reason);

/*
 * Checks times against now with leeway seconds of tolerance, as
 * ajwt_verify() does. Returns AJWT_OK or AJWT_TOKEN_EXPIRED (also for a
 * token not yet valid), with *reason as ajwt_verify() sets it. Reentrant.
 */
ajwt_status_t ajwt_times_check(const ajwt_times_t *times, int64_t now,
    int64_t leeway, const char **reason);


/*
 * Finds the value at path (npath member names, outermost first) in json,
 * which must be a document ajwt_verify() or ajwt_open() accepted (a header
 * or a payload).
 * With ignore_case, names match ignoring ASCII case, an exact match winning
 * over a case-insensitive one; otherwise they match exactly (after JSON
 * unescaping).
 *
 * Returns the value's kind, or AJWT_JSON_ABSENT. *raw is set to the value's
 * bytes inside json: for a string, the contents between the quotes, still
 * escaped (see ajwt_json_unescape()); otherwise the value's JSON text.
 *
 * Reentrant and thread-safe.
 */
ajwt_json_type_t ajwt_json_get(ajwt_str_t json, const ajwt_str_t *path,
    size_t npath, int ignore_case, ajwt_str_t *raw);

/*
 * Decodes the escaped contents of a JSON string (as ajwt_json_get()
 * returned them) into out, which must hold raw.len bytes (unescaping never
 * grows a string). Returns the number of bytes written (UTF-8).
 *
 * Reentrant and thread-safe.
 */
size_t ajwt_json_unescape(ajwt_str_t raw, uint8_t *out);


/*
 * Sessions: the record an auth server keeps in memcached per token (see
 * docs/session-record.md), a JSON object such as
 *
 *   {"fingerprint":"c0ffee","last_access_time":1800000000,
 *    "session_idle_timeout":1800,"expires_at":1800086400}
 */


/*
 * Longest record the store reads; a longer one is AJWT_INVALID_SESSION.
 * The core reads this definition too.
 */
#define AJWT_MAX_SESSION_RECORD  65536


/* What the session decision made of a record. */
typedef struct {
    size_t          updated_len;  /* > 0: write these bytes of out back */
    int64_t         expires_at;   /* the record's "expires_at", or 0 */
} ajwt_session_update_t;


/*
 * The session decision, pure (no I/O): given a record's bytes, the
 * request's fingerprint (len 0: the request has none), now and the touch
 * interval (seconds), decides in the contract's order:
 *   record.data NULL: the store has no record
 *   for the key ("no session record")         -> AJWT_LOGGED_OUT
 *   record longer than AJWT_MAX_SESSION_RECORD
 *   ("session record longer than 64 KiB")     -> AJWT_INVALID_SESSION
 *   record not a JSON object with integer "last_access_time" and
 *   "session_idle_timeout" (and, when present, string "fingerprint" and
 *   integer "expires_at")                     -> AJWT_INVALID_SESSION
 *   "expires_at" present and now >= it        -> AJWT_LOGGED_OUT
 *   fingerprint differs (constant time), or the record has one and the
 *   request none                              -> AJWT_FINGERPRINT_MISMATCH
 *   session_idle_timeout >= 0 and
 *   now - last_access_time > session_idle_timeout
 *                                             -> AJWT_SESSION_IDLE_TIMEOUT
 *   otherwise                                 -> AJWT_OK
 * On AJWT_OK, when a touch is due, writes into out
 * (out_len >= ajwt_session_update_size(record.len)) the record with
 * "last_access_time" set to now and every other byte kept, and sets
 * update->updated_len; otherwise updated_len is 0. A touch is due when
 * now - last_access_time >= touch, or >= session_idle_timeout / 2
 * (rounded down) when the record has an idle check (>= 0) and that comes
 * first: however long the interval, a session in use is touched before
 * it can go idle.
 *
 * *reason is set to a static string explaining a rejection.
 * Reentrant and thread-safe.
 */
ajwt_status_t ajwt_session_decide(ajwt_str_t record, ajwt_str_t fingerprint,
    int64_t now, int64_t touch, uint8_t *out, size_t out_len,
    ajwt_session_update_t *update, const char **reason);

/*
 * The out buffer size ajwt_session_decide() needs for a record: the updated
 * record plus the JSON validator's work space, so the decision allocates
 * nothing.
 */
size_t ajwt_session_update_size(size_t record_len);

/*
 * Checks the length of a record as a "VALUE" line announces it, before its
 * bytes are read: AJWT_OK, or AJWT_INVALID_SESSION with *reason "session
 * record longer than 64 KiB" when bytes > AJWT_MAX_SESSION_RECORD.
 * Reentrant and thread-safe.
 */
ajwt_status_t ajwt_session_check_length(uint64_t bytes, const char **reason);


/* memcached's reply to the "cas" that touches a session. */
typedef enum {
    AJWT_CAS_STORED,
    AJWT_CAS_EXISTS,
    AJWT_CAS_NOT_FOUND,
    AJWT_CAS_UNEXPECTED
} ajwt_cas_reply_t;

/*
 * What the reply to a touch's "cas" means for the request; line is the
 * whole reply line, "\r\n" included:
 *   "STORED\r\n"                               -> AJWT_OK
 *   "EXISTS\r\n" (another request touched the
 *   session first, which is as good)          -> AJWT_OK
 *   "NOT_FOUND\r\n" (deleted, as at logout,
 *   between the read and the write: it stays
 *   deleted; "session record deleted during
 *   the check")                               -> AJWT_LOGGED_OUT
 *   anything else, NULL data included
 *   ("unexpected reply from memcached")       -> AJWT_SESSION_STORE_UNAVAILABLE
 * *kind is set to the reply (for counters) when kind is not NULL; *reason
 * to a static string explaining a rejection (NULL on AJWT_OK).
 * Reentrant and thread-safe.
 */
ajwt_status_t ajwt_session_touched(ajwt_str_t line, ajwt_cas_reply_t *kind,
    const char **reason);


/*
 * Revocation (auth_jwt_revocation): a record present in the session store
 * under one of a token's revocation keys (such as "revoked:jti:<jti>")
 * revokes the token; its contents do not matter. jwtctl revoke and the
 * reference auth server write such records (README, docs/auth-server.md).
 */

/*
 * Whether a revocation record was found for a key: present (non-zero) ->
 * AJWT_TOKEN_REVOKED with *reason "token revoked"; absent -> AJWT_OK with
 * *reason NULL. Reentrant and thread-safe.
 */
ajwt_status_t ajwt_revocation_decide(int present, const char **reason);


/*
 * A request's lookups (its session key and its revocation keys, on one or
 * more servers) are answered in any order; their verdicts combine into the
 * request's. Returns non-zero when the verdict "next" replaces "current"
 * (and its reason goes with it): a refusal (any status but the two below)
 * wins over AJWT_SESSION_STORE_UNAVAILABLE, which wins over AJWT_OK; of two
 * refusals, or two failures, the first stands. So a revoked token is
 * refused even while another server is down, and nothing passes while a
 * lookup failed. Reentrant and thread-safe.
 */
int ajwt_session_verdict_prevails(ajwt_status_t current, ajwt_status_t next);


/*
 * memcached reply framing (its text protocol), for the module's pipelined
 * connections: where one reply ends in what has been read, and what it
 * holds. Replies carry no request identifier: they are matched to commands
 * by order, and a "gets" reply's keys must be those asked, in order.
 */

/* An item of a "gets" reply; value.data NULL: the key has none. */
typedef struct {
    ajwt_str_t      value;        /* inside the buffer framed */
    uint64_t        flags;
    uint64_t        cas;
} ajwt_mc_item_t;

typedef enum {
    AJWT_MC_DONE = 0,   /* a whole reply; *length is its length */
    AJWT_MC_AGAIN,      /* part of one; *length: the least length needed */
    AJWT_MC_INVALID,    /* not a reply to the command */
    AJWT_MC_TOO_LONG    /* an item over max_value; *length: its length */
} ajwt_mc_framing_t;

/*
 * Frames the reply to "gets keys[0] ... keys[nkeys - 1]" at the start of
 * buf: "VALUE <key> <flags> <bytes> <cas>\r\n<data>\r\n" per key that has
 * an item, then "END\r\n". On AJWT_MC_DONE, items[i] is keys[i]'s item.
 * Reentrant.
 */
ajwt_mc_framing_t ajwt_mc_frame_gets(ajwt_str_t buf, const ajwt_str_t *keys,
    size_t nkeys, size_t max_value, ajwt_mc_item_t *items, uint64_t *length);

/*
 * Frames a one-line reply (to "cas"); an error reply (ERROR, CLIENT_ERROR,
 * SERVER_ERROR) or a line over 64 bytes is AJWT_MC_INVALID. Reentrant.
 */
ajwt_mc_framing_t ajwt_mc_frame_line(ajwt_str_t buf, uint64_t *length);


/*
 * The session store's servers as a consistent-hashing ring: which server
 * holds a key, computed as libmemcached distributes keys for the project's
 * SessionStore (libketama compatible: weighted ketama, MD5), so that nginx
 * reads each record where an auth server using a libketama-compatible
 * client wrote it. Computed in Swift, without libmemcached (tested against
 * it). The ring does no I/O: the caller talks to the server.
 */
typedef struct ajwt_ring_s  ajwt_ring_t;

/*
 * Creates the ring for servers ("host:port" or "[IPv6]:port" each, in the
 * order the caller numbers them). Returns NULL and writes a NUL-terminated
 * reason into err on failure. Resolves and connects to nothing, so it may
 * be called in nginx's master, and the ring used in the workers after
 * fork. Release with ajwt_ring_free().
 */
ajwt_ring_t *ajwt_ring_create(const ajwt_str_t *servers, size_t nservers,
    char *err, size_t errlen);

/* Releases a ring. NULL is ignored. */
void ajwt_ring_free(ajwt_ring_t *ring);

/*
 * Checks that key is usable as a memcached key (1 to 250 bytes, no spaces
 * or control characters: else AJWT_INVALID_TOKEN) and sets *server to the
 * index, in the servers given to ajwt_ring_create(), of the one that holds
 * it. *reason is set to a static string on failure. Reentrant.
 */
ajwt_status_t ajwt_ring_locate(const ajwt_ring_t *ring, ajwt_str_t key,
    size_t *server, const char **reason);


/*
 * Claim requirements: auth_jwt_require_claim and auth_jwt_require_header,
 * with kjdev/nginx-auth-jwt's names, operators and comparison rules, and
 * NGINX Plus's form of array claims for variables.
 */


/*
 * Bounds of a requirement, so that a check costs little whatever the token
 * or the variable holds (the core reads these definitions too):
 *   - an expected value longer than AJWT_MAX_REQUIRE_VALUE_LEN bytes (as
 *     kjdev's NGX_AUTH_JWT_MAX_EXPECTED_SIZE) cannot be checked;
 *   - neither can a claim value or an expected value holding an array or
 *     object, at any depth, of more than AJWT_MAX_REQUIRE_ELEMENTS elements
 *     or members (as kjdev's NGX_AUTH_JWT_MAX_ARRAY_SIZE).
 */
#define AJWT_MAX_REQUIRE_VALUE_LEN  4096
#define AJWT_MAX_REQUIRE_ELEMENTS   1024


/* A claim or header name as auth_jwt_require_claim takes it (kjdev's syntax). */
typedef struct ajwt_path_s  ajwt_path_t;

/*
 * Parses a name: text that starts with "." or "[" is a JQ-like path
 * (.a.b, ."dotted.key", [0], .a[1][2]); any other text is one member name,
 * taken as it is. Returns NULL with a NUL-terminated reason in err for an
 * invalid path (empty, unterminated quote, bad index, too deep: at most
 * AJWT_MAX_JSON_DEPTH steps). Configuration time; release with
 * ajwt_path_free(). The path does not keep text.
 *
 * The grammar, as kjdev's:
 *   path   = step+
 *   step   = "." key | "." '"' quoted '"' | "[" index "]"
 *   key    = [A-Za-z_][A-Za-z0-9_-]*
 *   quoted = one or more bytes other than '"' (no escapes)
 *   index  = "0" | [1-9][0-9]*
 * Nothing else (no spaces, no "[*]", no negative index).
 */
ajwt_path_t *ajwt_path_parse(const uint8_t *text, size_t len, char *err,
    size_t errlen);

/*
 * Parses a name as kjdev's "auth_jwt_allow_nested delimiter=D quote=Q"
 * reads it: text that starts with "." or "[" is a JQ-like path, as
 * ajwt_path_parse() reads it; any other text is split on delimiter into
 * member names, outermost first:
 *   - a segment that starts with quote runs to the next quote and is taken
 *     as it is, delimiters included ("grants.key" with the quotes is one
 *     member); the name must end or the delimiter follow after it;
 *   - a quote anywhere else is an ordinary byte;
 *   - empty segments (leading, trailing, doubled delimiters) are skipped,
 *     as kjdev skips them: a..b is a.b.
 * Returns NULL with a NUL-terminated reason in err for a quote not closed,
 * text after a closing quote, an empty quoted key, a name of delimiters
 * only, more than AJWT_MAX_JSON_DEPTH members, and for a delimiter and
 * quote that are empty or where one starts with the other. Configuration
 * time; release with ajwt_path_free().
 */
ajwt_path_t *ajwt_path_parse_nested(const uint8_t *text, size_t len,
    ajwt_str_t delimiter, ajwt_str_t quote, char *err, size_t errlen);

/* Releases a path. NULL is ignored. */
void ajwt_path_free(ajwt_path_t *path);

/*
 * Finds the value at path in json, as ajwt_json_get() does (names match
 * exactly; an index takes an array's element). Reentrant and thread-safe.
 */
ajwt_json_type_t ajwt_json_get_path(ajwt_str_t json, const ajwt_path_t *path,
    ajwt_str_t *raw);

typedef enum {
    AJWT_OP_EQ = 0,
    AJWT_OP_GT,
    AJWT_OP_GE,
    AJWT_OP_LT,
    AJWT_OP_LE,
    AJWT_OP_IN,
    AJWT_OP_ANY,
    AJWT_OP_MATCH
} ajwt_op_t;

/*
 * Parses an operator: eq gt ge lt le in any match, each also with a "!"
 * prefix (negation), and the aliases ne (!eq), nin (!in), intersect (any),
 * nintersect (!any). Returns 0 with *op and *negate set, -1 if unknown.
 * A negated alias negates twice, as in kjdev: "!ne" is eq. Names are
 * case-sensitive.
 */
int ajwt_op_parse(ajwt_str_t text, ajwt_op_t *op, int *negate);

/*
 * A claim policy: the requirements of a location, built at configuration
 * time and checked together, reading each document once per check.
 */
typedef struct ajwt_policy_s  ajwt_policy_t;

/* Creates an empty policy; never NULL. Release with ajwt_policy_free(). */
ajwt_policy_t *ajwt_policy_create(void);

/* Releases a policy. NULL is ignored. */
void ajwt_policy_free(ajwt_policy_t *policy);

/*
 * The member names of a JSON object read from a configuration file (a
 * revocation list), decoded once into a hashed set: a check looks a value
 * up in constant time, whatever the number of names.
 */
typedef struct ajwt_nameset_s  ajwt_nameset_t;

/*
 * Reads json, one strict JSON text that must be an object (valid UTF-8, no
 * duplicate names; its values are not looked at). Neither
 * AJWT_MAX_REQUIRE_VALUE_LEN nor AJWT_MAX_REQUIRE_ELEMENTS applies. Returns
 * NULL with a NUL-terminated reason in err. Configuration time; release
 * with ajwt_nameset_free().
 */
ajwt_nameset_t *ajwt_nameset_parse(const uint8_t *json, size_t len,
    char *err, size_t errlen);

/* The number of names. */
size_t ajwt_nameset_count(const ajwt_nameset_t *set);

/* Releases a set. NULL is ignored. */
void ajwt_nameset_free(ajwt_nameset_t *set);

/* One requirement, as ajwt_policy_add() takes it. */
typedef struct {
    const ajwt_path_t     *path;        /* kept by the policy: free yours */
    int                    on_header;   /* the JOSE header, not the
                                           claims */
    ajwt_op_t              op;
    int                    negate;
    int                    json;        /* expected is JSON text, else a
                                           plain string */
    int                    per_request; /* expected comes with each check */
    ajwt_str_t             expected;    /* the literal, unless per_request,
                                           names, or op is AJWT_OP_MATCH */
    const ajwt_nameset_t  *names;       /* NULL, or with AJWT_OP_IN only:
                                           "in" this object's names
                                           (kept by the policy) */
} ajwt_requirement_t;

/*
 * Adds a requirement, checked after those added before. Returns 0, or -1
 * when a literal JSON expected value is one no check could compare with
 * (not strict JSON, or beyond the bounds below), or names is given with an
 * operator other than AJWT_OP_IN. Configuration time.
 */
int ajwt_policy_add(ajwt_policy_t *policy, const ajwt_requirement_t *rq);

/* The number of requirements. */
size_t ajwt_policy_count(const ajwt_policy_t *policy);

#define AJWT_REQUIRE_HOLDS      1
#define AJWT_REQUIRE_FAILS      0
#define AJWT_REQUIRE_INVALID   -1
#define AJWT_REQUIRE_DEFERRED   2

/* The outcome of one requirement. */
typedef struct {
    int                 outcome;     /* AJWT_REQUIRE_* */
    ajwt_str_t          value;       /* DEFERRED: the string, escaped */
} ajwt_outcome_t;

/*
 * Checks every requirement of policy against header and payload (documents
 * ajwt_verify() accepted), writing outcomes[i] for requirement i (the caller
 * gives ajwt_policy_count() of them), and returns the position of the first
 * that is not AJWT_REQUIRE_HOLDS, or ajwt_policy_count() when all hold.
 * values[i] is the expected value of a per_request requirement i (values may
 * be NULL when there are none). Reentrant and thread-safe; allocates nothing
 * when it can take its room from the stack.
 *
 * An outcome is AJWT_REQUIRE_HOLDS or _FAILS (after negation), or
 * AJWT_REQUIRE_INVALID, which negation never turns into a pass: the value is
 * absent, the types cannot be compared (a number against a string with gt,
 * in against a non-array non-object, ...), or expected is not valid JSON
 * (or too large or deep). For AJWT_OP_MATCH it is AJWT_REQUIRE_DEFERRED
 * with the value's escaped contents (see ajwt_json_unescape()) when the
 * value is a string, for the caller's regular expression, else INVALID (as
 * kjdev has it).
 *
 * The rules (kjdev's "Comparison Rules", made exact):
 *   eq   JSON equality, for values of any kinds (different kinds are never
 *        equal, so ne holds). Numbers: both integers (no fraction, no
 *        exponent) or both reals, and equal decimal values, compared
 *        exactly, never as doubles: 1.0 equals 1e0, -0 equals 0, but the
 *        integer 1 never equals the real 1.0. Strings: the same bytes after
 *        unescaping. Arrays: as many elements, pairwise equal in order.
 *        Objects: the same member names, equal values, in any order.
 *        true, false and null each equal only themselves (a claim that is
 *        null is present: "eq json=null" holds, any gt is INVALID).
 *   gt ge lt le
 *        both numbers, compared by exact value (an integer against a real
 *        too: 2.5 gt 2 holds, 1.0 ge 1 holds); anything else, strings
 *        included, is INVALID.
 *   in   expected an array: the value equals one element. Expected an
 *        object: the value, a string, names one of its members (a value
 *        that is not a string is INVALID). Anything else is INVALID.
 *        With names, as against an object holding those names.
 *   any  expected an array (else INVALID): the value, when an array, shares
 *        an element with it; any other value equals one of its elements.
 *        An empty array on either side fails.
 * A plain string (json zero) is a JSON string: eq holds for a string claim
 * of those bytes; gt ge lt le in any against it are INVALID.
 * INVALID too: an empty expected (an unset variable, as kjdev refuses it),
 * one longer than AJWT_MAX_REQUIRE_VALUE_LEN, not UTF-8 (plain) or not one
 * strict JSON text (duplicate names, invalid UTF-8, deeper than
 * AJWT_MAX_JSON_DEPTH); an array or object of more than
 * AJWT_MAX_REQUIRE_ELEMENTS entries in the claim or expected; a number
 * whose exponent has more than 9 digits.
 */
size_t ajwt_policy_check(const ajwt_policy_t *policy, ajwt_str_t header,
    ajwt_str_t payload, const ajwt_str_t *values, ajwt_outcome_t *outcomes);

/*
 * NGINX Plus's form of an array claim for variables: writes the elements of
 * the JSON array raw (as ajwt_json_get() returned it) separated by commas,
 * strings unescaped, numbers and booleans as their text, into out (which
 * must hold raw.len bytes: the result is never longer), and returns the
 * length. Returns (size_t) -1 when an element is an object or an array
 * (the caller then keeps the JSON text). Reentrant.
 *
 * No spaces are added; null is written "null" (as kjdev gives it); an
 * empty array gives 0. A comma inside a string element is written as it
 * is, as Plus does. raw that is not one JSON array also gives (size_t) -1.
 */
size_t ajwt_json_join(ajwt_str_t raw, uint8_t *out);

/*
 * Decodes json when it is exactly one strict JSON string (valid escapes and
 * UTF-8) into out, which must hold json.len bytes, and returns the decoded
 * length; returns (size_t) -1 for anything else: for a "match" pattern
 * given as JSON, so that an invalid escape fails closed rather than
 * changing the pattern. Reentrant.
 */
size_t ajwt_json_string_decode(ajwt_str_t json, uint8_t *out);


#ifdef __cplusplus
}
#endif

#endif /* AJWT_H */
