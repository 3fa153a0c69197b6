#include "pipeline/cache_fill.h"

#include <spdlog/spdlog.h>

#include "cache/compression_policy.h"
#include "pipeline/blocking_io.h"
#include "util/ascii.h"

namespace s3hc::pipeline {
namespace {

std::string_view header_value(const cache::HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (util::iequals(field, name)) return value;
  }
  return {};
}

}  // namespace

CacheFill::CacheFill(CacheContext& cache, s3::ObjectAddress object, CacheableBody body,
                     std::int64_t fetched_at_ms, std::unique_ptr<cache::FillLease> lease)
    : cache_(cache),
      object_(std::move(object)),
      body_(std::move(body)),
      fetched_at_ms_(fetched_at_ms),
      lease_(std::move(lease)) {}

// An unfinished fill removes its temp file: file I/O, but rare (the body ended early) and short.
CacheFill::~CacheFill() {
  if (!broadcast_) return;
  broadcast_->finish(false);  // (no-op after the last piece)
  cache_.broadcasts.end(broadcast_name_, *broadcast_);
}

void CacheFill::broadcast(std::string name, std::string header) {
  broadcast_name_ = std::move(name);
  broadcast_ = cache_.broadcasts.start(broadcast_name_, std::move(header), body_.bytes,
                                       body_.meta.etag, fetched_at_ms_);
}

boost::asio::awaitable<void> CacheFill::on_body(std::span<const char> bytes, bool last) {
  // Waiters get the origin's bytes whether or not the cache keeps them.
  if (broadcast_) {
    broadcast_->publish({bytes.data(), bytes.size()});
    if (last) broadcast_->finish(true);
  }
  if (failed_) co_return;
  try {
    co_await offload(cache_.io, [this, bytes, last] { append(bytes, last); });
  } catch (const std::exception& error) {
    // A full file system: counted and reported, logged once per round by the fleet engine.
    if (!note_no_space(cache_, error, body_.bytes.length())) {
      spdlog::warn("cache fill of {}/{} dropped: {}", object_.bucket, object_.key, error.what());
      cache_.metrics.fills_failed.inc();
    }
    failed_ = true;
    fill_.reset();
    lease_.reset();
  }
}

void CacheFill::append(std::span<const char> bytes, bool last) {
  if (body_.empty) {
    if (last) cache_.store.remember(object_, body_.meta, fetched_at_ms_);
    lease_.reset();
    return;
  }
  if (lease_) lease_->refresh();
  if (!fill_) {
    const bool compress =
        !cache::known_incompressible(header_value(body_.meta.headers, "content-type"), object_.key);
    fill_ = cache_.store.begin_fill(object_, body_.meta, body_.bytes.first, compress,
                                    fetched_at_ms_);
  }
  fill_->append({bytes.data(), bytes.size()});
  cache_.metrics.fill_bytes.inc(bytes.size());
  if (!last) return;
  if (fill_->length() != body_.bytes.length()) {
    throw std::runtime_error("body length differs from its Content-Length");
  }
  if (cache_.store.commit(*fill_)) {
    cache_.metrics.fills_committed.inc();
  } else {
    spdlog::debug("fill of {}/{} superseded by newer news of the object", object_.bucket,
                  object_.key);
  }
  fill_.reset();
  lease_.reset();  // waiters find the bytes now
}

}  // namespace s3hc::pipeline
