-- bench/put-etcd.lua: wrk script writing distinct keys with 512-byte values into etcd 3.4
-- through its v3 JSON gateway (POST /v3/kv/put, key and value base64), the peer figure for
-- picokube's raftstore. Shared behaviour (keys, values, error counting, result line) is in
-- wrk-common.lua.
--   wrk -t2 -c64 -d15s --timeout 10s -s bench/put-etcd.lua http://127.0.0.1:23791 -- PREFIX
local dir = debug.getinfo(1, "S").source:match("^@(.*)/") or "."
local common = dofile(dir .. "/wrk-common.lua")

common.install(_G)

local headers = { ["Content-Type"] = "application/json" }
local value_b64

-- The value's base64 is computed once per thread: only the short key is encoded per request,
-- so the load generator spends about as little per write as it does for picokube.
function prepare()
   value_b64 = common.base64(value)
end

function request()
   local body = '{"key":"' .. common.base64(next_key()) .. '","value":"' .. value_b64 .. '"}'
   return wrk.format("POST", "/v3/kv/put", headers, body)
end
