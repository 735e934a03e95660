-- bench/put-picokube.lua: wrk script creating distinct keys with 512-byte values in picokube's
-- raftstore through the benchmark endpoint POST /internal/raftstore/kv/<key> (raw value as
-- body, 201 on success), authenticated with the cluster join token. Shared behaviour (keys,
-- values, error counting, result line) is in wrk-common.lua, the same as for etcd.
--   wrk -t2 -c64 -d15s --timeout 10s -s bench/put-picokube.lua https://127.0.0.1:17441 \
--       -- PREFIX TOKEN
local dir = debug.getinfo(1, "S").source:match("^@(.*)/") or "."
local common = dofile(dir .. "/wrk-common.lua")

common.install(_G)

local headers

function prepare()
   if not args[2] or args[2] == "" then
      io.stderr:write("WRK_FAIL missing script argument TOKEN (wrk ... -- PREFIX TOKEN)\n")
      os.exit(2)
   end
   headers = {
      ["Authorization"] = "Bearer " .. args[2],
      ["Content-Type"] = "application/octet-stream",
   }
end

function request()
   return wrk.format("POST", "/internal/raftstore/kv/" .. next_key(), headers, value)
end
