-- bench/api-get.lua: wrk script reading one object through picokube's API (a current read:
-- GET of one ConfigMap, no resourceVersion, so the server must answer with the latest state),
-- for the GET rate of bench/api-bench. The request is formatted once per thread; every answer
-- other than 2xx and every socket error is counted and fails the run (wrk-common.lua).
--   wrk -t2 -c64 -d15s --timeout 10s -s bench/api-get.lua https://127.0.0.1:18441 -- PATH TOKEN
local dir = debug.getinfo(1, "S").source:match("^@(.*)/") or "."
local common = dofile(dir .. "/wrk-common.lua")

common.install(_G)

local req

-- wrk-common takes the first argument as a key prefix; here it is the path to read.
function prepare()
   if not args[2] or args[2] == "" then
      io.stderr:write("WRK_FAIL missing script argument TOKEN (wrk ... -- PATH TOKEN)\n")
      os.exit(2)
   end
   req = wrk.format("GET", args[1], { ["Authorization"] = "Bearer " .. args[2] })
end

function request()
   return req
end
