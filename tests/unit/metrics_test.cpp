#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::obs {
namespace {

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST(MetricsTest, RendersCounterFamilyWithLabels) {
  MetricsRegistry registry;
  auto& requests = registry.counter_family("req_total", "Requests.", {"method", "status"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"PUT", "403"}).inc();
  const auto text = registry.render_prometheus();
  EXPECT_TRUE(contains(text, "# HELP req_total Requests.\n# TYPE req_total counter\n"));
  EXPECT_TRUE(contains(text, "req_total{method=\"GET\",status=\"200\"} 3\n"));
  EXPECT_TRUE(contains(text, "req_total{method=\"PUT\",status=\"403\"} 1\n"));
}

TEST(MetricsTest, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.counter_family("c", "h", {"l"}).with({"a\"b\\c\nd"}).inc();
  EXPECT_TRUE(contains(registry.render_prometheus(), "c{l=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsTest, GaugeGoesUpAndDown) {
  MetricsRegistry registry;
  auto& gauge = registry.gauge("open", "Open.");
  gauge.add(3);
  gauge.add(-1);
  EXPECT_TRUE(contains(registry.render_prometheus(), "# TYPE open gauge\nopen 2\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry registry;
  auto& histogram = registry.histogram("lat", "Latency.", {0.1, 1.0});
  histogram.observe(0.05);
  histogram.observe(0.5);
  histogram.observe(0.5);
  histogram.observe(7);
  const auto text = registry.render_prometheus();
  EXPECT_TRUE(contains(text, "lat_bucket{le=\"0.1\"} 1\n"));
  EXPECT_TRUE(contains(text, "lat_bucket{le=\"1\"} 3\n"));
  EXPECT_TRUE(contains(text, "lat_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(contains(text, "lat_sum 8.05\n"));
  EXPECT_TRUE(contains(text, "lat_count 4\n"));
}

TEST(MetricsTest, ValueOnABoundCountsInThatBucket) {
  Histogram histogram({1.0, 2.0});
  histogram.observe(1.0);
  EXPECT_EQ(histogram.cumulative_counts(), (std::vector<std::uint64_t>{1, 1, 1}));
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(MetricsTest, WrongLabelCountThrows) {
  MetricsRegistry registry;
  auto& family = registry.counter_family("x", "h", {"a", "b"});
  EXPECT_THROW(family.with({"only-one"}), std::invalid_argument);
}

// The exact exposition of every kind of metric, labelled and not: the text scrapers have been
// reading (rendering goes through collect() since the OTLP export; this must not move a byte).
TEST(MetricsTest, RendersTheExactExposition) {
  MetricsRegistry registry;
  auto& requests = registry.counter_family("req_total", "Requests.", {"method", "status"});
  requests.with({"PUT", "201"}).inc(2);
  requests.with({"GET", "200"}).inc(5);
  registry.gauge("open", "Open.").add(-3);
  registry.gauge_family("empty", "No child yet.", {"kind"});
  auto& latency = registry.histogram_family("lat_seconds", "Latency.", {"op"}, {0.25, 1.5});
  latency.with({"get"}).observe(0.1);
  latency.with({"get"}).observe(1.0);
  latency.with({"get"}).observe(2.2);
  EXPECT_EQ(registry.render_prometheus(),
            "# HELP req_total Requests.\n"
            "# TYPE req_total counter\n"
            "req_total{method=\"GET\",status=\"200\"} 5\n"
            "req_total{method=\"PUT\",status=\"201\"} 2\n"
            "# HELP open Open.\n"
            "# TYPE open gauge\n"
            "open -3\n"
            "# HELP empty No child yet.\n"
            "# TYPE empty gauge\n"
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"get\",le=\"0.25\"} 1\n"
            "lat_seconds_bucket{op=\"get\",le=\"1.5\"} 2\n"
            "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 3\n"
            "lat_seconds_sum{op=\"get\"} 3.3000000000000003\n"
            "lat_seconds_count{op=\"get\"} 3\n");
}

TEST(MetricsTest, CollectDescribesEveryFamilyInRegistrationOrder) {
  MetricsRegistry registry;
  auto& requests = registry.counter_family("req_total", "Requests.", {"method"});
  requests.with({"PUT"}).inc(2);
  requests.with({"GET"}).inc();
  registry.gauge("open", "Open.").set(-4);
  registry.histogram("lat", "Latency.", {1.0, 2.0}).observe(1.5);
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 3u);

  EXPECT_EQ(families[0].name, "req_total");
  EXPECT_EQ(families[0].help, "Requests.");
  EXPECT_EQ(families[0].type, MetricType::kCounter);
  EXPECT_EQ(families[0].label_names, std::vector<std::string>{"method"});
  ASSERT_EQ(families[0].children.size(), 2u);
  EXPECT_EQ(families[0].children[0].label_values, std::vector<std::string>{"GET"});
  EXPECT_EQ(std::get<std::uint64_t>(families[0].children[0].value), 1u);
  EXPECT_EQ(std::get<std::uint64_t>(families[0].children[1].value), 2u);

  EXPECT_EQ(families[1].type, MetricType::kGauge);
  EXPECT_TRUE(families[1].label_names.empty());
  ASSERT_EQ(families[1].children.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(families[1].children[0].value), -4);

  EXPECT_EQ(families[2].type, MetricType::kHistogram);
  ASSERT_EQ(families[2].children.size(), 1u);
  const auto& histogram = std::get<HistogramSnapshot>(families[2].children[0].value);
  EXPECT_EQ(histogram.upper_bounds, (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(histogram.cumulative_counts, (std::vector<std::uint64_t>{0, 1, 1}));
  EXPECT_EQ(histogram.sum, 1.5);
  EXPECT_EQ(histogram.count(), 1u);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  auto& family = registry.counter_family("n", "h", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family] {
      for (int i = 0; i < 10000; ++i) family.with({"same"}).inc();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.with({"same"}).value(), 40000u);
}

}  // namespace
}  // namespace s3hc::obs
