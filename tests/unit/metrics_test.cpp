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
