#include "pipeline/cache_handler.h"

#include <boost/beast/http/field.hpp>

#include "pipeline/blocking_io.h"
#include "pipeline/forward_handler.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/read_path.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

bool is_sse_customer_header(std::string_view name) {
  constexpr std::string_view kPrefix = "x-amz-server-side-encryption-customer-";
  return name.size() >= kPrefix.size() &&
         boost::beast::iequals(name.substr(0, kPrefix.size()), kPrefix);
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

bool is_write(bhttp::verb method) {
  return method == bhttp::verb::put || method == bhttp::verb::post ||
         method == bhttp::verb::delete_;
}

// Drops the cached object once the origin's answer to a write arrives, before the client
// sees it: whoever reads after the write completed finds no stale bytes.
class InvalidateOnAnswer final : public BodyTap {
 public:
  InvalidateOnAnswer(CacheContext& cache, s3::ObjectAddress object)
      : cache_(cache), object_(std::move(object)) {}

  asio::awaitable<void> on_body(std::span<const char>, bool last) override {
    if (last) co_await invalidate();
  }

  asio::awaitable<void> invalidate() {
    if (done_) co_return;
    done_ = true;
    co_await offload(cache_.io, [this] { cache_.store.invalidate(object_); });
    cache_.metrics.invalidations.inc();
  }

 private:
  CacheContext& cache_;
  s3::ObjectAddress object_;
  bool done_ = false;
};

}  // namespace

asio::awaitable<bool> CacheHandler::handle(http::ClientConnection& client,
                                           http::RequestParser& request) {
  const auto& header = request.get().base();
  if (request.is_done()) {  // reads carry no body
    auto classification = classify(header, cache_.addressing);
    if (classification.read) {
      ReadPath read(client, request, origin_, cache_, std::move(*classification.read));
      co_return co_await read.run();
    }
  }
  if (is_write(header.method())) {
    if (auto object = s3::object_address(header.target(), header[bhttp::field::host],
                                         cache_.addressing)) {
      InvalidateOnAnswer invalidation(cache_, std::move(*object));
      OriginExchange exchange(client, request, origin_);
      const bool answered = co_await exchange.open();
      // Even without an answer the origin may have applied the write.
      if (!answered) {
        co_await invalidation.invalidate();
        co_return exchange.client_keep_alive();
      }
      const bool keep_alive = co_await exchange.relay(&invalidation);
      co_await invalidation.invalidate();
      co_return keep_alive;
    }
  }
  co_return co_await forward(client, request, origin_);
}

}  // namespace s3hc::pipeline
