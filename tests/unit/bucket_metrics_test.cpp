#include "obs/bucket_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace s3hc::obs {
namespace {

// The label values of one family in the registry's snapshot.
std::set<std::string> labels_of(const MetricsRegistry& registry, const std::string& family,
                                std::size_t label) {
  std::set<std::string> values;
  for (const auto& each : registry.collect()) {
    if (each.name != family) continue;
    for (const auto& child : each.children) values.insert(child.label_values.at(label));
  }
  return values;
}

BucketRequest answered(std::string_view bucket, std::string_view status, std::uint64_t sent) {
  BucketRequest request;
  request.bucket = bucket;
  request.cache_status = status;
  request.sent_bytes = sent;
  request.first_byte_seconds = 0.001;
  request.total_seconds = 0.002;
  return request;
}

TEST(BucketMetricsTest, TenThousandBucketsMakeABoundedNumberOfLabels) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, {.buckets = {"ml-training"}, .max_buckets = 50});
  for (int i = 0; i < 10'000; ++i) {
    buckets.record(answered("bucket-" + std::to_string(i), "HIT", 10));
  }
  buckets.record(answered("ml-training", "MISS", 7));
  const auto labels = labels_of(registry, "s3hc_bucket_sent_bytes_total", 0);
  EXPECT_EQ(labels.size(), 50u + 1 + 1);  // the first 50, the configured one, __other__
  EXPECT_TRUE(labels.contains("bucket-0"));
  EXPECT_TRUE(labels.contains("bucket-49"));
  EXPECT_FALSE(labels.contains("bucket-50"));
  EXPECT_TRUE(labels.contains("ml-training"));  // configured: its own, however late it came
  EXPECT_TRUE(labels.contains(std::string(BucketMetrics::kOther)));
  EXPECT_LE(labels_of(registry, "s3hc_bucket_requests_total", 0).size(), 52u);
  EXPECT_EQ(labels_of(registry, "s3hc_request_seconds", 0).size(), BucketMetrics::kStatuses.size());
}

// The value of one child of a family, or -1 when it has none for these labels.
double value_of(const MetricsRegistry& registry, const std::string& family,
                const std::vector<std::string>& labels) {
  for (const auto& each : registry.collect()) {
    if (each.name != family) continue;
    for (const auto& child : each.children) {
      if (child.label_values == labels) return static_cast<double>(std::get<std::uint64_t>(child.value));
    }
  }
  return -1;
}

double sent_by(const MetricsRegistry& registry, const std::string& label) {
  return value_of(registry, "s3hc_bucket_sent_bytes_total", {label});
}

double total_sent(const MetricsRegistry& registry) {
  double total = 0;
  for (const auto& label : labels_of(registry, "s3hc_bucket_sent_bytes_total", 0)) {
    total += sent_by(registry, label);
  }
  return total;
}

// No ranking but the test's own (rerank()).
BucketMetricsOptions ranked_every_hour(std::size_t max_buckets) {
  BucketMetricsOptions options;
  options.max_buckets = max_buckets;
  options.rerank_interval = std::chrono::hours(1);
  return options;
}

TEST(BucketMetricsTest, TheBusiestBucketsTakeTheLabelsOfTheQuietest) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, ranked_every_hour(2));
  buckets.record(answered("quiet", "HIT", 10));
  buckets.record(answered("steady", "HIT", 1'000'000));
  for (int i = 0; i < 10; ++i) buckets.record(answered("late-and-busy", "MISS", 1'000'000));
  using Labels = std::set<std::string>;
  EXPECT_EQ(labels_of(registry, "s3hc_bucket_sent_bytes_total", 0),
            (Labels{"quiet", "steady", "__other__"}));  // first come, until ranked
  EXPECT_EQ(total_sent(registry), 11'000'010);

  buckets.rerank();
  EXPECT_EQ(labels_of(registry, "s3hc_bucket_sent_bytes_total", 0),
            (Labels{"late-and-busy", "steady", "__other__"}));
  EXPECT_EQ(labels_of(registry, "s3hc_bucket_requests_total", 0),
            (Labels{"late-and-busy", "steady", "__other__"}));
  // The quiet bucket's counts went to __other__: no sum over buckets goes back.
  EXPECT_EQ(sent_by(registry, "__other__"), 10'000'010);
  EXPECT_EQ(value_of(registry, "s3hc_bucket_requests_total", {"__other__", "HIT"}), 1);
  EXPECT_EQ(total_sent(registry), 11'000'010);
  // The new label counts from zero; the bucket's past stays in __other__.
  buckets.record(answered("late-and-busy", "HIT", 5));
  EXPECT_EQ(sent_by(registry, "late-and-busy"), 5);
  buckets.record(answered("quiet", "HIT", 1));
  EXPECT_EQ(sent_by(registry, "__other__"), 10'000'011);
}

TEST(BucketMetricsTest, ALabelChangesHandsOnlyForTwiceTheTraffic) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, ranked_every_hour(1));
  buckets.record(answered("holder", "HIT", 100'000));
  buckets.record(answered("rival", "HIT", 150'000));  // busier, not twice as busy
  buckets.rerank();
  EXPECT_TRUE(labels_of(registry, "s3hc_bucket_sent_bytes_total", 0).contains("holder"));
  for (int i = 0; i < 3; ++i) buckets.record(answered("rival", "HIT", 150'000));
  buckets.rerank();  // scores halved at each ranking; the rival now has far more than twice
  const auto labels = labels_of(registry, "s3hc_bucket_sent_bytes_total", 0);
  EXPECT_TRUE(labels.contains("rival"));
  EXPECT_FALSE(labels.contains("holder"));
}

TEST(BucketMetricsTest, ABusyBucketIsFoundAmongTenThousandQuietOnes) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, ranked_every_hour(10));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10'000; ++i) {
      buckets.record(answered("bucket-" + std::to_string(i), "HIT", 10));
      // (first seen once the free labels are gone)
      if (i % 100 == 50) buckets.record(answered("hidden-giant", "MISS", 1'000'000));
    }
  }
  EXPECT_FALSE(labels_of(registry, "s3hc_bucket_sent_bytes_total", 0).contains("hidden-giant"));
  buckets.rerank();
  const auto labels = labels_of(registry, "s3hc_bucket_sent_bytes_total", 0);
  EXPECT_TRUE(labels.contains("hidden-giant"));
  EXPECT_EQ(labels.size(), 10u + 1);  // the bound holds: ten labels and __other__
  // Only the giant changed places: the quiet ones passing through the table did not churn.
  for (int i = 1; i < 10; ++i) EXPECT_TRUE(labels.contains("bucket-" + std::to_string(i))) << i;
}

TEST(BucketMetricsTest, AConfiguredPrefixHasItsOwnLabel) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, {.buckets = {"data/train/", "data/train/images/"},
                                   .max_buckets = 0});
  for (const auto* key : {"train/a", "train/images/b", "train/images/c", "test/d"}) {
    auto request = answered("data", "HIT", 1);
    request.key = key;
    buckets.record(request);
  }
  const auto text = registry.render_prometheus();
  EXPECT_NE(text.find("s3hc_bucket_sent_bytes_total{bucket=\"data/train/\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_sent_bytes_total{bucket=\"data/train/images/\"} 2\n"),
            std::string::npos);  // the longest prefix
  EXPECT_NE(text.find("s3hc_bucket_sent_bytes_total{bucket=\"__other__\"} 1\n"), std::string::npos);
}

TEST(BucketMetricsTest, BytesFromTheCacheAreSavedTheRestCameFromTheOrigin) {
  MetricsRegistry registry;
  BucketMetrics buckets(registry, {});
  for (const auto* status : {"HIT", "REVALIDATED", "COALESCED"}) {
    buckets.record(answered("b", status, 100));
  }
  for (const auto* status : {"MISS", "BYPASS", "PARTIAL", ""}) {
    buckets.record(answered("b", status, 10));
  }
  auto write = answered("b", "", 1);
  write.write = true;
  write.received_bytes = 5000;
  buckets.record(write);
  const auto text = registry.render_prometheus();
  EXPECT_NE(text.find("s3hc_bucket_saved_bytes_total{bucket=\"b\"} 300\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_origin_bytes_total{bucket=\"b\"} 41\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_sent_bytes_total{bucket=\"b\"} 341\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_written_bytes_total{bucket=\"b\"} 5000\n"), std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_requests_total{bucket=\"b\",cache_status=\"none\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("s3hc_bucket_requests_total{bucket=\"b\",cache_status=\"HIT\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace s3hc::obs
