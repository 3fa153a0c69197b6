// Streaming fan-out of a fill to the requests of this proxy waiting for it (coalescing): the
// request that fetches publishes the answer's header and its body pieces as they arrive, and
// waiting requests on any worker thread replay them to their clients while the fill goes on,
// instead of waiting for the fill's commit. Waiters on other proxies still wait for the commit
// (cache/fill_lease.h): proxies never talk to each other.
//
// A request joins only a fill whose origin request was sent after the newest news of the
// object its proxy can see (fetched_at_ms): a fill sent before a write or delete that another
// request has been answered for would hand out what that write replaced.
//
// Memory is bounded: only the last kBroadcastWindowBytes of pieces are kept. A waiter that falls
// further behind (or joins late) finds its next piece gone; it then finishes its answer from the
// cache once the fill is committed (or closes its connection if the fill failed), and one that
// has sent nothing yet simply answers as if it had waited for the commit.
//
// Thread-safety: every method from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "s3/byte_range.h"

namespace s3hc::pipeline {

inline constexpr std::uint64_t kBroadcastWindowBytes = 32 * 1024 * 1024;

class FillBroadcast {
 public:
  // `header`: the answer's header as waiters send it; `bytes`: the object bytes the body
  // carries, of the version `etag`, asked of the origin at `fetched_at_ms` (Unix ms);
  // `window_bytes`: how much of the latest body is kept.
  FillBroadcast(std::string header, s3::ByteRange bytes, std::string etag,
                std::int64_t fetched_at_ms, std::uint64_t window_bytes = kBroadcastWindowBytes)
      : header_(std::move(header)),
        bytes_(bytes),
        etag_(std::move(etag)),
        fetched_at_ms_(fetched_at_ms),
        window_bytes_(window_bytes) {}

  const std::string& header() const { return header_; }
  const s3::ByteRange& bytes() const { return bytes_; }
  const std::string& etag() const { return etag_; }
  std::int64_t fetched_at_ms() const { return fetched_at_ms_; }

  // The filler: the next body bytes; then the end, with all bytes (complete) or not.
  void publish(std::string_view bytes);
  void finish(bool complete);

  // A waiter: piece `index` (counting from the first piece ever published).
  struct Piece {
    std::shared_ptr<const std::string> bytes;  // null: not there (yet, or any more)
    bool dropped = false;                      // it was there and left the window
    bool ended = false;                        // no piece `index` will ever come
    bool complete = false;                     // ended with every byte published
  };
  Piece piece(std::size_t index) const;

 private:
  const std::string header_;
  const s3::ByteRange bytes_;
  const std::string etag_;
  const std::int64_t fetched_at_ms_;
  const std::uint64_t window_bytes_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const std::string>> pieces_;  // the window
  std::size_t first_index_ = 0;  // of pieces_.front()
  std::uint64_t window_ = 0;     // bytes in pieces_
  bool ended_ = false;
  bool complete_ = false;
};

// The fills of this process being broadcast, by the fill lease's name.
class FillBroadcasts {
 public:
  std::shared_ptr<FillBroadcast> start(const std::string& name, std::string header,
                                       s3::ByteRange bytes, std::string etag,
                                       std::int64_t fetched_at_ms);
  std::shared_ptr<FillBroadcast> find(const std::string& name) const;
  // The fill is over: new waiters no longer find it (those streaming keep their copy).
  void end(const std::string& name, const FillBroadcast& broadcast);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<FillBroadcast>> fills_;
};

}  // namespace s3hc::pipeline
