// Streaming fan-out of a fill to the requests of this proxy waiting for it (coalescing): the
// request that fetches publishes the answer's header and its body pieces as they arrive, and
// waiting requests on any worker thread replay them to their clients while the fill goes on,
// instead of waiting for the fill's commit. Waiters on other proxies still wait for the commit
// (cache/fill_lease.h): proxies never talk to each other.
//
// The pieces are kept in memory until the fill ends and its last waiter is done, so only fills
// of at most kMaxBroadcastBytes are broadcast; waiters of larger ones wait for the commit.
//
// Thread-safety: every method from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace s3hc::pipeline {

inline constexpr std::uint64_t kMaxBroadcastBytes = 32 * 1024 * 1024;

class FillBroadcast {
 public:
  // `header`: the answer's header as waiters send it.
  explicit FillBroadcast(std::string header) : header_(std::move(header)) {}

  const std::string& header() const { return header_; }

  // The filler: the next body bytes; then the end, with all bytes (complete) or not.
  void publish(std::string_view bytes);
  void finish(bool complete);

  // A waiter: piece `index` when it is there; else whether no more will come.
  struct Piece {
    std::shared_ptr<const std::string> bytes;  // null: not (yet) there
    bool ended = false;                        // no piece `index` will ever come
    bool complete = false;                     // ended with every byte published
  };
  Piece piece(std::size_t index) const;

 private:
  const std::string header_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const std::string>> pieces_;
  bool ended_ = false;
  bool complete_ = false;
};

// The fills of this process being broadcast, by the fill lease's name.
class FillBroadcasts {
 public:
  std::shared_ptr<FillBroadcast> start(const std::string& name, std::string header);
  std::shared_ptr<FillBroadcast> find(const std::string& name) const;
  // The fill is over: new waiters no longer find it (those streaming keep their copy).
  void end(const std::string& name, const FillBroadcast& broadcast);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<FillBroadcast>> fills_;
};

}  // namespace s3hc::pipeline
