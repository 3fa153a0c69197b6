// Relay buffers of one size, recycled per worker thread. A fresh 128 KiB allocation per
// request would cost an mmap/munmap pair (glibc maps blocks that large) and page faults.
// Thread-safety: none; one instance per worker thread. Leases must not outlive it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace s3hc::http {

class RelayBuffers {
 public:
  // A buffer on loan; goes back to the free list when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease() {
      if (buffer_) owner_->give_back(std::move(buffer_));
    }

    std::span<char> span() const { return {buffer_.get(), owner_->buffer_size_}; }
    explicit operator bool() const { return buffer_ != nullptr; }

   private:
    friend class RelayBuffers;
    Lease(RelayBuffers* owner, std::unique_ptr<char[]> buffer)
        : owner_(owner), buffer_(std::move(buffer)) {}

    RelayBuffers* owner_ = nullptr;
    std::unique_ptr<char[]> buffer_;
  };

  RelayBuffers(std::size_t buffer_size, std::size_t max_free)
      : buffer_size_(buffer_size), max_free_(max_free) {}

  Lease take() {
    if (free_.empty()) return {this, std::make_unique_for_overwrite<char[]>(buffer_size_)};
    auto buffer = std::move(free_.back());
    free_.pop_back();
    return {this, std::move(buffer)};
  }

 private:
  void give_back(std::unique_ptr<char[]> buffer) {
    if (free_.size() < max_free_) free_.push_back(std::move(buffer));
  }

  std::size_t buffer_size_;
  std::size_t max_free_;
  std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace s3hc::http
