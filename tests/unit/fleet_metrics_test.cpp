#include "controlplane/fleet_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

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
  const auto stats = fleet.sum({});
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

// Two proxies on one shared directory report its size alike; their connections are their own.
TEST(FleetMetricsTest, TheSharedDirectorysGaugesCountOnceOtherGaugesAdd) {
  control::FleetMetrics fleet;
  for (const auto& [proxy, size, connections] :
       {std::tuple{"a", 1000.0, 3.0}, std::tuple{"b", 1200.0, 4.0}}) {
    v1::MetricsReport report;
    report.set_proxy_id(proxy);
    add_family(report, "s3hc_cache_size_bytes", v1::MetricFamily::GAUGE, {})
        ->add_points()
        ->set_gauge(size);  // b's report is the more recent accounting
    add_family(report, "s3hc_open_connections", v1::MetricFamily::GAUGE, {})
        ->add_points()
        ->set_gauge(connections);
    fleet.report(report);
  }
  const auto stats = fleet.sum({});
  std::map<std::string, double> gauges;
  for (const auto& family : stats.families()) gauges[family.name()] = family.points(0).gauge();
  EXPECT_DOUBLE_EQ(gauges.at("s3hc_cache_size_bytes"), 1200);
  EXPECT_DOUBLE_EQ(gauges.at("s3hc_open_connections"), 7);
}

// A proxy gone silent: what it did stays counted, what it held is no longer known.
TEST(FleetMetricsTest, ALostProxysCountersStayItsGaugesGo) {
  control::FleetMetrics fleet;
  for (const auto& [proxy, connections] : {std::tuple{"a", 3.0}, std::tuple{"b", 4.0}}) {
    auto report = report_of(proxy, 10, 1);
    add_family(report, "s3hc_open_connections", v1::MetricFamily::GAUGE, {})
        ->add_points()
        ->set_gauge(connections);
    fleet.report(report);
  }
  std::vector<v1::ProxyEntry> proxies(2);
  proxies[0].mutable_status()->set_proxy_id("a");
  proxies[1].mutable_status()->set_proxy_id("b");
  proxies[1].set_lost(true);
  const auto stats = fleet.sum(proxies);
  std::map<std::string, double> gauges;
  for (const auto& family : stats.families()) {
    if (family.type() == v1::MetricFamily::GAUGE) gauges[family.name()] = family.points(0).gauge();
  }
  EXPECT_DOUBLE_EQ(gauges.at("s3hc_open_connections"), 3);
  const auto summary = cli::summarize(stats);
  EXPECT_DOUBLE_EQ(summary.by_cache_status.at("HIT"), 20);
  EXPECT_DOUBLE_EQ(summary.by_cache_status.at("MISS"), 2);
}

}  // namespace
}  // namespace s3hc
