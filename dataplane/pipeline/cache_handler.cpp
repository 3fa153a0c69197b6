#include "pipeline/cache_handler.h"

#include <boost/beast/http/field.hpp>

#include "pipeline/forward_handler.h"
#include "pipeline/read_path.h"
#include "s3/request_target.h"
#include "pipeline/write_path.h"
#include "util/ascii.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

bool is_sse_customer_header(std::string_view name) {
  return util::starts_with_nocase(name, "x-amz-server-side-encryption-customer-");
}

s3::ReadClassification classify(const bhttp::request_header<>& request,
                                const s3::AddressingOptions& addressing) {
  s3::ReadHeaders headers{.range = request[bhttp::field::range],
                          .has_sse_customer_key = false};
  for (const auto& field : request) {
    if (is_sse_customer_header(field.name_string())) headers.has_sse_customer_key = true;
  }
  return s3::classify_read(request.method_string(), request.target(),
                           request[bhttp::field::host], headers, addressing);
}

// POST /bucket?delete
bool is_delete_objects(std::string_view target) {
  const auto query = s3::parse_query(s3::split_target(target).query);
  return query &&
         std::any_of(query->begin(), query->end(), [](const s3::QueryParameter& parameter) {
           return parameter.name == "delete";
         });
}

bool is_write(bhttp::verb method) {
  return method == bhttp::verb::put || method == bhttp::verb::post ||
         method == bhttp::verb::delete_;
}

}  // namespace

asio::awaitable<bool> CacheHandler::handle(http::ClientConnection& client,
                                           http::RequestParser& request) {
  const auto& header = request.get().base();
  if (request.is_done()) {  // reads carry no body
    auto classification = classify(header, cache_.addressing);
    if (classification.read) {
      ReadPath read(client, request, origin_, cache_, pieces_, std::move(*classification.read));
      co_return co_await read.run();
    }
  }
  if (is_write(header.method())) {
    if (auto object = s3::object_address(header.target(), header[bhttp::field::host],
                                         cache_.addressing)) {
      co_return co_await write_through(client, request, origin_, cache_, std::move(*object));
    }
    if (header.method() == bhttp::verb::post) {
      if (auto bucket = s3::bucket_address(header.target(), header[bhttp::field::host],
                                           cache_.addressing)) {
        if (is_delete_objects(header.target())) {
          co_return co_await delete_objects(client, request, origin_, cache_,
                                            std::move(*bucket));
        }
        if (util::starts_with_nocase(header[bhttp::field::content_type],
                                     "multipart/form-data")) {
          co_return co_await post_object(client, request, origin_, cache_, std::move(*bucket));
        }
      }
    }
  }
  co_return co_await forward(client, request, origin_);
}

}  // namespace s3hc::pipeline
