#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/fleet_summary.h"
#include "cli/output.h"

namespace s3hc::cli {

namespace {

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

std::string number_text(double value, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

int show_stats(const Invocation& invocation) {
  ControlClient client(invocation.control);
  v1::FleetStatsResponse stats;
  const auto status = client.admin().FleetStats(client.context().get(), {}, &stats);
  if (!status.ok()) return report_failure("read the fleet's metrics", status);
  const auto summary = summarize(stats);
  if (invocation.json) {
    std::cout << to_json(summary).dump() << "\n";
    return 0;
  }
  std::vector<Row> rows{
      {"proxies reporting", std::to_string(summary.proxies_reporting)},
      {"requests", number_text(summary.requests, "%.0f")},
      {"hit ratio", number_text(100 * summary.hit_ratio, "%.1f %%")},
      {"sent", bytes_text(summary.sent_bytes)},
      {"saved (from the cache)", bytes_text(summary.saved_bytes)},
      {"from the origin", bytes_text(summary.origin_bytes)},
      {"latency p50 / p95 / p99",
       number_text(1000 * summary.p50_seconds, "%.1f") + " / " +
           number_text(1000 * summary.p95_seconds, "%.1f") + " / " +
           number_text(1000 * summary.p99_seconds, "%.1f") + " ms"}};
  for (const auto& [word, count] : summary.by_cache_status) {
    rows.push_back({"answers " + word, number_text(count, "%.0f")});
  }
  print_table(std::cout, {"FLEET", ""}, rows);
  std::cout << "\n";
  std::vector<Row> buckets;
  for (const auto& bucket : summary.buckets) {
    buckets.push_back({bucket.bucket, number_text(bucket.requests, "%.0f"),
                       number_text(bucket.requests == 0 ? 0 : 100 * bucket.hits / bucket.requests,
                                   "%.1f %%"),
                       bytes_text(bucket.sent_bytes), bytes_text(bucket.saved_bytes),
                       bytes_text(bucket.origin_bytes)});
  }
  print_table(std::cout, {"BUCKET", "REQUESTS", "HITS", "SENT", "SAVED", "ORIGIN"}, buckets);
  return 0;
}

}  // namespace

void add_stats_command(CLI::App& app, Invocation& invocation) {
  app.add_subcommand("stats", "The fleet's traffic, hit ratio, savings and latency, per bucket "
                              "too (every proxy's last report summed)")
      ->callback([&invocation] { invocation.exit_status = show_stats(invocation); });
}

}  // namespace s3hc::cli
