// What origin answers tell the cache, what cached answers carry, and what a written object's
// headers are rebuilt as.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <string>

#include "pipeline/cache_context.h"
#include "pipeline/cached_response.h"
#include "pipeline/origin_response.h"
#include "pipeline/written_object.h"

namespace s3hc::pipeline {
namespace {

namespace bhttp = boost::beast::http;

ResponseHeader answer(bhttp::status status) {
  ResponseHeader response;
  response.result(status);
  response.set(bhttp::field::etag, "\"e1\"");
  response.set(bhttp::field::last_modified, "Tue, 24 Nov 2026 10:00:00 GMT");
  response.set(bhttp::field::content_type, "text/plain");
  response.set("x-amz-meta-color", "blue");
  response.set("x-amz-request-id", "PER-REQUEST");
  response.set("x-amz-checksum-crc32", "AAAAAA==");
  return response;
}

bool has_header(const cache::HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (field == name) return true;
  }
  return false;
}

TEST(OriginResponseTest, WholeObjectAnswer) {
  auto response = answer(bhttp::status::ok);
  response.set(bhttp::field::content_length, "10");
  const auto body = cacheable_body(response, std::nullopt);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->bytes, (s3::ByteRange{0, 9}));
  EXPECT_EQ(body->meta.size, 10u);
  EXPECT_EQ(body->meta.etag, "\"e1\"");
  EXPECT_TRUE(has_header(body->meta.headers, "x-amz-meta-color"));
  EXPECT_TRUE(has_header(body->meta.headers, "Content-Type"));
  EXPECT_FALSE(has_header(body->meta.headers, "x-amz-request-id"));
  EXPECT_TRUE(has_header(body->meta.whole_object_headers, "x-amz-checksum-crc32"));
}

TEST(OriginResponseTest, RangeAndPartAnswers) {
  auto response = answer(bhttp::status::partial_content);
  response.set(bhttp::field::content_length, "5");
  response.set(bhttp::field::content_range, "bytes 5-9/20");
  auto body = cacheable_body(response, std::nullopt);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->bytes, (s3::ByteRange{5, 9}));
  EXPECT_EQ(body->meta.size, 20u);
  EXPECT_TRUE(body->meta.whole_object_headers.empty());  // a range's checksum is no object's

  response.set("x-amz-mp-parts-count", "4");
  body = cacheable_body(response, 2);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->meta.parts_count, 4u);
  ASSERT_EQ(body->meta.parts.size(), 1u);
  EXPECT_EQ(body->meta.parts[0].number, 2u);
  EXPECT_EQ(body->meta.parts[0].bytes, (s3::ByteRange{5, 9}));
}

TEST(OriginResponseTest, UnidentifiableAnswersAreNotCached) {
  auto response = answer(bhttp::status::ok);
  response.set(bhttp::field::transfer_encoding, "chunked");
  EXPECT_FALSE(cacheable_body(response, std::nullopt));  // length unknown
  response = answer(bhttp::status::ok);
  response.set(bhttp::field::content_length, "10");
  response.erase(bhttp::field::etag);
  EXPECT_FALSE(cacheable_body(response, std::nullopt));
  response = answer(bhttp::status::partial_content);
  response.set(bhttp::field::content_length, "4");
  response.set(bhttp::field::content_range, "bytes 5-9/20");  // length disagrees
  EXPECT_FALSE(cacheable_body(response, std::nullopt));
  EXPECT_FALSE(cacheable_body(answer(bhttp::status::not_modified), std::nullopt));
}

v1::CacheRecord cached_record() {
  v1::CacheRecord record;
  record.set_etag("\"e1\"");
  record.set_size(20);
  record.set_last_modified("Tue, 24 Nov 2026 10:00:00 GMT");
  record.set_parts_count(3);
  auto* header = record.add_headers();
  header->set_name("Content-Type");
  header->set_value("text/plain");
  header = record.add_whole_object_headers();
  header->set_name("x-amz-checksum-crc32");
  header->set_value("AAAAAA==");
  return record;
}

TEST(CachedResponseTest, RangeAnswer) {
  const auto text = cached_response_header(
      cached_record(), {.status = 206,
                        .content_range = s3::ContentRange{{5, 9}, 20},
                        .content_length = 5,
                        .with_checksums = false,
                        .with_parts_count = false,
                        .cache = from_cache(CacheStatus::kHit),
                        .keep_alive = true});
  EXPECT_TRUE(text.starts_with("HTTP/1.1 206 Partial Content\r\n"));
  EXPECT_NE(text.find("\r\nContent-Range: bytes 5-9/20\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nETag: \"e1\"\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nX-Cache: HIT\r\nCache-Status: s3hc; hit\r\n"), std::string::npos);
  EXPECT_EQ(text.find("x-amz-checksum"), std::string::npos);
  EXPECT_EQ(text.find("x-amz-mp-parts-count"), std::string::npos);
  EXPECT_EQ(text.find("Connection"), std::string::npos);
  EXPECT_TRUE(text.ends_with("\r\n\r\n"));
}

TEST(CachedResponseTest, WholeObjectPartAndNotModifiedAnswers) {
  auto text = cached_response_header(cached_record(), {.status = 200,
                                                       .content_range = std::nullopt,
                                                       .content_length = 20,
                                                       .with_checksums = true,
                                                       .with_parts_count = false,
                                                       .cache = from_cache(CacheStatus::kRevalidated, 304),
                                                       .keep_alive = false});
  EXPECT_NE(text.find("\r\nx-amz-checksum-crc32: AAAAAA==\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nX-Cache: REVALIDATED\r\nCache-Status: s3hc; fwd=stale; fwd-status=304\r\n"),
            std::string::npos);
  text = cached_response_header(cached_record(), {.status = 206,
                                                  .content_range = s3::ContentRange{{0, 9}, 20},
                                                  .content_length = 10,
                                                  .with_checksums = false,
                                                  .with_parts_count = true,
                                                  .cache = from_cache(CacheStatus::kHit),
                                                  .keep_alive = true});
  EXPECT_NE(text.find("\r\nx-amz-mp-parts-count: 3\r\n"), std::string::npos);
  text = cached_response_header(cached_record(), {.status = 304,
                                                  .content_range = std::nullopt,
                                                  .content_length = 0,
                                                  .with_checksums = false,
                                                  .with_parts_count = false,
                                                  .cache = from_cache(CacheStatus::kHit),
                                                  .keep_alive = true});
  EXPECT_TRUE(text.starts_with("HTTP/1.1 304 Not Modified\r\n"));
  EXPECT_EQ(text.find("Content-Length"), std::string::npos);
  EXPECT_NE(text.find("\r\nETag: \"e1\"\r\n"), std::string::npos);
}

TEST(WrittenObjectTest, AnswerGivesEncryptionVersionExpirationAndChecksums) {
  ResponseHeader response;
  response.result(bhttp::status::ok);
  response.set(bhttp::field::date, "Wed, 25 Nov 2026 10:00:00 GMT");
  response.set("x-amz-version-id", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
  response.set("x-amz-expiration",
               "expiry-date=\"Fri, 27 Nov 2026 00:00:00 GMT\", rule-id=\"r\"");
  response.set("x-amz-server-side-encryption", "aws:kms");
  response.set("x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:k");
  response.set("x-amz-server-side-encryption-bucket-key-enabled", "true");
  response.set("x-amz-server-side-encryption-context", "eyJhIjoiYiJ9");
  response.set("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=");
  response.set("x-amz-checksum-type", "FULL_OBJECT");
  response.set("x-amz-request-id", "PER-REQUEST");
  const auto meta = write_answer_meta(response, "\"w1\"");
  const cache::HeaderList expected = {
      {"x-amz-version-id", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
      {"x-amz-expiration", "expiry-date=\"Fri, 27 Nov 2026 00:00:00 GMT\", rule-id=\"r\""},
      {"x-amz-server-side-encryption", "aws:kms"},
      {"x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:k"},
      {"x-amz-server-side-encryption-bucket-key-enabled", "true"}};
  EXPECT_EQ(meta.headers, expected);  // not the context: GET does not answer with it
  const cache::HeaderList checksums = {{"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="},
                                       {"x-amz-checksum-type", "FULL_OBJECT"}};
  EXPECT_EQ(meta.whole_object_headers, checksums);
  EXPECT_EQ(meta.last_modified, "Wed, 25 Nov 2026 10:00:00 GMT");
}

TEST(WrittenObjectTest, HeadersRebuiltFromRequestAndAnswer) {
  RequestHeader request;
  request.method(bhttp::verb::put);
  request.target("/b/k");
  request.set(bhttp::field::content_encoding, "aws-chunked, gzip");
  request.set("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
  request.set("x-amz-decoded-content-length", "11");
  request.set("x-amz-meta-owner", "ml-team");
  request.set("x-amz-storage-class", "STANDARD");
  request.set("x-amz-tagging", "a=1&b=2");
  ResponseHeader response;
  response.result(bhttp::status::ok);
  response.set(bhttp::field::etag, "\"w1\"");
  response.set(bhttp::field::date, "Wed, 25 Nov 2026 10:00:00 GMT");
  response.set("x-amz-server-side-encryption", "AES256");

  EXPECT_TRUE(is_aws_chunked(request));
  EXPECT_EQ(declared_object_size(request), 11u);
  const auto meta = written_object_meta(request, response, 11);
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->etag, "\"w1\"");
  EXPECT_EQ(meta->size, 11u);
  EXPECT_TRUE(meta->from_write);
  EXPECT_EQ(meta->last_modified, "Wed, 25 Nov 2026 10:00:00 GMT");
  const cache::HeaderList expected = {{"Content-Encoding", "gzip"},
                                      {"x-amz-meta-owner", "ml-team"},
                                      {"x-amz-tagging-count", "2"},
                                      {"Content-Type", "binary/octet-stream"},
                                      {"x-amz-server-side-encryption", "AES256"}};
  EXPECT_EQ(meta->headers, expected);

  response.result(bhttp::status::forbidden);
  EXPECT_FALSE(written_object_meta(request, response, 11));

  // Request headers S3 may answer reads with otherwise than the proxy can rebuild: not cached.
  response.result(bhttp::status::ok);
  request.set("x-amz-object-lock-legal-hold", "ON");
  EXPECT_FALSE(written_object_meta(request, response, 11));

  RequestHeader plain;
  plain.set(bhttp::field::content_encoding, "gzip, br");  // spaces are no aws-chunked
  EXPECT_FALSE(is_aws_chunked(plain));
}

}  // namespace
}  // namespace s3hc::pipeline

namespace s3hc::pipeline {
namespace {

CachePolicy policy_with_get_ttl(std::int64_t ttl_ms) {
  return {.get_ttl_ms = ttl_ms, .head_ttl_ms = ttl_ms, .put_ttl_ms = ttl_ms,
          .merge_gap_bytes = 0, .write_through = true, .max_write_object_bytes = 0,
          .coalesce_timeout = std::chrono::milliseconds(0),
          .abandoned_fills = {},
          .parallel_fills = {},
          .read_ahead = {}};
}

TEST(FreshnessTest, FreshWithinTheTtlOfTheLastValidation) {
  v1::CacheRecord record;
  record.set_validated_at_unix_ms(10'000);
  const auto policy = policy_with_get_ttl(1000);
  EXPECT_TRUE(is_fresh(record, s3::ReadRequest::Kind::kGetObject, policy, 10'999));
  EXPECT_FALSE(is_fresh(record, s3::ReadRequest::Kind::kGetObject, policy, 11'000));
}

TEST(FreshnessTest, TtlZeroIsNeverFreshEvenWhenValidatedAfterTheRequestStarted) {
  // A request that waited for another one's fill and revalidation sees a validation time
  // later than its own clock reading: with TTL 0 it must still ask the origin.
  v1::CacheRecord record;
  record.set_validated_at_unix_ms(20'000);
  EXPECT_FALSE(is_fresh(record, s3::ReadRequest::Kind::kGetObject, policy_with_get_ttl(0),
                        19'000));
}

}  // namespace
}  // namespace s3hc::pipeline
