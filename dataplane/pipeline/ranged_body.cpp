#include "pipeline/ranged_body.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pipeline/origin_fetch.h"
#include "pipeline/origin_response.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

struct Chunk {
  s3::ByteRange bytes;
  std::unique_ptr<char[]> data;  // while fetched or waiting to be read
  std::uint64_t arrived = 0;
  bool done = false;
};

}  // namespace

struct RangedBody::Fetches {
  Fetches(asio::any_io_executor executor, OriginContext& origin,
          bhttp::request_header<> request, std::uint64_t size, std::string etag,
          const ParallelFills& options)
      : origin(origin),
        request(std::move(request)),
        size(size),
        etag(std::move(etag)),
        streams(static_cast<std::size_t>(options.streams)),
        wake(std::move(executor)) {
    for (std::uint64_t first = 0; first < size; first += options.chunk_bytes) {
      chunks.push_back({{first, std::min(first + options.chunk_bytes, size) - 1}, nullptr, 0,
                        false});
    }
  }
  Fetches(const Fetches&) = delete;
  Fetches& operator=(const Fetches&) = delete;
  ~Fetches() {
    for (auto& chunk : chunks) release(chunk);
  }

  void hold(Chunk& chunk) {
    chunk.data = std::make_unique_for_overwrite<char[]>(chunk.bytes.length());
    origin.metrics.buffered_bytes.add(static_cast<std::int64_t>(chunk.bytes.length()));
  }
  void release(Chunk& chunk) {
    if (!chunk.data) return;
    chunk.data.reset();
    origin.metrics.buffered_bytes.add(-static_cast<std::int64_t>(chunk.bytes.length()));
  }
  // Bytes arrived, or the fetch failed: the reader, should it wait, looks again.
  void notify() { wake.cancel(); }
  void fail() {
    failed = true;
    notify();
  }

  OriginContext& origin;
  const bhttp::request_header<> request;
  const std::uint64_t size;
  const std::string etag;
  const std::size_t streams;
  std::vector<Chunk> chunks;  // never resized after construction: fetches keep references
  std::size_t next_fetch = 1;  // chunk 0 comes with the first answer
  asio::steady_timer wake;
  bool failed = false;
  bool stopped = false;  // the body is gone
};

namespace {

constexpr int kAttemptsPerChunk = 2;

// Whether `response` carries exactly `asked` of the version the body is of.
bool is_asked_bytes(const ResponseHeader& response, s3::ByteRange asked,
                    const RangedBody::Fetches& fetches) {
  if (response.result_int() != 206) return false;
  const auto body = cacheable_body(response, std::nullopt);
  return body && body->bytes == asked && body->meta.size == fetches.size &&
         body->meta.etag == fetches.etag;
}

// Reads chunk `index` into memory; after a failed connection, once more from its first
// missing byte (the bytes before it were of the same version, If-Match says so).
asio::awaitable<void> fetch_chunk(std::shared_ptr<RangedBody::Fetches> fetches,
                                  std::size_t index) {
  auto& chunk = fetches->chunks[index];
  fetches->hold(chunk);
  for (int attempt = 0; attempt < kAttemptsPerChunk; ++attempt) {
    const s3::ByteRange asked{chunk.bytes.first + chunk.arrived, chunk.bytes.last};
    auto request = fetches->request;
    request.set(bhttp::field::range, s3::range_value(asked));
    request.set(bhttp::field::if_match, fetches->etag);
    const auto body = co_await fetch_from_origin(fetches->origin, request);
    if (fetches->stopped) co_return;
    if (!body) continue;
    if (!is_asked_bytes(body->response(), asked, *fetches)) {
      // 412: the object changed since the first answer; anything else is no chunk of it.
      spdlog::info("{}: parallel fill of {} stopped: the origin answered {} to {}",
                   fetches->request.target(), fetches->etag, body->response().result_int(),
                   s3::range_value(asked));
      break;
    }
    while (chunk.arrived < chunk.bytes.length()) {
      // (In pieces of a relay buffer: the connection's read buffer grows to what is asked.)
      const auto piece = std::min<std::uint64_t>(chunk.bytes.length() - chunk.arrived,
                                                  fetches->origin.options.relay_buffer_bytes);
      const auto got = co_await body->read({chunk.data.get() + chunk.arrived, piece});
      if (fetches->stopped) co_return;
      if (!got || *got == 0) break;  // failed, or ended short of its Content-Length
      chunk.arrived += *got;
      fetches->notify();
    }
    if (chunk.arrived == chunk.bytes.length() && body->done()) {
      body->finish();
      chunk.done = true;
      co_return;
    }
  }
  fetches->fail();
}

}  // namespace

RangedBody::RangedBody(asio::any_io_executor executor, OriginContext& origin,
                       std::unique_ptr<OriginBody> first, bhttp::request_header<> request,
                       std::uint64_t size, std::string etag, const ParallelFills& options)
    : fetches_(std::make_shared<Fetches>(std::move(executor), origin, std::move(request), size,
                                         std::move(etag), options)),
      first_(std::move(first)) {
  start_fetches();
}

RangedBody::~RangedBody() { fetches_->stopped = true; }

bool RangedBody::done() const { return offset_ == fetches_->size; }

void RangedBody::start_fetches() {
  auto& fetches = *fetches_;
  const auto reading = offset_ / fetches.chunks.front().bytes.length();
  while (fetches.next_fetch < fetches.chunks.size() &&
         fetches.next_fetch < reading + fetches.streams) {
    asio::co_spawn(fetches.wake.get_executor(), fetch_chunk(fetches_, fetches.next_fetch++),
                   [fetches = fetches_](std::exception_ptr error) {
                     if (error) fetches->fail();
                   });
  }
}

asio::awaitable<std::optional<std::size_t>> RangedBody::read(std::span<char> into) {
  auto& fetches = *fetches_;
  if (fetches.failed) co_return std::nullopt;
  if (done()) co_return 0;
  if (first_) co_return co_await read_first(into);
  auto& chunk = fetches.chunks[offset_ / fetches.chunks.front().bytes.length()];
  const auto from = offset_ - chunk.bytes.first;
  while (chunk.arrived == from) {
    fetches.wake.expires_at(asio::steady_timer::time_point::max());
    co_await fetches.wake.async_wait(asio::as_tuple(asio::use_awaitable));
    // (The fetches never wait for the reader: each is bounded by the upstream timeouts.)
    if (fetches.failed) co_return std::nullopt;
  }
  const auto count = std::min<std::uint64_t>(chunk.arrived - from, into.size());
  std::memcpy(into.data(), chunk.data.get() + from, count);
  offset_ += count;
  if (offset_ > chunk.bytes.last) {
    fetches.release(chunk);
    start_fetches();
  }
  co_return count;
}

asio::awaitable<std::optional<std::size_t>> RangedBody::read_first(std::span<char> into) {
  const auto& chunk = fetches_->chunks.front();
  const auto left = chunk.bytes.length() - offset_;
  const auto got = co_await first_->read(into.first(std::min<std::uint64_t>(into.size(), left)));
  // (The first answer announced the whole object: it cannot end within its first chunk.)
  if (!got || *got == 0) co_return std::nullopt;
  offset_ += *got;
  if (offset_ > chunk.bytes.last) {
    // The rest comes by ranges: the whole-object answer's connection is closed unread.
    first_.reset();
    start_fetches();
  }
  co_return got;
}

}  // namespace s3hc::pipeline
