#include "pipeline/fill_producer.h"

#include <spdlog/spdlog.h>

namespace s3hc::pipeline {
namespace {

// Ends a fill however its producer stops, an exception included (the producer is spawned
// detached: an exception would otherwise leave its readers waiting for bytes that never
// come). An unfinished fill removes its temp file and gives its lease up before anyone hears
// of its end: a request that then looks again finds no half of it.
class FillEnding {
 public:
  FillEnding(CacheContext& cache, std::unique_ptr<CacheFill> fill,
             std::shared_ptr<FillProgress> progress, std::string name)
      : cache_(cache),
        fill_(std::move(fill)),
        progress_(std::move(progress)),
        name_(std::move(name)) {
    cache_.metrics.fills_in_flight.add(1);
  }
  FillEnding(const FillEnding&) = delete;
  FillEnding& operator=(const FillEnding&) = delete;

  ~FillEnding() {
    fill_.reset();
    if (!name_.empty()) cache_.fills.remove(name_, *progress_);
    progress_->finish(complete_);
    cache_.metrics.fills_in_flight.add(-1);
  }

  CacheFill& fill() { return *fill_; }
  FillProgress& progress() { return *progress_; }
  void completed() { complete_ = true; }

 private:
  CacheContext& cache_;
  std::unique_ptr<CacheFill> fill_;
  std::shared_ptr<FillProgress> progress_;
  std::string name_;
  bool complete_ = false;
};

}  // namespace

boost::asio::awaitable<void> produce_fill(CacheContext& cache, OriginContext& origin,
                                          std::unique_ptr<BodySource> body,
                                          std::unique_ptr<CacheFill> fill,
                                          std::shared_ptr<FillProgress> progress,
                                          std::string name) {
  FillEnding ending(cache, std::move(fill), std::move(progress), std::move(name));
  auto& produced = ending.progress();
  const auto total = produced.bytes().length();
  auto buffer = origin.buffers.take();
  std::uint64_t done = 0;
  for (;;) {
    const auto got = co_await body->read(buffer.span());
    if (!got) co_return;  // the origin failed: logged and counted by the read
    const bool last = body->done();
    const std::string_view piece(buffer.span().data(), *got);
    // Into the cache first: bytes leave the readers' window only once the file holds them.
    co_await ending.fill().on_body(piece, last);
    produced.publish(piece);
    done += piece.size();
    if (last) break;
    // With no reader left, only a fill the cache keeps, and one worth finishing, goes on.
    if (produced.readers() == 0 &&
        (!produced.keeps_file() || !cache.policy.abandoned_fills.finishes(done, total))) {
      spdlog::debug("fill of {} bytes abandoned by its readers after {} bytes", total, done);
      cache.metrics.fills_abandoned.inc();
      co_return;
    }
  }
  body->finish();
  ending.completed();
}

}  // namespace s3hc::pipeline
