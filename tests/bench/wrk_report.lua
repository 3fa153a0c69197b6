-- wrk script for the benchmarks here (bench_common.run_wrk): after the run, print the
-- result as one JSON line ("WRK_RESULT {...}") so the benchmark does not have to parse
-- wrk's human output (whose units change with magnitude). Durations and latencies are in
-- microseconds.
-- errors.status counts responses with status >= 400 (wrk's "Non-2xx or 3xx responses").

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"duration_us": %.0f, "requests": %.0f, "bytes": %.0f, ' ..
      '"p50_us": %.0f, "p99_us": %.0f, "max_us": %.0f, ' ..
      '"errors": {"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f}}\n',
      summary.duration, summary.requests, summary.bytes,
      latency:percentile(50.0), latency:percentile(99.0), latency.max,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
