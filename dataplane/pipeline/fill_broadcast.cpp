#include "pipeline/fill_broadcast.h"

namespace s3hc::pipeline {

void FillBroadcast::publish(std::string_view bytes) {
  if (bytes.empty()) return;
  auto piece = std::make_shared<const std::string>(bytes);
  std::lock_guard lock(mutex_);
  window_ += piece->size();
  pieces_.push_back(std::move(piece));
  // The newest piece always stays, whatever its size.
  while (window_ > window_bytes_ && pieces_.size() > 1) {
    window_ -= pieces_.front()->size();
    pieces_.pop_front();
    ++first_index_;
  }
}

void FillBroadcast::finish(bool complete) {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  complete_ = complete;
}

FillBroadcast::Piece FillBroadcast::piece(std::size_t index) const {
  std::lock_guard lock(mutex_);
  if (index < first_index_) {
    return {.bytes = nullptr, .dropped = true, .ended = ended_, .complete = complete_};
  }
  if (index - first_index_ < pieces_.size()) {
    return {.bytes = pieces_[index - first_index_], .dropped = false, .ended = false,
            .complete = false};
  }
  return {.bytes = nullptr, .dropped = false, .ended = ended_, .complete = complete_};
}

std::shared_ptr<FillBroadcast> FillBroadcasts::start(const std::string& name, std::string header,
                                                     s3::ByteRange bytes, std::string etag,
                                                     std::int64_t fetched_at_ms) {
  auto broadcast =
      std::make_shared<FillBroadcast>(std::move(header), bytes, std::move(etag), fetched_at_ms);
  std::lock_guard lock(mutex_);
  fills_[name] = broadcast;
  return broadcast;
}

std::shared_ptr<FillBroadcast> FillBroadcasts::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto found = fills_.find(name);
  return found == fills_.end() ? nullptr : found->second;
}

void FillBroadcasts::end(const std::string& name, const FillBroadcast& broadcast) {
  std::lock_guard lock(mutex_);
  const auto found = fills_.find(name);
  if (found != fills_.end() && found->second.get() == &broadcast) fills_.erase(found);
}

}  // namespace s3hc::pipeline
