-- wrk reporter for bench/run: one JSON line with what the table needs. Errors are counted
-- apart (socket errors; answers other than 2xx/3xx) so that a run measuring refusals or
-- failures is caught instead of reported as throughput.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
