#include <gtest/gtest.h>

#include "s3/read_request.h"

namespace s3hc::s3 {
namespace {

const AddressingOptions kAws{};

ReadClassification classify(std::string_view method, std::string_view target,
                            ReadHeaders headers = {}) {
  return classify_read(
      classify_operation({.method = method, .target = target, .host = "localhost:8080"}, kAws),
      headers);
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
      // Other operations (s3/operation.h says which; operation_test.cpp checks it).
      {classify("PUT", "/b/k"), "not GetObject or HeadObject"},
      {classify("GET", "/b"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?acl"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?tagging"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?attributes"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?uploadId=u"), "not GetObject or HeadObject"},  // ListParts
      {classify("GET", "/b/k?partNumber=0"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?partNumber=10001"), "not GetObject or HeadObject"},
      {classify("GET", "/b/k?p=%zz"), "not GetObject or HeadObject"},
      // GetObject and HeadObject the cache does not answer.
      {classify("GET", "/b/k?versionId=3"), "versioned read"},
      {classify("HEAD", "/b/k?partNumber=1&versionId=3"), "versioned read"},
      {classify("GET", "/b/k?response-content-type=text/plain"), "response override"},
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
