#include "obs/bucket_metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

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
