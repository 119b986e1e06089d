-- The reference for the nginx benchmark: the original design in OpenResty
-- style, built only from Debian packages (libnginx-mod-http-lua, lua-cjson,
-- lua-resty-core, LuaJIT FFI into libcrypto.so.3).
--
-- Per request: read X-AUTH-TOKEN, verify HS256 with one HMAC() call, decode
-- the payload with cjson, check exp; then GET the session record under the
-- tokenId claim from memcached (text protocol over a cosocket, kept alive),
-- check expires_at, fingerprint and idle timeout, and SET it back with the
-- new last_access_time. 401 on any auth failure, 503 when memcached fails.

local ffi = require "ffi"
local cjson = require "cjson.safe"
local b64 = require "ngx.base64"

local encode_base64url = b64.encode_base64url
local decode_base64url = b64.decode_base64url
local ngx_var = ngx.var
local ngx_time = ngx.time
local tcp = ngx.socket.tcp
local tonumber = tonumber
local type = type

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const char *d, size_t n, unsigned char *md,
                    unsigned int *md_len);
]]

local crypto = ffi.load("libcrypto.so.3")
local sha256 = crypto.EVP_sha256()
local mac_buf = ffi.new("unsigned char[64]")
local mac_len = ffi.new("unsigned int[1]")

local _M = {}

local secret, mc_host, mc_port

function _M.init(opts)
    secret = opts.secret
    mc_host = opts.memcached_host
    mc_port = opts.memcached_port
end

local function deny(status)
    if status == 401 then
        ngx.header["WWW-Authenticate"] = 'Bearer realm="lua"'
    end
    return ngx.exit(status)
end

-- GET key; returns value, flags | nil (no record) | false, err
local function mc_get(sock, key)
    local ok, err = sock:send("get " .. key .. "\r\n")
    if not ok then return false, err end
    local line
    line, err = sock:receive()
    if not line then return false, err end
    if line == "END" then return nil end
    local flags, len = line:match("^VALUE %S+ (%d+) (%d+)$")
    if not flags then return false, "bad reply: " .. line end
    local data
    data, err = sock:receive(tonumber(len) + 2)   -- value and its \r\n
    if not data then return false, err end
    line, err = sock:receive()
    if line ~= "END" then return false, err or ("bad reply: " .. line) end
    return data:sub(1, -3), flags
end

local function mc_set(sock, key, flags, exptime, value)
    local ok, err = sock:send("set " .. key .. " " .. flags .. " " .. exptime
                              .. " " .. #value .. "\r\n" .. value .. "\r\n")
    if not ok then return false, err end
    local line
    line, err = sock:receive()
    if line ~= "STORED" then return false, err or ("bad reply: " .. line) end
    return true
end

function _M.check()
    local token = ngx_var.http_x_auth_token
    if not token then return deny(401) end
    local h, p, s = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
    if not h then return deny(401) end

    local header = cjson.decode(decode_base64url(h) or "")
    if type(header) ~= "table" or header.alg ~= "HS256" then return deny(401) end

    local input_len = #h + 1 + #p
    local signing_input = token:sub(1, input_len)
    crypto.HMAC(sha256, secret, #secret, signing_input, input_len, mac_buf, mac_len)
    if encode_base64url(ffi.string(mac_buf, mac_len[0])) ~= s then
        return deny(401)
    end

    local claims = cjson.decode(decode_base64url(p) or "")
    if type(claims) ~= "table" then return deny(401) end
    local now = ngx_time()
    if type(claims.exp) ~= "number" or claims.exp <= now then return deny(401) end
    local key = claims.tokenId
    if type(key) ~= "string" or key == "" or #key > 200 or key:find("[%s%c]") then
        return deny(401)
    end

    local sock = tcp()
    sock:settimeouts(250, 250, 250)
    local ok, err = sock:connect(mc_host, mc_port)
    if not ok then
        ngx.log(ngx.ERR, "memcached connect: ", err)
        return deny(503)
    end

    local value, flags = mc_get(sock, key)
    if value == false then
        ngx.log(ngx.ERR, "memcached get: ", flags)
        sock:close()
        return deny(503)
    end
    if value == nil then                       -- logged out
        sock:setkeepalive(60000, 64)
        return deny(401)
    end

    local record = cjson.decode(value)
    if type(record) ~= "table"
        or type(record.last_access_time) ~= "number"
        or type(record.session_idle_timeout) ~= "number" then
        sock:setkeepalive(60000, 64)
        return deny(401)
    end
    local expires_at = record.expires_at
    if type(expires_at) == "number" and expires_at <= now then
        sock:setkeepalive(60000, 64)
        return deny(401)
    end
    if record.fingerprint ~= nil and record.fingerprint ~= ngx_var.http_finger_print then
        sock:setkeepalive(60000, 64)
        return deny(401)
    end
    local idle = record.session_idle_timeout
    if idle >= 0 and now - record.last_access_time > idle then
        sock:setkeepalive(60000, 64)
        return deny(401)
    end

    record.last_access_time = now
    ok, err = mc_set(sock, key, flags,
                     type(expires_at) == "number" and expires_at or 0,
                     cjson.encode(record))
    if not ok then
        ngx.log(ngx.ERR, "memcached set: ", err)
        sock:close()
        return deny(503)
    end
    sock:setkeepalive(60000, 64)
end

return _M
