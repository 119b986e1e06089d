-- wrk script of bench/growth: rotates through a list of requests and checks
-- every answer against the one its request must get.
--
--   wrk ... -s growth.lua <url> -- <cases file> <requests per thread> <done dir>
--
-- The cases file has one request per line, tab-separated:
--   name  status  code  path  header...   (a header is "Name: value";
--   code "-": the answer is not a module rejection)
-- The path carries ?c=<line number>, which nginx echoes in an X-Case header
-- (add_header ... always), so that each answer is matched to its case
-- whatever the connection it came on. A thread stops itself after its share
-- of the requests and creates <done dir>/thread-<n>: wrk itself runs until
-- its -d duration or a SIGINT, which bench/growth sends once every thread
-- is done. done() prints one line, "GROWTH-RESULT <json>".

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

local function split(s, sep)
    local out = {}
    for field in (s .. sep):gmatch("(.-)" .. sep) do
        table.insert(out, field)
    end
    return out
end

function init(args)
    cases = {}
    local f = assert(io.open(args[1], "r"))
    for line in f:lines() do
        local t = split(line, "\t")
        local headers = {}
        for i = 5, #t do
            local name, value = t[i]:match("^([^:]+):%s?(.*)$")
            headers[name] = value
        end
        table.insert(cases, {
            name = t[1], status = tonumber(t[2]), code = t[3],
            request = wrk.format("GET", t[4], headers),
        })
    end
    f:close()
    limit = tonumber(args[2])
    done_file = args[3] .. "/thread-" .. id
    -- threads start at different places of the rotation
    position = (id * 7919) % #cases
    sent, answered, mismatches = 0, 0, 0
    by_status, by_code, first_mismatch = {}, {}, ""
end

function request()
    position = position % #cases + 1
    sent = sent + 1
    return cases[position].request
end

function response(status, headers, body)
    answered = answered + 1
    local c = cases[tonumber(headers["X-Case"] or "")]
    local code = body:match('^{"status":"([A-Z_]+)"}$') or "-"
    by_status[tostring(status)] = (by_status[tostring(status)] or 0) + 1
    by_code[code] = (by_code[code] or 0) + 1
    if c == nil or c.status ~= status or c.code ~= code then
        mismatches = mismatches + 1
        if first_mismatch == "" then
            first_mismatch = string.format("case %s (%s): want %s %s, got %d %s",
                headers["X-Case"] or "?", c and c.name or "?",
                c and c.status or "?", c and c.code or "?", status, code)
        end
    end
    if answered == limit then
        wrk.thread:stop()
        assert(io.open(done_file, "w")):close()
    end
end

local function json_counts(t)
    local parts = {}
    for k, v in pairs(t) do
        table.insert(parts, string.format('"%s":%d', k, v))
    end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
end

local function add(into, from)
    for k, v in pairs(from) do
        into[k] = (into[k] or 0) + v
    end
end

function done(summary, latency, requests)
    local status, code, bad, first = {}, {}, 0, ""
    for _, t in ipairs(threads) do
        add(status, t:get("by_status"))
        add(code, t:get("by_code"))
        bad = bad + t:get("mismatches")
        if first == "" then
            first = t:get("first_mismatch")
        end
    end
    local e = summary.errors
    io.write(string.format(
        'GROWTH-RESULT {"requests":%d,"duration_us":%d,"by_status":%s,"by_code":%s,'
        .. '"mismatches":%d,"first_mismatch":"%s","errors":{"connect":%d,"read":%d,'
        .. '"write":%d,"timeout":%d}}\n',
        summary.requests, summary.duration, json_counts(status), json_counts(code),
        bad, (first:gsub('"', "'")), e.connect, e.read, e.write, e.timeout))
end
