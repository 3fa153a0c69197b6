#include "pipeline/fill_progress.h"

#include "cache/cache_layout.h"

namespace s3hc::pipeline {

std::string fill_name(const s3::ObjectAddress& object, std::optional<std::uint32_t> part_number,
                      std::string_view range) {
  auto name = cache::CacheLayout::object_id(object.bucket, object.key);
  if (part_number) {
    name += " part ";
    name += std::to_string(*part_number);
  } else if (!range.empty()) {
    name += " range ";
    name.append(range);
  }
  return name;
}

FillProgress::~FillProgress() { buffered_.add(-static_cast<std::int64_t>(window_size_)); }

void FillProgress::file_grew(const std::function<void(cache::UnfinishedRangeFile&)>& update) {
  std::lock_guard lock(mutex_);
  if (file_) update(*file_);
}

void FillProgress::drop_file() {
  std::lock_guard lock(mutex_);
  file_.reset();
}

void FillProgress::publish(std::string_view bytes) {
  if (bytes.empty()) return;
  auto piece = std::make_shared<const std::string>(bytes);
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    window_size_ += piece->size();
    buffered_.add(static_cast<std::int64_t>(piece->size()));
    published_ += piece->size();
    window_.push_back(std::move(piece));
    drop_from_window();
    wakes = take_wakes();
  }
  for (auto& wake : wakes) wake();
}

void FillProgress::drop_from_window() {
  // The newest piece always stays, whatever its size; an older one leaves once the window is
  // full and its bytes are in complete blocks of the file (or there is no file to wait for).
  while (window_size_ > window_bytes_ && window_.size() > 1) {
    const auto& front = window_.front();
    if (file_ && window_first_ + front->size() > file_->length) break;
    window_first_ += front->size();
    window_size_ -= front->size();
    buffered_.add(-static_cast<std::int64_t>(front->size()));
    window_.pop_front();
  }
}

void FillProgress::finish(bool complete) {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    complete_ = complete;
    wakes = take_wakes();
  }
  for (auto& wake : wakes) wake();
}

std::vector<std::function<void()>> FillProgress::take_wakes() {
  std::vector<std::function<void()>> wakes;
  wakes.swap(wakes_);
  return wakes;
}

FillProgress::Next FillProgress::next(std::uint64_t offset) const {
  std::lock_guard lock(mutex_);
  Next next;
  next.ended = ended_ && offset >= published_;
  next.complete = complete_;
  if (offset >= published_) return next;
  if (offset < window_first_) {
    next.behind = true;
    return next;
  }
  // Readers are mostly near the newest bytes: look from the back.
  auto start = published_;
  for (auto piece = window_.rbegin(); piece != window_.rend(); ++piece) {
    start -= (*piece)->size();
    if (start <= offset) {
      next.piece = *piece;
      next.from = static_cast<std::size_t>(offset - start);
      break;
    }
  }
  return next;
}

bool FillProgress::wake_after(std::uint64_t offset, std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (ended_ || offset < published_) return false;
  wakes_.push_back(std::move(wake));
  return true;
}

std::optional<cache::UnfinishedRangeFile> FillProgress::unfinished_file() const {
  std::lock_guard lock(mutex_);
  return file_;
}

bool FillProgress::keeps_file() const {
  std::lock_guard lock(mutex_);
  return file_.has_value();
}

FillProgress::Reader::Reader(std::shared_ptr<FillProgress> progress)
    : progress_(std::move(progress)) {
  std::lock_guard lock(progress_->mutex_);
  ++progress_->readers_;
}

FillProgress::Reader::~Reader() {
  if (!progress_) return;  // moved from
  std::lock_guard lock(progress_->mutex_);
  --progress_->readers_;
}

std::size_t FillProgress::readers() const {
  std::lock_guard lock(mutex_);
  return readers_;
}

void FillRegistry::add(const std::string& name, std::shared_ptr<FillProgress> fill) {
  std::lock_guard lock(mutex_);
  fills_[name] = std::move(fill);
}

std::shared_ptr<FillProgress> FillRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto found = fills_.find(name);
  return found == fills_.end() ? nullptr : found->second;
}

void FillRegistry::remove(const std::string& name, const FillProgress& fill) {
  std::lock_guard lock(mutex_);
  const auto found = fills_.find(name);
  if (found != fills_.end() && found->second.get() == &fill) fills_.erase(found);
}

}  // namespace s3hc::pipeline
