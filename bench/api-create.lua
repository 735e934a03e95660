-- bench/api-create.lua: wrk script creating ConfigMaps through picokube's full API path
-- (POST /api/v1/namespaces/default/configmaps: authentication, decoding, validation,
-- defaulting, the raft commit on three durable masters, the encoded answer), the figure set
-- against etcd 3.4's bare put (put-etcd.lua) by bench/api-bench. Each ConfigMap has a distinct
-- name and one data value of 512 bytes, the same bytes put-etcd.lua writes; keys, values,
-- non-2xx counting and the result line are shared with it through wrk-common.lua.
--   wrk -t2 -c64 -d15s --timeout 10s -s bench/api-create.lua https://127.0.0.1:18441 -- PREFIX TOKEN
-- PREFIX must be a lowercase DNS label prefix (names are PREFIX-tTHREAD-COUNTER).
local dir = debug.getinfo(1, "S").source:match("^@(.*)/") or "."
local common = dofile(dir .. "/wrk-common.lua")

common.install(_G)

local path = "/api/v1/namespaces/default/configmaps"
local headers
local body_head = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"'
local body_tail

function prepare()
   if not args[2] or args[2] == "" then
      io.stderr:write("WRK_FAIL missing script argument TOKEN (wrk ... -- PREFIX TOKEN)\n")
      os.exit(2)
   end
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. args[2],
   }
   -- The value is base64 characters only, so it needs no JSON escaping.
   body_tail = '"},"data":{"v":"' .. value .. '"}}'
end

function request()
   return wrk.format("POST", path, headers, body_head .. next_key() .. body_tail)
end
