// The progress of one fill of this process, as its readers see it. A fill is its own producer
// (fill_producer.h): it reads the origin's answer at the origin's pace into the cache, and
// every client of the fill, the request that started it included, is a reader that consumes
// its progress at its own pace: from memory while it keeps up, from the cache file being
// written when it falls behind. A reader that stalls holds back no one but itself.
//
// Memory is bounded whatever the object's size and however far readers lag: only the latest
// window_bytes of the body are kept in memory, and bytes leave the window only once they are
// in complete blocks of the cache file (UnfinishedRangeFile), where a reader behind finds
// them. A fill that the cache does not keep (refused, disk full) has no file: a reader that
// falls out of its window then cannot go on (it closes its answer early; S3 clients retry).
// The window's bytes count in a process-wide gauge (s3hc_buffered_bytes, which admission
// judges by: http/admission.h) for as long as they are in it.
//
// A request joins only a fill whose origin request was sent after the newest news of the
// object its proxy can see (fetched_at_ms): a fill sent before a write or delete that another
// request has been answered for would hand out what that write replaced.
//
// Thread-safety: every method from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/store/range_file.h"
#include "obs/metrics.h"
#include "s3/byte_range.h"
#include "s3/object_address.h"

namespace s3hc::pipeline {

// At least a block and a piece: bytes not yet in a complete block must fit.
inline constexpr std::uint64_t kFillWindowBytes = 8 * 1024 * 1024;

class FillProgress {
 public:
  // `header`: the answer's header as joining readers send it; `bytes`: the object bytes the
  // body carries, of an object of `object_size` bytes in the version `etag`, asked of the
  // origin at `fetched_at_ms` (Unix ms).
  // `buffered`: where the window's bytes are counted; it must outlive the progress.
  FillProgress(std::string header, s3::ByteRange bytes, std::uint64_t object_size,
               std::string etag, std::int64_t fetched_at_ms, obs::Gauge& buffered,
               std::uint64_t window_bytes = kFillWindowBytes)
      : header_(std::move(header)),
        bytes_(bytes),
        object_size_(object_size),
        etag_(std::move(etag)),
        fetched_at_ms_(fetched_at_ms),
        buffered_(buffered),
        window_bytes_(window_bytes) {}
  FillProgress(const FillProgress&) = delete;
  FillProgress& operator=(const FillProgress&) = delete;
  ~FillProgress();

  const std::string& header() const { return header_; }
  const s3::ByteRange& bytes() const { return bytes_; }
  std::uint64_t object_size() const { return object_size_; }
  const std::string& etag() const { return etag_; }
  std::int64_t fetched_at_ms() const { return fetched_at_ms_; }

  // The producer. The cache file grew (`update` brings the description up to date, under the
  // lock); then the same bytes are published; at last the fill ends, with all bytes or not.
  // A fill the cache does not keep (any more) says so with drop_file().
  void file_grew(const std::function<void(cache::UnfinishedRangeFile&)>& update);
  void drop_file();
  void publish(std::string_view bytes);
  void finish(bool complete);

  // A reader at body offset `offset` (bytes it has consumed so far).
  struct Next {
    std::shared_ptr<const std::string> piece;  // in memory: the piece holding `offset`...
    std::size_t from = 0;                      // ...from here on
    bool behind = false;     // no longer in memory: in the cache file (unfinished_file())
    bool ended = false;      // nothing more will come
    bool complete = false;   // ended with every byte published
  };
  Next next(std::uint64_t offset) const;
  // Calls `wake` once (from the producer's thread) when bytes past `offset` arrive or the
  // fill ends; false, without registering, when they already have.
  bool wake_after(std::uint64_t offset, std::function<void()> wake);
  // The complete blocks of the cache file so far; nullopt when the fill keeps no file.
  std::optional<cache::UnfinishedRangeFile> unfinished_file() const;
  bool keeps_file() const;

  // Readers still consuming the fill (a fill no one reads may stop, fill_producer.h).
  class Reader {
   public:
    explicit Reader(std::shared_ptr<FillProgress> progress);
    Reader(Reader&&) = default;
    Reader& operator=(Reader&&) = delete;
    ~Reader();
    FillProgress& operator*() const { return *progress_; }
    FillProgress* operator->() const { return progress_.get(); }

   private:
    std::shared_ptr<FillProgress> progress_;
  };
  std::size_t readers() const;

 private:
  std::vector<std::function<void()>> take_wakes();  // under the lock
  void drop_from_window();                          // under the lock

  const std::string header_;
  const s3::ByteRange bytes_;
  const std::uint64_t object_size_;
  const std::string etag_;
  const std::int64_t fetched_at_ms_;
  obs::Gauge& buffered_;
  const std::uint64_t window_bytes_;
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const std::string>> window_;
  std::uint64_t window_first_ = 0;  // body offset of window_.front()
  std::uint64_t published_ = 0;     // body bytes published
  std::uint64_t window_size_ = 0;   // bytes in window_
  std::optional<cache::UnfinishedRangeFile> file_{cache::UnfinishedRangeFile{}};
  std::vector<std::function<void()>> wakes_;
  std::size_t readers_ = 0;
  bool ended_ = false;
  bool complete_ = false;
};

// The name of a fill of `object`'s part `part_number`, or of the bytes `range` (the Range
// header as the request wrote it; empty: the whole object): the name of its fill lease and in
// the FillRegistry. Only requests of the same name coalesce.
std::string fill_name(const s3::ObjectAddress& object, std::optional<std::uint32_t> part_number,
                      std::string_view range);

// The fills of this process that requests may join, by the fill lease's name.
class FillRegistry {
 public:
  void add(const std::string& name, std::shared_ptr<FillProgress> fill);
  std::shared_ptr<FillProgress> find(const std::string& name) const;
  // The fill is over: new requests no longer find it (its readers keep their copy).
  void remove(const std::string& name, const FillProgress& fill);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<FillProgress>> fills_;
};

}  // namespace s3hc::pipeline
