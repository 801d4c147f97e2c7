-- wrk hooks for load-tests/bench/wrk.ts.
--
-- setup(): with FLOCK_WRK_ADDRS ("host:port,host:port,…"), thread i connects to the i-th address
-- (wrk runs one thread per address), so one run spreads its connections over several nodes.
local addrs = nil
local threads = 0
setup = function(thread)
  local list = os.getenv("FLOCK_WRK_ADDRS")
  if list == nil or list == "" then return end
  if addrs == nil then
    addrs = {}
    for hostport in string.gmatch(list, "[^,]+") do
      local host, port = string.match(hostport, "^(.+):(%d+)$")
      table.insert(addrs, wrk.lookup(host, port)[1])
    end
  end
  threads = threads + 1
  thread.addr = addrs[((threads - 1) % #addrs) + 1]
end

-- delay(): with FLOCK_WRK_DELAY_MS, each connection waits that long after a response before its
-- next request, so a run holds a load below saturation (the rate is then about connections /
-- (delay + latency)).
local pace = tonumber(os.getenv("FLOCK_WRK_DELAY_MS") or "")
if pace ~= nil and pace > 0 then
  delay = function()
    return pace
  end
end

-- done(): one JSON line with the exact figures (latencies in microseconds from wrk's own
-- histogram) instead of wrk's rounded text report.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FLOCK_WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"meanUs":%.1f,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
