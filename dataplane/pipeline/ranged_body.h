// A whole object's body fetched as several concurrent ranged origin requests (a parallel fill,
// docs/CACHING.md): one origin connection is capped in rate (a far origin's round-trip time
// and window), a few at once are not.
//
// The first answer is the origin's 200 to the client's own request, whose header the client
// gets as is: only its first chunk is read, then its connection is closed. Each further chunk
// is asked of the origin with a copy of the client's request plus `Range` and `If-Match: <the
// first answer's ETag>` (headers its signature does not cover, which S3 does not check), so
// every byte is of the version the header announced. Up to `streams` chunks are in flight or
// waiting in memory at once (the one being read included): memory stays within streams x
// chunk bytes, counted in s3hc_buffered_bytes. Bytes are handed out in order, the chunk being
// read as it arrives.
//
// A chunk whose connection fails is asked for again once, from its first missing byte; any
// other failure (a 412: the object changed; another status, size or ETag; a second failure)
// ends the body with an error (read() gives nullopt), never with a byte of another version:
// the fill is dropped and its readers' answers end early, as when one origin answer fails.
//
// Thread-safety: one reader, on the worker thread that owns `origin`; the chunks' fetches run
// there too.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "pipeline/cache_policy.h"
#include "pipeline/origin_body.h"
#include "pipeline/origin_context.h"

namespace s3hc::pipeline {

class RangedBody final : public BodySource {
 public:
  // `first`: the body of the origin's 200 to `request`, of the object of `size` bytes and
  // ETag `etag`; `options.apply_to(size)` holds. The chunks' fetches start at once, on
  // `executor`.
  RangedBody(boost::asio::any_io_executor executor, OriginContext& origin,
             std::unique_ptr<OriginBody> first, boost::beast::http::request_header<> request,
             std::uint64_t size, std::string etag, const ParallelFills& options);
  RangedBody(const RangedBody&) = delete;
  RangedBody& operator=(const RangedBody&) = delete;
  // Fetches still running stop at their next step.
  ~RangedBody() override;

  boost::asio::awaitable<std::optional<std::size_t>> read(std::span<char> into) override;
  bool done() const override;
  void finish() override {}  // each chunk's connection went back to its pool as it ended

  struct Fetches;  // what the fetches share with the body; outlives it while they stop

 private:
  boost::asio::awaitable<std::optional<std::size_t>> read_first(std::span<char> into);
  // Starts the fetches of the chunks that may now be in flight.
  void start_fetches();

  std::shared_ptr<Fetches> fetches_;
  std::unique_ptr<OriginBody> first_;
  std::uint64_t offset_ = 0;  // body bytes handed out
};

}  // namespace s3hc::pipeline
