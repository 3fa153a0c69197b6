#include "pipeline/cache_handler.h"

#include <boost/beast/http/field.hpp>

#include "pipeline/forward_handler.h"
#include "pipeline/object_policy.h"
#include "pipeline/read_path.h"
#include "pipeline/write_path.h"
#include "s3/operation.h"
#include "s3/read_request.h"
#include "util/ascii.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

s3::RequestParts request_parts(const bhttp::request_header<>& request) {
  return {.method = request.method_string(),
          .target = request.target(),
          .host = request[bhttp::field::host],
          .content_type = request[bhttp::field::content_type],
          .has_copy_source = request.count("x-amz-copy-source") > 0};
}

bool is_sse_customer_header(std::string_view name) {
  return util::starts_with_nocase(name, "x-amz-server-side-encryption-customer-");
}

s3::ReadHeaders read_headers(const bhttp::request_header<>& request) {
  s3::ReadHeaders headers{.range = request[bhttp::field::range], .has_sse_customer_key = false};
  for (const auto& field : request) {
    if (is_sse_customer_header(field.name_string())) headers.has_sse_customer_key = true;
  }
  return headers;
}

// Requests that change the bucket (their bodies are its written bytes): all but reads of
// objects and the operations the cache does not distinguish (listings, bucket settings).
bool changes_bucket(s3::Operation::Kind kind) {
  using Kind = s3::Operation::Kind;
  return kind != Kind::kGetObject && kind != Kind::kHeadObject && kind != Kind::kOther;
}

}  // namespace

asio::awaitable<bool> CacheHandler::handle(http::ClientConnection& client,
                                           http::RequestParser& request) {
  auto operation = s3::classify_operation(request_parts(request.get().base()), cache_.addressing);
  auto& record = client.record();
  record.operation = s3::access_log_name(operation.kind);
  record.bucket = operation.address.bucket;
  record.key = operation.address.key;
  const bool write = changes_bucket(operation.kind);
  const bool keep_alive = co_await answer(client, request, std::move(operation));
  if (cache_.buckets && !record.bucket.empty()) {
    const auto now = http::RequestRecord::Clock::now();
    const auto seconds = [&](auto until) {
      return std::chrono::duration<double>(until - record.started).count();
    };
    cache_.buckets->record(
        {.bucket = record.bucket,
         .key = record.key,
         .cache_status = record.cache_status,
         .write = write,
         .sent_bytes = record.sent_bytes,
         .received_bytes = record.received_bytes,
         .first_byte_seconds = record.first_byte_sent ? seconds(*record.first_byte_sent) : -1.0,
         .total_seconds = seconds(now)});
  }
  co_return keep_alive;
}

asio::awaitable<bool> CacheHandler::answer(http::ClientConnection& client,
                                           http::RequestParser& request,
                                           s3::Operation operation) {
  using Kind = s3::Operation::Kind;
  const auto& header = request.get().base();
  switch (operation.kind) {
    case Kind::kGetObject:
    case Kind::kHeadObject:
      if (request.is_done()) {  // reads carry no body
        auto policy = object_policy(cache_.policy, cache_.policies, operation.address);
        auto classification = s3::classify_read(std::move(operation), read_headers(header));
        if (!classification.read) {
          co_return co_await bypass(client, request, origin_, cache_, classification.why_not);
        }
        if (!policy.read_caching) {
          co_return co_await bypass(client, request, origin_, cache_, "policy");
        }
        ReadPath read(client, request, origin_, cache_, std::move(policy), pieces_,
                      std::move(*classification.read));
        co_return co_await read.run();
      }
      break;
    case Kind::kPutObject:
    case Kind::kCopyObject:
    case Kind::kCreateMultipartUpload:
    case Kind::kUploadPart:
    case Kind::kUploadPartCopy:
    case Kind::kCompleteMultipartUpload:
    case Kind::kAbortMultipartUpload:
    case Kind::kDeleteObject:
    case Kind::kOtherObjectWrite: {
      const auto policy = object_policy(cache_.policy, cache_.policies, operation.address);
      co_return co_await write_through(client, request, origin_, cache_, policy,
                                       std::move(operation));
    }
    case Kind::kDeleteObjects:
      co_return co_await delete_objects(client, request, origin_, cache_,
                                        std::move(operation.address.bucket));
    case Kind::kPostObject:
      co_return co_await post_object(client, request, origin_, cache_,
                                     std::move(operation.address.bucket));
    case Kind::kOther:
      break;
  }
  co_return co_await forward(client, request, origin_);
}

}  // namespace s3hc::pipeline
