#include "obs/dashboard.h"

#include <gtest/gtest.h>

#include "controlplane/fleet_view.h"
#include "obs/prometheus_text.h"

namespace s3hc {
namespace {

using obs::histogram_quantile;

TEST(HistogramQuantile, InterpolatesWithinTheBucketAsPrometheusDoes) {
  // 2 observations <= 1, 4 in (1, 2], 4 in (2, 4], none above.
  const std::vector<double> bounds = {1, 2, 4};
  const std::vector<std::uint64_t> counts = {2, 6, 10, 10};
  EXPECT_DOUBLE_EQ(histogram_quantile(0.5, bounds, counts), 1.75);  // rank 5: 1 + 1 * 3/4
  EXPECT_DOUBLE_EQ(histogram_quantile(0.95, bounds, counts), 3.75);  // rank 9.5: 2 + 2 * 3.5/4
  EXPECT_DOUBLE_EQ(histogram_quantile(0.99, bounds, counts), 3.95);
  EXPECT_DOUBLE_EQ(histogram_quantile(0.1, bounds, counts), 0.5);  // from 0 in the first bucket
}

TEST(HistogramQuantile, TheHighestBoundInTheInfBucketAndZeroWhenEmpty) {
  EXPECT_DOUBLE_EQ(histogram_quantile(0.5, {1, 2}, {0, 1, 4}), 2);
  EXPECT_DOUBLE_EQ(histogram_quantile(0.5, {1, 2}, {0, 0, 0}), 0);
  EXPECT_DOUBLE_EQ(histogram_quantile(0.5, {}, {}), 0);
}

// A registry holding the families the dashboard reads, with known numbers.
struct KnownMetrics {
  KnownMetrics() {
    auto& requests = registry.counter_family("s3hc_requests_total", "", {"method", "status"});
    requests.with({"GET", "200"}).inc(7);
    requests.with({"GET", "503"}).inc(2);
    requests.with({"PUT", "500"});  // zero: not an error listed
    requests.with({"PUT", "404"}).inc(1);
    registry.counter("s3hc_client_sent_bytes_total", "").inc(5000);
    auto& by_status = registry.counter_family("s3hc_bucket_requests_total", "",
                                              {"bucket", "cache_status"});
    by_status.with({"a", "HIT"}).inc(3);
    by_status.with({"a", "MISS"}).inc(1);
    by_status.with({"b", "REVALIDATED"}).inc(1);
    by_status.with({"b", "COALESCED"}).inc(1);
    by_status.with({"b", "PARTIAL"}).inc(1);
    by_status.with({"b", "none"}).inc(2);  // no cache status: not a cache read
    auto& sent = registry.counter_family("s3hc_bucket_sent_bytes_total", "", {"bucket"});
    sent.with({"a"}).inc(100);
    sent.with({"b"}).inc(900);
    auto& saved = registry.counter_family("s3hc_bucket_saved_bytes_total", "", {"bucket"});
    saved.with({"a"}).inc(60);
    saved.with({"b"}).inc(500);
    auto& origin = registry.counter_family("s3hc_bucket_origin_bytes_total", "", {"bucket"});
    origin.with({"a"}).inc(40);
    origin.with({"b"}).inc(400);
    registry.counter_family("s3hc_bucket_written_bytes_total", "", {"bucket"}).with({"b"}).inc(77);
    registry.gauge("s3hc_cache_size_bytes", "").set(1234);
    registry.gauge("s3hc_cache_effective_capacity_bytes", "").set(99999);
    registry.gauge("s3hc_open_connections", "").set(3);
    registry.gauge("s3hc_requests_in_flight", "").set(1);
    registry.counter_family("s3hc_upstream_errors_total", "", {"kind"}).with({"timeout"}).inc(4);
    registry.counter_family("s3hc_requests_rejected_total", "", {"reason"}).with({"memory"});
    registry.counter("s3hc_cache_corrupt_reads_total", "").inc(1);
    registry.counter("s3hc_policy_errors_total", "");
    auto& seconds = registry.histogram_family("s3hc_request_seconds", "", {"cache_status"},
                                              {1, 2, 4});
    seconds.with({"HIT"}).observe(0.5);
    seconds.with({"HIT"}).observe(1.5);
    seconds.with({"MISS"}).observe(3);
    seconds.with({"MISS"}).observe(3.5);
    auto& first_byte = registry.histogram_family("s3hc_request_first_byte_seconds", "",
                                                 {"cache_status"}, {1, 2, 4});
    first_byte.with({"MISS"}).observe(0.5);
  }

  obs::MetricsRegistry registry;
};

const obs::DashboardContext kContext{.scope = "proxy",
                                     .now_unix_ms = 1700000000000,
                                     .policy_version = 5,
                                     .proxies = {{.id = "p1",
                                                  .version = "0.1.0",
                                                  .listen = "127.0.0.1:8080",
                                                  .lost = false,
                                                  .health = "ok",
                                                  .policy_version = 5,
                                                  .last_seen_ms_ago = 0}}};

TEST(Dashboard, TotalsAreTheSumsOfTheirSeries) {
  const KnownMetrics metrics;
  const auto json = obs::dashboard_json(metrics.registry.collect(), kContext);
  EXPECT_EQ(json["scope"], "proxy");
  EXPECT_EQ(json["generated_unix_ms"], 1700000000000);
  EXPECT_EQ(json["policy_version"], 5);
  const auto& totals = json["totals"];
  EXPECT_EQ(totals["requests"], 10);
  EXPECT_EQ(totals["hits"], 5);  // HIT 3, REVALIDATED 1, COALESCED 1
  EXPECT_DOUBLE_EQ(totals["hit_ratio"].get<double>(), 5.0 / 7);  // "none" is no cache read
  EXPECT_EQ(totals["sent_bytes"], 5000);
  EXPECT_EQ(totals["saved_bytes"], 560);
  EXPECT_EQ(totals["origin_bytes"], 440);
  EXPECT_EQ(totals["written_bytes"], 77);
  EXPECT_EQ(totals["cache_size_bytes"], 1234);
  EXPECT_EQ(totals["cache_capacity_bytes"], 99999);
  EXPECT_EQ(totals["open_connections"], 3);
  EXPECT_EQ(totals["requests_in_flight"], 1);
  EXPECT_TRUE(totals["requests"].is_number_integer());
  EXPECT_TRUE(totals["hit_ratio"].is_number_float());
}

TEST(Dashboard, BucketsMostBytesSentFirst) {
  const KnownMetrics metrics;
  const auto json = obs::dashboard_json(metrics.registry.collect(), kContext);
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"bucket":"b","requests":5,"hits":2,"sent_bytes":900,"saved_bytes":500,"origin_bytes":400},
    {"bucket":"a","requests":4,"hits":3,"sent_bytes":100,"saved_bytes":60,"origin_bytes":40}])");
  EXPECT_EQ(json["buckets"], expected);
}

TEST(Dashboard, ErrorsAreTheNonzeroFailureSeries) {
  const KnownMetrics metrics;
  const auto json = obs::dashboard_json(metrics.registry.collect(), kContext);
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"metric":"s3hc_upstream_errors_total","labels":"{kind=\"timeout\"}","count":4},
    {"metric":"s3hc_requests_total","labels":"{method=\"GET\",status=\"503\"}","count":2},
    {"metric":"s3hc_cache_corrupt_reads_total","labels":"","count":1}])");
  EXPECT_EQ(json["errors"], expected);
}

TEST(Dashboard, PercentilesOfTheHistogramsMergedOverCacheStatuses) {
  const KnownMetrics metrics;
  const auto json = obs::dashboard_json(metrics.registry.collect(), kContext);
  // HIT {1, 2, 2, 2} + MISS {0, 0, 2, 2}: {1, 2, 4, 4}.
  const auto& total = json["latency_seconds"]["total"];
  EXPECT_DOUBLE_EQ(total["p50"].get<double>(), histogram_quantile(0.5, {1, 2, 4}, {1, 2, 4, 4}));
  EXPECT_DOUBLE_EQ(total["p50"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(total["p95"].get<double>(), 3.8);
  EXPECT_DOUBLE_EQ(total["p99"].get<double>(), 3.96);
  EXPECT_DOUBLE_EQ(json["latency_seconds"]["first_byte"]["p99"].get<double>(), 0.99);
}

TEST(Dashboard, ProxiesAsGiven) {
  const auto json = obs::dashboard_json({}, kContext);
  const nlohmann::json expected = nlohmann::json::parse(R"([{"id":"p1","version":"0.1.0",
    "listen":"127.0.0.1:8080","state":"up","health":"ok","policy_version":5,
    "last_seen_ms_ago":0}])");
  EXPECT_EQ(json["proxies"], expected);
  // Without a cache nothing has a source: zeros, no buckets, no errors.
  EXPECT_EQ(json["totals"]["hits"], 0);
  EXPECT_EQ(json["totals"]["hit_ratio"], 0.0);
  EXPECT_EQ(json["buckets"], nlohmann::json::array());
  EXPECT_EQ(json["latency_seconds"]["total"]["p99"], 0.0);
}

// The control plane's path: a registry's numbers through the proto form (as a proxy reports
// them) back to a snapshot give the same dashboard and the same Prometheus text.
TEST(FleetView, TheProtoFormGivesTheSameDashboardAndText) {
  const KnownMetrics metrics;
  const auto snapshot = metrics.registry.collect();
  v1::FleetStatsResponse sum;
  for (const auto& family : snapshot) {
    auto& out = *sum.add_families();
    out.set_name(family.name);
    out.set_help(family.help);
    out.set_type(family.type == obs::MetricType::kCounter   ? v1::MetricFamily::COUNTER
                 : family.type == obs::MetricType::kGauge ? v1::MetricFamily::GAUGE
                                                           : v1::MetricFamily::HISTOGRAM);
    for (const auto& name : family.label_names) out.add_label_names(name);
    for (const auto& child : family.children) {
      auto& point = *out.add_points();
      for (const auto& value : child.label_values) point.add_label_values(value);
      if (const auto* counter = std::get_if<std::uint64_t>(&child.value)) {
        point.set_counter(*counter);
      } else if (const auto* gauge = std::get_if<std::int64_t>(&child.value)) {
        point.set_gauge(*gauge);
      } else {
        const auto& histogram = std::get<obs::HistogramSnapshot>(child.value);
        for (const auto bound : histogram.upper_bounds) point.add_upper_bounds(bound);
        for (const auto count : histogram.cumulative_counts) point.add_cumulative_counts(count);
        point.set_sum(histogram.sum);
      }
    }
  }
  v1::ProxyEntry up, lost, draining;
  up.mutable_status()->set_proxy_id("a");
  up.mutable_status()->add_listen_addresses("h:1");
  up.mutable_status()->set_healthy(true);
  up.mutable_status()->set_policy_version(4);
  up.set_last_seen_unix_ms(900);
  lost.mutable_status()->set_proxy_id("b");
  lost.set_lost(true);
  draining.mutable_status()->set_proxy_id("c");
  draining.mutable_status()->set_draining(true);
  const std::vector<v1::ProxyEntry> entries = {up, lost, draining};

  auto fleet = control::fleet_snapshot(sum, entries, 5);
  const auto text = obs::prometheus_text(fleet);
  EXPECT_EQ(text.substr(0, obs::prometheus_text(snapshot).size()),
            obs::prometheus_text(snapshot));
  EXPECT_NE(text.find("s3hc_control_proxies{state=\"lost\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_control_proxies{state=\"up\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_control_proxies{state=\"draining\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_control_policy_version 5\n"), std::string::npos);

  auto context = kContext;
  context.proxies.clear();
  EXPECT_EQ(obs::dashboard_json(fleet, context), obs::dashboard_json(snapshot, context));

  const auto proxies = control::dashboard_proxies(entries, 1000);
  ASSERT_EQ(proxies.size(), 3u);
  EXPECT_EQ(proxies[0].listen, "h:1");
  EXPECT_EQ(proxies[0].health, "ok");
  EXPECT_EQ(proxies[0].policy_version, 4u);
  EXPECT_EQ(proxies[0].last_seen_ms_ago, 100);
  EXPECT_FALSE(proxies[0].lost);
  EXPECT_TRUE(proxies[1].lost);
  EXPECT_EQ(proxies[1].health, "unhealthy");
  EXPECT_EQ(proxies[2].health, "draining");
}

}  // namespace
}  // namespace s3hc
