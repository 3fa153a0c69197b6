#include "pipeline/fill_producer.h"

#include <spdlog/spdlog.h>

namespace s3hc::pipeline {

boost::asio::awaitable<void> produce_fill(CacheContext& cache, OriginContext& origin,
                                          OriginBody body, std::unique_ptr<CacheFill> fill,
                                          std::shared_ptr<FillProgress> progress,
                                          std::string name) {
  cache.metrics.fills_in_flight.add(1);
  const auto total = progress->bytes().length();
  auto buffer = origin.buffers.take();
  std::uint64_t done = 0;
  bool complete = false;
  for (;;) {
    const auto got = co_await body.read(buffer.span());
    if (!got) break;  // the origin failed: logged and counted by the read
    const bool last = body.done();
    const std::string_view piece(buffer.span().data(), *got);
    // Into the cache first: bytes leave the readers' window only once the file holds them.
    co_await fill->on_body(piece, last);
    progress->publish(piece);
    done += piece.size();
    if (last) {
      complete = true;
      break;
    }
    // With no reader left, only a fill the cache keeps, and one worth finishing, goes on.
    if (progress->readers() == 0 &&
        (!progress->keeps_file() || !cache.policy.abandoned_fills.finishes(done, total))) {
      spdlog::debug("fill of {} bytes abandoned by its readers after {} bytes", total, done);
      cache.metrics.fills_abandoned.inc();
      break;
    }
  }
  if (complete) body.finish();
  // An unfinished fill removes its temp file and gives its lease up before anyone hears of
  // its end: a request that then looks again finds no half of it.
  fill.reset();
  if (!name.empty()) cache.fills.remove(name, *progress);
  progress->finish(complete);
  cache.metrics.fills_in_flight.add(-1);
}

}  // namespace s3hc::pipeline
