#include "pipeline/cache_fill.h"

#include <spdlog/spdlog.h>

#include "cache/store/compression_policy.h"
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
                     std::int64_t fetched_at_ms, bool may_compress,
                     std::unique_ptr<cache::FillLease> lease)
    : cache_(cache),
      object_(std::move(object)),
      body_(std::move(body)),
      fetched_at_ms_(fetched_at_ms),
      may_compress_(may_compress),
      lease_(std::move(lease)) {}

// An unfinished fill removes its temp file: file I/O, but rare (the body ended early) and short.
CacheFill::~CacheFill() = default;

void CacheFill::report_to(std::shared_ptr<FillProgress> progress) {
  progress_ = std::move(progress);
  if (failed_) progress_->drop_file();
}

boost::asio::awaitable<void> CacheFill::on_body(std::span<const char> bytes, bool last) {
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
    if (progress_) progress_->drop_file();
    fill_.reset();
    lease_.reset();
  }
}

void CacheFill::tell_progress() {
  if (progress_) progress_->file_grew([this](auto& file) { fill_->describe_written(file); });
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
        may_compress_ &&
        !cache::known_incompressible(header_value(body_.meta.headers, "content-type"), object_.key);
    fill_ = cache_.store.begin_fill(object_, body_.meta, body_.bytes.first, compress,
                                    fetched_at_ms_);
  }
  fill_->append({bytes.data(), bytes.size()});
  cache_.metrics.fill_bytes.inc(bytes.size());
  if (!last) {
    tell_progress();
    return;
  }
  if (fill_->length() != body_.bytes.length()) {
    throw std::runtime_error("body length differs from its Content-Length");
  }
  if (cache_.store.commit(*fill_)) {
    cache_.metrics.fills_committed.inc();
    tell_progress();  // the whole file, under its final name
  } else {
    cache_.metrics.fills_superseded.inc();
  }
  fill_.reset();
  lease_.reset();  // waiters find the bytes now
}

}  // namespace s3hc::pipeline
