#include <gtest/gtest.h>

#include "s3/read_request.h"

namespace s3hc::s3 {
namespace {

const AddressingOptions kAws{};
const AddressingOptions kCustom{.virtual_host_suffixes = {".s3.example.internal"}};

TEST(ObjectAddressTest, PathStyle) {
  EXPECT_EQ(object_address("/bucket/dir/key.txt?x=1", "127.0.0.1:8080", kAws),
            (ObjectAddress{"bucket", "dir/key.txt"}));
  EXPECT_EQ(object_address("/bucket/a%20b/%E2%9C%93", "s3.amazonaws.com", kAws),
            (ObjectAddress{"bucket", "a b/\xE2\x9C\x93"}));
  EXPECT_EQ(object_address("/bucket/k", "s3.eu-west-1.amazonaws.com", kAws),
            (ObjectAddress{"bucket", "k"}));
}

TEST(ObjectAddressTest, VirtualHostedStyle) {
  EXPECT_EQ(object_address("/key", "bucket.s3.amazonaws.com", kAws), (ObjectAddress{"bucket", "key"}));
  EXPECT_EQ(object_address("/dir/key", "my.dotted.bucket.s3.us-east-1.amazonaws.com:80", kAws),
            (ObjectAddress{"my.dotted.bucket", "dir/key"}));
  EXPECT_EQ(object_address("/k", "Bucket-1.S3-us-west-2.amazonaws.com", kAws),
            (ObjectAddress{"bucket-1", "k"}));
  EXPECT_EQ(object_address("/k", "data.s3.example.internal", kCustom), (ObjectAddress{"data", "k"}));
}

TEST(ObjectAddressTest, NoObject) {
  for (const char* target : {"/", "/bucket", "/bucket/", "bucket/key", "/bucket/%zz"}) {
    EXPECT_FALSE(object_address(target, "localhost", kAws)) << target;
  }
  EXPECT_FALSE(object_address("/", "bucket.s3.amazonaws.com", kAws));
}

TEST(BucketAddressTest, BucketLevelRequestsOnly) {
  EXPECT_EQ(bucket_address("/bucket?delete", "localhost", kAws), "bucket");
  EXPECT_EQ(bucket_address("/bucket/?delete", "localhost", kAws), "bucket");
  EXPECT_EQ(bucket_address("/?delete", "photos.s3.us-east-1.amazonaws.com", kAws), "photos");
  EXPECT_FALSE(bucket_address("/bucket/key", "localhost", kAws));
  EXPECT_FALSE(bucket_address("/", "localhost", kAws));
  EXPECT_FALSE(bucket_address("/%zz?delete", "localhost", kAws));
}

ReadClassification classify(std::string_view method, std::string_view target,
                            ReadHeaders headers = {}) {
  return classify_read(method, target, "localhost:8080", headers, kAws);
}

TEST(ClassifyReadTest, CacheableReads) {
  auto result = classify("GET", "/b/k");
  ASSERT_TRUE(result.read);
  EXPECT_EQ(result.read->kind, ReadRequest::Kind::kGetObject);
  EXPECT_EQ(result.read->object, (ObjectAddress{"b", "k"}));
  EXPECT_FALSE(result.read->range);

  result = classify("HEAD", "/b/k");
  ASSERT_TRUE(result.read);
  EXPECT_EQ(result.read->kind, ReadRequest::Kind::kHeadObject);

  result = classify("GET", "/b/k", {.range = "bytes=0-99"});
  ASSERT_TRUE(result.read);
  EXPECT_EQ(result.read->range->last, 99u);

  result = classify("GET", "/b/k?partNumber=2");
  ASSERT_TRUE(result.read);
  EXPECT_EQ(result.read->part_number, 2u);

  result = classify("GET", "/b/k?x-id=GetObject&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=a");
  EXPECT_TRUE(result.read);  // presigned URL
  EXPECT_TRUE(classify("GET", "/b/k?AWSAccessKeyId=AKIA&Signature=c2ln&Expires=1700000000").read);
}

TEST(ClassifyReadTest, ForwardedRequests) {
  const std::vector<std::pair<ReadClassification, std::string_view>> cases = {
      {classify("PUT", "/b/k"), "not a read"},
      {classify("GET", "/b"), "no object in the target"},
      {classify("GET", "/b/k?versionId=3"), "versioned read"},
      {classify("GET", "/b/k?acl"), "sub-resource or response override"},
      {classify("GET", "/b/k?tagging"), "sub-resource or response override"},
      {classify("GET", "/b/k?attributes"), "sub-resource or response override"},
      {classify("GET", "/b/k?response-content-type=text/plain"), "sub-resource or response override"},
      {classify("GET", "/b/k?partNumber=0"), "bad partNumber"},
      {classify("GET", "/b/k?partNumber=10001"), "bad partNumber"},
      {classify("GET", "/b/k?p=%zz"), "malformed query"},
      {classify("GET", "/b/k", {.range = "", .has_sse_customer_key = true}), "SSE-C"},
      {classify("GET", "/b/k", {.range = "bytes=0-1,5-6"}), "multi-range or malformed Range"},
      {classify("HEAD", "/b/k", {.range = "bytes=0-1"}), "range on HEAD or part"},
      {classify("GET", "/b/k?partNumber=1", {.range = "bytes=0-1"}), "range on HEAD or part"},
  };
  for (const auto& [result, why] : cases) {
    EXPECT_FALSE(result.read) << why;
    EXPECT_EQ(result.why_not, why);
  }
}

}  // namespace
}  // namespace s3hc::s3
