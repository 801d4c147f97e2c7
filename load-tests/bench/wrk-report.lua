-- wrk's done() hook for load-tests/bench/wrk.ts: one JSON line with the exact figures
-- (latencies in microseconds from wrk's own histogram) instead of wrk's rounded text report.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FLOCK_WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"meanUs":%.1f,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
