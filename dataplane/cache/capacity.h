// How much the cache may hold: the smaller of cache.max_size and what the file system under the
// cache directory can hold for it, and the arithmetic the maintenance lease holder evicts by
// (docs/CACHING.md, "Capacity and eviction").
//
// The file system's share is the cache's accounted size plus the space still free on it
// (statvfs f_bavail: what unprivileged writers may still use, none when it has no inodes
// left), never more than the file system's size. The cache may thus grow into free space and
// gives way to other data on a shared file system: when other files take space, the holder
// evicts; it never counts on space other data holds. A file system that said ENOSPC (or
// EDQUOT: a quota statvfs does not show) since the last round holds, for that round, no more
// than what is accounted.
//
// Thread-safety: CapacityProbe::space() from any thread; the functions are pure.
#pragma once

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace s3hc::cache {

struct FileSystemSpace {
  std::uint64_t size_bytes = 0;       // the whole file system
  std::uint64_t available_bytes = 0;  // still free for the cache's writes
};

// The seam between the fleet engine and the file system's size: one real implementation
// (statvfs of the cache directory), a fake in tests.
class CapacityProbe {
 public:
  virtual ~CapacityProbe() = default;
  // What the file system holds and has free now; nullopt when it cannot tell (the directory
  // is gone, the call failed): then only max_size bounds the cache.
  virtual std::optional<FileSystemSpace> space() const = 0;
};

class StatvfsProbe final : public CapacityProbe {
 public:
  explicit StatvfsProbe(std::string dir) : dir_(std::move(dir)) {}

  std::optional<FileSystemSpace> space() const override {
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) != 0) return std::nullopt;
    const std::uint64_t unit = fs.f_frsize ? fs.f_frsize : fs.f_bsize;
    FileSystemSpace space{.size_bytes = fs.f_blocks * unit, .available_bytes = fs.f_bavail * unit};
    // Out of inodes, a file system is full whatever bytes it has left (f_files 0: it does
    // not count them).
    if (fs.f_files != 0 && fs.f_favail == 0) space.available_bytes = 0;
    return space;
  }

 private:
  std::string dir_;
};

// Whether a failed write means the file system is full: ENOSPC, or EDQUOT (a quota).
inline bool is_no_space(const std::error_code& code) {
  return code == std::errc::no_space_on_device || code.value() == EDQUOT;
}

// Fills that did not find room since the last round, as a proxy tells the lease holder
// (through its journal: JournalEntry fields fills_refused, fills_no_space, largest_fill_bytes).
struct SpaceNews {
  std::uint32_t refused = 0;   // held back by admission: the cache was at its capacity
  std::uint32_t no_space = 0;  // failed with ENOSPC/EDQUOT: the file system was full
  std::uint64_t largest_bytes = 0;  // the largest of those fills (0: sizes unknown)

  bool any() const { return refused != 0 || no_space != 0; }
  void merge(const SpaceNews& other) {
    refused += other.refused;
    no_space += other.no_space;
    largest_bytes = std::max(largest_bytes, other.largest_bytes);
  }
};

// What the cache may take: min(max_size, the file system's share, see above). `max_size` 0 =
// no configured limit; the result is 0 (unlimited) only when the file system cannot tell
// either, else at least 1.
inline std::uint64_t effective_capacity(std::uint64_t max_size, std::uint64_t accounted,
                                        const std::optional<FileSystemSpace>& space,
                                        bool no_space) {
  std::optional<std::uint64_t> fs_share;
  if (space) fs_share = std::min(space->size_bytes, accounted + space->available_bytes);
  if (no_space) fs_share = std::min(fs_share.value_or(accounted), accounted);
  if (!fs_share) return max_size;
  const auto capacity = max_size == 0 ? *fs_share : std::min(max_size, *fs_share);
  return std::max<std::uint64_t>(capacity, 1);
}

// The tighter of two limits where 0 means none.
inline std::uint64_t tighter_limit(std::uint64_t a, std::uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// When the holder evicts and down to what: above high x capacity, down to low x capacity.
// When fills found no room since the last round (`news`), down to below high x capacity less
// the largest of them as well (a fill bigger than the room between the watermarks would
// otherwise be refused for ever), from wherever the cache is: refused fills and a full file
// system are themselves the sign that it is full. A fill bigger than half the high mark is
// not made room for (it would empty the cache for one object).
struct EvictionTarget {
  std::uint64_t above = 0;  // evict when the accounted size is above this...
  std::uint64_t down_to = 0;  // ...until it is at most this
};

inline EvictionTarget eviction_target(std::uint64_t capacity, double high_watermark,
                                      double low_watermark, const SpaceNews& news) {
  const auto high = static_cast<std::uint64_t>(static_cast<double>(capacity) * high_watermark);
  const auto low = static_cast<std::uint64_t>(static_cast<double>(capacity) * low_watermark);
  if (!news.any()) return {.above = high, .down_to = low};
  auto target = low;
  if (news.largest_bytes <= high / 2) target = std::min(target, high - news.largest_bytes);
  return {.above = target, .down_to = target};
}

}  // namespace s3hc::cache
