// What an origin's answer to a cacheable read tells the cache (pipeline/origin_response.h),
// from the raw bytes of the response header as Beast parses them for the proxy.
// Input: the request's partNumber (empty: none), a newline, the response header
// ("HTTP/1.1 206 Partial Content\r\nContent-Range: ...\r\n\r\n").
// Checks: cacheable bytes lie within the object, agree with Content-Length, and a version
// always has its ETag.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/asio/buffer.hpp>
#include <string>

#include "fuzz_common.h"
#include "pipeline/origin_response.h"
#include "s3/operation.h"
#include "util/ascii.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 2);
  const auto part_number = s3hc::s3::parse_part_number(input[0]);

  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);  // the header only, as for an answer to HEAD
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(input[1].data(), input[1].size()), error);
  if (error || !parser.is_header_done()) return 0;
  const auto& response = parser.get().base();
  const auto content_length =
      s3hc::util::parse_decimal_u64(response[bhttp::field::content_length]);

  if (const auto meta = s3hc::pipeline::head_meta(response)) {
    S3HC_FUZZ_CHECK(response.result() == bhttp::status::ok);
    S3HC_FUZZ_CHECK(!meta->etag.empty());
    S3HC_FUZZ_CHECK(content_length && meta->size == *content_length);
  }
  if (const auto body = s3hc::pipeline::cacheable_body(response, part_number)) {
    S3HC_FUZZ_CHECK(!body->meta.etag.empty());
    S3HC_FUZZ_CHECK(content_length.has_value());
    if (body->empty) {
      S3HC_FUZZ_CHECK(*content_length == 0 && body->meta.size == 0);
    } else {
      S3HC_FUZZ_CHECK(body->bytes.first <= body->bytes.last);
      S3HC_FUZZ_CHECK(body->bytes.last < body->meta.size);
      S3HC_FUZZ_CHECK(body->bytes.length() == *content_length);
    }
    for (const auto& part : body->meta.parts) {
      S3HC_FUZZ_CHECK(part_number && part.number == *part_number);
    }
  }
  return 0;
}
