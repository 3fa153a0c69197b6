// The RAM tier: a byte-bounded cache in this process's memory in front of the shared-directory
// ObjectStore, holding hot objects' records and small byte ranges of objects (whole small
// objects, typically), so that a hit on a hot small object touches no file system at all.
//
// Validity: a byte entry belongs to the exact record version it was read with (generation,
// ETag and size) and only a lookup with that version finds it. Generations restart at 1 when
// a record is deleted and the object cached again (eviction, the sweeper), so the ETag and size
// keep bytes of an older incarnation from passing for a newer one. When the caller shows a
// newer generation (put_record, put_bytes or bytes), entries of older ones are dropped. A
// record is held as a KnownRecord: whether it is still the shared one is the caller's to
// confirm (mirrored_record_store.h), as for the local mirror's entries.
//
// Admission and eviction (TinyLFU without a window): every record() lookup is one access in
// the shard's FrequencySketch. Each shard keeps its entries in LRU order; when a new entry
// does not fit, the least recently used entries it would push out are evicted only if the
// newcomer is asked for more often than every one of them, otherwise the newcomer is turned
// away. A scan of one-hit objects therefore cannot flush objects that are asked for often.
// Entries of the newcomer's own object give way without a contest.
//
// Memory: each entry is charged its payload plus a fixed estimate of the key, list node and
// map node around it, and a shard never holds more than capacity_bytes / shards. The sketches
// (8 to 16 bytes per KiB of capacity) are not charged.
//
// Thread-safety: every method may be called from any thread at any time; each shard has its own
// mutex, taken once per call. What a lookup returns stays valid after the entry is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store/known_record.h"

namespace s3hc::cache {

struct RamTierOptions {
  // Most bytes held, per-entry overhead included; 0 turns the tier off. Default: 256 MiB.
  std::size_t capacity_bytes = std::size_t{256} << 20;
  // Byte ranges longer than this are never kept. Default: 256 KiB.
  std::size_t max_entry_bytes = std::size_t{256} << 10;
  // Independent parts, each with its own lock, LRU order, sketch and capacity_bytes / shards.
  // At most this many: fewer where each could not hold kEntriesPerShard entries of
  // max_entry_bytes. Default: 16 (0 is taken as 1).
  std::size_t shards = 16;
};

// A shard is made large enough for this many of the longest entries (RamTierOptions::shards).
inline constexpr std::size_t kEntriesPerShard = 4;

// Bytes of an object held in memory: `length` bytes at `offset` of `data`, which the holder
// keeps alive however long it needs them.
struct RamBytes {
  std::shared_ptr<const std::string> data{};
  std::size_t offset = 0;
  std::size_t length = 0;

  std::string_view view() const { return std::string_view(*data).substr(offset, length); }
};

class RamTier {
 public:
  struct Stats {
    std::uint64_t bytes = 0;  // charged, overhead included; never above capacity_bytes
    std::uint64_t entries = 0;
    std::uint64_t record_hits = 0;
    std::uint64_t record_misses = 0;
    std::uint64_t byte_hits = 0;
    std::uint64_t byte_misses = 0;
    // Entries turned away by admission: asked for less often than those they would evict, or
    // larger than a shard.
    std::uint64_t admissions_rejected = 0;
  };

  // Options are fixed for the tier's lifetime.
  explicit RamTier(RamTierOptions options);
  ~RamTier();
  RamTier(const RamTier&) = delete;
  RamTier& operator=(const RamTier&) = delete;

  // How callers name an object: bucket, a NUL, key (neither can contain a NUL).
  static std::string identity(std::string_view bucket, std::string_view key);

  // The object's record as it was put; nullopt when it is not held. Counts as one access of
  // the object for admission, hit or miss: callers look the record up once per request,
  // before any bytes.
  std::optional<KnownRecord> record(std::string_view object) const;
  // Holds `known` (its record not null) as the object's record, replacing the one held
  // whatever its generation (after a restart of generations a lower one can be the newer),
  // and drops byte entries of every other version. Subject to admission.
  void put_record(std::string_view object, KnownRecord known);

  // Bytes [first, last] of the object as `record` describes it, when an entry of exactly that
  // version holds them (alone or within a larger range); nullopt otherwise. A newer
  // generation than any held drops the older entries.
  std::optional<RamBytes> bytes(std::string_view object, const v1::CacheRecord& record,
                                std::uint64_t first, std::uint64_t last) const;
  // Holds `bytes` as the object's bytes from `first` on, read as `record` describes it. Not
  // kept when empty, longer than max_entry_bytes, of an older generation than one already
  // shown, within a range already held, or turned away by admission. Ranges of the same version
  // that the new one contains are dropped.
  void put_bytes(std::string_view object, const v1::CacheRecord& record, std::uint64_t first,
                 std::shared_ptr<const std::string> bytes);

  // Drops the object's record and bytes.
  void invalidate(std::string_view object);

  // Totals over the shards, each read under its own lock (so not one instant across shards).
  Stats stats() const;

 private:
  struct Shard;
  Shard& shard_of(std::uint64_t object_hash) const;

  RamTierOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace s3hc::cache
