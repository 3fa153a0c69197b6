// The OTLP/HTTP JSON encoding of a registry snapshot, read back as JSON. (The integration
// test test_otlp.py decodes the proxy's exports with the official protobuf definitions.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

#include "obs/metrics.h"
#include "obs/otlp_metrics.h"

namespace s3hc::obs {
namespace {

using nlohmann::json;
using std::chrono::nanoseconds;
using std::chrono::system_clock;

const OtlpResource kResource{.service_name = "s3hc-proxy",
                             .service_instance_id = "host-a:8080",
                             .service_version = "1.2.3"};
const system_clock::time_point kStart{nanoseconds(1'700'000'000'123'456'789)};
const system_clock::time_point kNow{nanoseconds(1'700'000'060'000'000'001)};

json encode(const MetricsRegistry& registry) {
  return json::parse(encode_otlp_metrics(registry.collect(), kResource, kStart, kNow));
}

const json& metrics_of(const json& request) {
  return request.at("resourceMetrics").at(0).at("scopeMetrics").at(0).at("metrics");
}

const json& metric_named(const json& request, const std::string& name) {
  for (const auto& metric : metrics_of(request)) {
    if (metric.at("name") == name) return metric;
  }
  throw std::out_of_range("no metric " + name);
}

TEST(OtlpMetricsTest, CarriesTheResourceAndScope) {
  MetricsRegistry registry;
  const auto request = encode(registry);
  ASSERT_EQ(request.at("resourceMetrics").size(), 1u);
  const auto& resource_metrics = request.at("resourceMetrics").at(0);
  EXPECT_EQ(resource_metrics.at("resource").at("attributes"),
            json::parse(R"([
              {"key": "service.name", "value": {"stringValue": "s3hc-proxy"}},
              {"key": "service.instance.id", "value": {"stringValue": "host-a:8080"}},
              {"key": "service.version", "value": {"stringValue": "1.2.3"}}])"));
  const auto& scope = resource_metrics.at("scopeMetrics").at(0).at("scope");
  EXPECT_EQ(scope.at("name"), "s3hc-proxy");
  EXPECT_EQ(scope.at("version"), "1.2.3");
}

TEST(OtlpMetricsTest, CounterIsAMonotonicCumulativeSum) {
  MetricsRegistry registry;
  auto& requests = registry.counter_family("req_total", "Requests.", {"method", "status"});
  requests.with({"GET", "200"}).inc(7);
  const auto metric = metric_named(encode(registry), "req_total");
  EXPECT_EQ(metric.at("description"), "Requests.");
  const auto& sum = metric.at("sum");
  EXPECT_EQ(sum.at("isMonotonic"), true);
  EXPECT_EQ(sum.at("aggregationTemporality"), 2);  // CUMULATIVE, as an integer
  ASSERT_EQ(sum.at("dataPoints").size(), 1u);
  EXPECT_EQ(sum.at("dataPoints").at(0), json::parse(R"({
      "attributes": [{"key": "method", "value": {"stringValue": "GET"}},
                     {"key": "status", "value": {"stringValue": "200"}}],
      "startTimeUnixNano": "1700000000123456789",
      "timeUnixNano": "1700000060000000001",
      "asInt": "7"})"));
}

TEST(OtlpMetricsTest, GaugeIsAGaugeWithoutStartTime) {
  MetricsRegistry registry;
  registry.gauge("open", "Open.").set(-4);
  const auto metric = metric_named(encode(registry), "open");
  EXPECT_FALSE(metric.contains("sum"));
  EXPECT_EQ(metric.at("gauge").at("dataPoints"), json::parse(R"([{
      "attributes": [], "timeUnixNano": "1700000060000000001", "asInt": "-4"}])"));
}

TEST(OtlpMetricsTest, HistogramBucketsAreCountedPerBucket) {
  MetricsRegistry registry;
  auto& latency = registry.histogram("lat_seconds", "Latency.", {0.25, 1.5});
  for (const double seconds : {0.1, 0.2, 1.0, 9.0}) latency.observe(seconds);
  const auto metric = metric_named(encode(registry), "lat_seconds");
  const auto& histogram = metric.at("histogram");
  EXPECT_EQ(histogram.at("aggregationTemporality"), 2);
  const auto& point = histogram.at("dataPoints").at(0);
  // Prometheus says 2, 3, 4 (cumulative); OTLP wants each bucket's own count.
  EXPECT_EQ(point.at("bucketCounts"), json::parse(R"(["2", "1", "1"])"));
  EXPECT_EQ(point.at("explicitBounds"), json::parse("[0.25, 1.5]"));
  EXPECT_EQ(point.at("count"), "4");
  EXPECT_DOUBLE_EQ(point.at("sum").get<double>(), 10.3);
  EXPECT_EQ(point.at("startTimeUnixNano"), "1700000000123456789");
}

TEST(OtlpMetricsTest, LeavesOutFamiliesWithoutChildren) {
  MetricsRegistry registry;
  registry.counter_family("unused_total", "Nothing yet.", {"kind"});
  registry.counter("used_total", "Something.").inc();
  const auto request = encode(registry);
  ASSERT_EQ(metrics_of(request).size(), 1u);
  EXPECT_EQ(metrics_of(request).at(0).at("name"), "used_total");
}

TEST(OtlpMetricsTest, SpellsNonFiniteSumsAsTheProtobufMappingDoes) {
  MetricsRegistry registry;
  registry.histogram("inf", "h", {1.0}).observe(INFINITY);
  const auto point = metric_named(encode(registry), "inf").at("histogram").at("dataPoints").at(0);
  EXPECT_EQ(point.at("sum"), "Infinity");
}

TEST(OtlpMetricsTest, LabelValuesThatAreNotUtf8DoNotBreakTheExport) {
  MetricsRegistry registry;
  registry.counter_family("c_total", "h", {"l"}).with({"bad \xff byte"}).inc();
  const auto point = metric_named(encode(registry), "c_total").at("sum").at("dataPoints").at(0);
  EXPECT_EQ(point.at("attributes").at(0).at("value").at("stringValue"), "bad \xef\xbf\xbd byte");
}

}  // namespace
}  // namespace s3hc::obs
