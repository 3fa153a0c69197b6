#include <gtest/gtest.h>

#include "s3/error_response.h"

namespace s3hc::s3 {
namespace {

namespace http = boost::beast::http;

TEST(ErrorResponseTest, XmlHasS3Shape) {
  const auto xml = error_xml(errors::kBadGateway, "/bucket/key", "ABC123");
  EXPECT_EQ(xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>BadGateway</Code>"
            "<Message>The origin closed the connection or sent an invalid response.</Message>"
            "<Resource>/bucket/key</Resource><RequestId>ABC123</RequestId></Error>");
}

TEST(ErrorResponseTest, ResourceIsEscaped) {
  const auto xml = error_xml(errors::kBadRequest, "/b/<a&b>\"'\x01", "X");
  EXPECT_NE(xml.find("<Resource>/b/&lt;a&amp;b&gt;&quot;&apos;</Resource>"), std::string::npos);
}

TEST(ErrorResponseTest, ResponseCarriesStatusHeadersAndKeepAlive) {
  const auto response = error_response(errors::kServiceUnavailable, "/b", false);
  EXPECT_EQ(response.result(), http::status::service_unavailable);
  EXPECT_EQ(response[http::field::content_type], "application/xml");
  EXPECT_EQ(response["x-amz-request-id"].size(), 16u);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_NE(response.body().find("<Code>ServiceUnavailable</Code>"), std::string::npos);
  EXPECT_TRUE(error_response(errors::kBadRequest, "/", true).keep_alive());
}

TEST(ErrorResponseTest, StatusesMatchS3) {
  EXPECT_EQ(errors::kRequestTimeout.status, http::status::bad_request);
  EXPECT_EQ(errors::kHeaderTooLarge.status, http::status::bad_request);
  EXPECT_EQ(errors::kGatewayTimeout.status, http::status::gateway_timeout);
  // What SDKs recognise as throttling and retry with backoff.
  EXPECT_EQ(errors::kSlowDown.status, http::status::service_unavailable);
  EXPECT_EQ(errors::kSlowDown.code, "SlowDown");
}

TEST(ErrorResponseTest, TheCodeOfAnErrorDocument) {
  EXPECT_EQ(error_code_of(error_xml(errors::kNoSuchKey, "/b/k", "ID")), "NoSuchKey");
  EXPECT_EQ(error_code_of("<Error><Code>NoSuchBucket</Code><BucketName>b</BucketName></Error>"),
            "NoSuchBucket");
  EXPECT_EQ(error_code_of("<Other><Code>NoSuchKey</Code></Other>"), std::nullopt);
  EXPECT_EQ(error_code_of("<Error><Message>no code</Message></Error>"), std::nullopt);
  EXPECT_EQ(error_code_of("<Error><Code>NoSuchKey</Code>"), std::nullopt);  // cut short
  EXPECT_EQ(errors::kNoSuchKey.status, http::status::not_found);
}

TEST(ErrorResponseTest, RequestIdsDiffer) { EXPECT_NE(new_request_id(), new_request_id()); }

}  // namespace
}  // namespace s3hc::s3
