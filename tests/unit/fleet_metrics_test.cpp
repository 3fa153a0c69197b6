#include "controlplane/fleet_metrics.h"

#include <gtest/gtest.h>

#include "cli/fleet_summary.h"

namespace s3hc {
namespace {

v1::MetricFamily* add_family(v1::MetricsReport& report, const std::string& name,
                             v1::MetricFamily::Type type, std::vector<std::string> labels) {
  auto* family = report.add_families();
  family->set_name(name);
  family->set_type(type);
  for (auto& label : labels) family->add_label_names(std::move(label));
  return family;
}

void add_counter(v1::MetricFamily& family, std::vector<std::string> labels, std::uint64_t value) {
  auto* point = family.add_points();
  for (auto& label : labels) point->add_label_values(std::move(label));
  point->set_counter(value);
}

void add_histogram(v1::MetricFamily& family, std::vector<std::string> labels,
                   std::vector<double> bounds, std::vector<std::uint64_t> cumulative) {
  auto* point = family.add_points();
  for (auto& label : labels) point->add_label_values(std::move(label));
  for (const auto bound : bounds) point->add_upper_bounds(bound);
  for (const auto count : cumulative) point->add_cumulative_counts(count);
}

// One proxy's report: `hits` HITs and `misses` MISSes on bucket "b", answers timed in a
// histogram with bounds 0.1 and 1 s.
v1::MetricsReport report_of(const std::string& proxy, std::uint64_t hits, std::uint64_t misses,
                            std::vector<double> bounds = {0.1, 1}) {
  v1::MetricsReport report;
  report.set_proxy_id(proxy);
  auto* requests = add_family(report, "s3hc_bucket_requests_total", v1::MetricFamily::COUNTER,
                              {"bucket", "cache_status"});
  add_counter(*requests, {"b", "HIT"}, hits);
  add_counter(*requests, {"b", "MISS"}, misses);
  auto* seconds = add_family(report, "s3hc_request_seconds", v1::MetricFamily::HISTOGRAM,
                             {"cache_status"});
  add_histogram(*seconds, {"HIT"}, bounds, {hits, hits, hits});
  add_histogram(*seconds, {"MISS"}, bounds, {0, misses, misses});
  return report;
}

TEST(FleetMetricsTest, EveryProxysLastReportIsSummedSeriesBySeries) {
  control::FleetMetrics fleet;
  fleet.report(report_of("a", 1, 1));
  fleet.report(report_of("a", 8, 2));  // a's last report replaces its first
  fleet.report(report_of("b", 10, 0));
  fleet.report(report_of("old", 5, 5, {0.5, 2}));  // other bounds: its histograms left out
  const auto stats = fleet.sum();
  EXPECT_EQ(stats.proxies_reporting(), 3u);
  const auto summary = cli::summarize(stats);
  EXPECT_DOUBLE_EQ(summary.by_cache_status.at("HIT"), 8 + 10 + 5);
  EXPECT_DOUBLE_EQ(summary.by_cache_status.at("MISS"), 2 + 0 + 5);
  EXPECT_DOUBLE_EQ(summary.hit_ratio, 23.0 / 30.0);
  ASSERT_EQ(summary.buckets.size(), 1u);
  EXPECT_DOUBLE_EQ(summary.buckets[0].requests, 30);
  // Merged: 18 answers at or below 0.1 s, 20 at or below 1 s (the "old" proxy's left out).
  EXPECT_LE(summary.p50_seconds, 0.1);
  EXPECT_GT(summary.p99_seconds, 0.1);
  EXPECT_LE(summary.p99_seconds, 1.0);
}

TEST(FleetSummaryTest, QuantilesInterpolateWithinTheirBucket) {
  // 10 at or below 1, 20 at or below 2, none above.
  EXPECT_DOUBLE_EQ(cli::quantile(0.5, {1, 2}, {10, 20, 20}), 1.0);
  EXPECT_DOUBLE_EQ(cli::quantile(0.75, {1, 2}, {10, 20, 20}), 1.5);
  EXPECT_DOUBLE_EQ(cli::quantile(0.25, {1, 2}, {10, 20, 20}), 0.5);
  EXPECT_DOUBLE_EQ(cli::quantile(0.99, {1, 2}, {0, 0, 5}), 2.0);  // past the last bound
  EXPECT_DOUBLE_EQ(cli::quantile(0.5, {1, 2}, {0, 0, 0}), 0.0);   // empty
}

}  // namespace
}  // namespace s3hc
