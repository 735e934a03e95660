-- bench/wrk-common.lua: what put-etcd.lua and put-picokube.lua share, so both systems are
-- driven by the same load generator code and differ only in how one write is spelled:
-- distinct keys (a counter per thread plus the thread id), a 512-byte value per thread,
-- counting of every non-2xx answer, and one parseable result line from done().
--
-- Script arguments (after wrk's "--"): PREFIX [TOKEN]. PREFIX makes keys distinct across runs
-- against the same store (picokube answers 409 to a key that exists, which is counted as a
-- failure, as it should be).
--
-- Result line (stdout), all on one line:
--   WRK_RESULT requests=N duration_s=S rps=R p50_ms=A p99_ms=B mean_ms=M max_ms=X non2xx=K
--     sock_errors=E
-- Any non-2xx answer or socket error prints WRK_FAIL on stderr and exits 1: a figure taken
-- while the store refused writes would be worthless.

local common = {}

common.VALUE_BYTES = 512

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 with padding (RFC 4648), as etcd's JSON gateway decodes bytes fields.
function common.base64(s)
   local out = {}
   local n = #s
   for i = 1, n, 3 do
      local a, b, c = s:byte(i, i + 2)
      local v = a * 65536 + (b or 0) * 256 + (c or 0)
      local c1 = math.floor(v / 262144) % 64
      local c2 = math.floor(v / 4096) % 64
      local c3 = math.floor(v / 64) % 64
      local c4 = v % 64
      out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1)
         .. (b and b64chars:sub(c3 + 1, c3 + 1) or "=")
         .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
   end
   return table.concat(out)
end

-- Printable pseudo-random bytes, different per thread, so no store can shrink them by
-- noticing they are all alike across threads; the same seed gives the same bytes for both
-- systems.
function common.value(seed)
   math.randomseed(seed)
   local t = {}
   for i = 1, common.VALUE_BYTES do
      local r = math.random(1, 64)
      t[i] = b64chars:sub(r, r)
   end
   return table.concat(t)
end

-- Installs the setup/init/response/done globals; the caller defines request() using
-- next_key(), value and args.
function common.install(env)
   local threads = {}

   env.setup = function(thread)
      threads[#threads + 1] = thread
      thread:set("tid", #threads)
   end

   env.init = function(args)
      env.args = args
      if not args[1] or args[1] == "" then
         io.stderr:write("WRK_FAIL missing script argument PREFIX (wrk ... -- PREFIX)\n")
         os.exit(2)
      end
      env.prefix = args[1]
      env.counter = 0
      env.non2xx = 0
      env.first_bad = ""
      env.value = common.value(1000 + env.tid)
      if env.prepare then
         env.prepare()
      end
   end

   env.next_key = function()
      env.counter = env.counter + 1
      return env.prefix .. "-t" .. env.tid .. "-" .. env.counter
   end

   env.response = function(status, headers, body)
      if status < 200 or status > 299 then
         env.non2xx = env.non2xx + 1
         if env.first_bad == "" then
            env.first_bad = status .. " " .. string.sub(body or "", 1, 200):gsub("%s+", " ")
         end
      end
   end

   env.done = function(summary, latency, requests)
      local non2xx, first_bad = 0, ""
      for _, thread in ipairs(threads) do
         non2xx = non2xx + thread:get("non2xx")
         local fb = thread:get("first_bad")
         if first_bad == "" and fb ~= "" then
            first_bad = fb
         end
      end
      local e = summary.errors
      local sock = e.connect + e.read + e.write + e.timeout
      local secs = summary.duration / 1e6
      io.write(string.format(
         "WRK_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f "
            .. "mean_ms=%.3f max_ms=%.3f non2xx=%d sock_errors=%d\n",
         summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
         latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000, non2xx, sock))
      io.stdout:flush()
      if non2xx > 0 or sock > 0 or summary.requests == 0 then
         io.stderr:write(string.format(
            "WRK_FAIL %d non-2xx answers (first: %s); socket errors connect=%d read=%d "
               .. "write=%d timeout=%d; requests=%d\n",
            non2xx, first_bad == "" and "none" or first_bad, e.connect, e.read, e.write,
            e.timeout, summary.requests))
         io.stderr:flush()
         os.exit(1)
      end
   end
end

return common
