// Relay buffers of one size, recycled per worker thread. A fresh 128 KiB allocation per
// request would cost an mmap/munmap pair (glibc maps blocks that large) and page faults.
// Buffers on loan count in a process-wide gauge (s3hc_buffered_bytes, which admission judges
// by, http/admission.h); the free list does not: it is bounded per thread.
// Thread-safety: none; one instance per worker thread. Leases must not outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::http {

class RelayBuffers {
 public:
  // A buffer on loan; goes back to the free list when destroyed or assigned over.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), buffer_(std::move(other.buffer_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        give_back();
        owner_ = std::exchange(other.owner_, nullptr);
        buffer_ = std::move(other.buffer_);
      }
      return *this;
    }
    ~Lease() { give_back(); }

    std::span<char> span() const { return {buffer_.get(), owner_->buffer_size_}; }
    explicit operator bool() const { return buffer_ != nullptr; }

   private:
    friend class RelayBuffers;
    Lease(RelayBuffers* owner, std::unique_ptr<char[]> buffer)
        : owner_(owner), buffer_(std::move(buffer)) {}
    void give_back() {
      if (buffer_) owner_->give_back(std::move(buffer_));
    }

    RelayBuffers* owner_ = nullptr;
    std::unique_ptr<char[]> buffer_;
  };

  // `on_loan` counts the bytes of the buffers leased out (shared by every thread's instance).
  RelayBuffers(std::size_t buffer_size, std::size_t max_free, obs::Gauge& on_loan)
      : buffer_size_(buffer_size), max_free_(max_free), on_loan_(on_loan) {}

  Lease take() {
    on_loan_.add(static_cast<std::int64_t>(buffer_size_));
    if (free_.empty()) return {this, std::make_unique_for_overwrite<char[]>(buffer_size_)};
    auto buffer = std::move(free_.back());
    free_.pop_back();
    return {this, std::move(buffer)};
  }

 private:
  void give_back(std::unique_ptr<char[]> buffer) {
    on_loan_.add(-static_cast<std::int64_t>(buffer_size_));
    if (free_.size() < max_free_) free_.push_back(std::move(buffer));
  }

  std::size_t buffer_size_;
  std::size_t max_free_;
  obs::Gauge& on_loan_;
  std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace s3hc::http
