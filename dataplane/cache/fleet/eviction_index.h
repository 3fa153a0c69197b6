// The lease holder's view of every object in the cache, as much as eviction needs: size,
// last access, expiry and protection. It keeps the total of bytes held exact and chooses
// eviction victims by sampling a few entries at random (as Redis does) rather than keeping
// them in an order, so every operation, eviction included, costs O(1) on average.
//
// Of the entries sampled, pick_victim() passes over protected ones (being written or filled),
// takes the one expired longest ago if any, and otherwise the least recently used (kLru) or
// the least frequently asked for by the FrequencySketch, least recently used among equals
// (kTinyLfu). Under kTinyLfu a new arrival gets no free pass: it competes on its frequency
// with everyone else, so the victim choice is also TinyLFU's admission filter and a scan of
// one-hit objects evicts other one-hit objects, not the popular ones.
//
// serialize() and parse() let a lease holder persist the index in its snapshot and its
// successor resume from it. Serialized form, little-endian:
//   u32 magic            kEvictionIndexMagic
//   u8  version          1
//   u8  reserved[3]      zero
//   u64 count            entries that follow, each:
//     u32 id_size, id bytes,
//     u64 bytes, i64 last_access_ms, i64 expires_at_ms, i64 protected_until_ms,
//     i64 stored_at_ms, u8 from_write
//   u64 checksum         XXH3-64 of everything before it
//
// Movable, not copyable; not thread-safe (the lease holder's eviction loop owns it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/frequency_sketch.h"

namespace s3hc::cache {

inline constexpr std::uint32_t kEvictionIndexMagic = 0x58444945;  // "EIDX"
inline constexpr std::uint8_t kEvictionIndexVersion = 1;

enum class EvictionPolicy : std::uint8_t { kLru, kTinyLfu };

struct EvictionEntry {
  std::uint64_t bytes = 0;
  std::int64_t last_access_ms = 0;
  std::int64_t expires_at_ms = 0;       // 0: unknown, never judged expired
  std::int64_t protected_until_ms = 0;  // just written or being filled: not evicted before this
  // When `bytes` was measured: news about the object older than that is stale.
  std::int64_t stored_at_ms = 0;
  bool from_write = false;  // the object came from a write through the proxy

  bool operator==(const EvictionEntry&) const = default;
};

class EvictionIndex {
 public:
  EvictionIndex() = default;
  // Entries point into the map's nodes: a copy would point into the original's.
  EvictionIndex(const EvictionIndex&) = delete;
  EvictionIndex& operator=(const EvictionIndex&) = delete;
  EvictionIndex(EvictionIndex&&) = default;
  EvictionIndex& operator=(EvictionIndex&&) = default;

  // Adds the object `id` (the 32-hex-char hash naming it), or replaces what is known of it.
  void upsert(std::string_view id, const EvictionEntry& entry);
  // Records an access at `now_ms`, the one change made on every hit. False when `id` is absent.
  bool touch(std::string_view id, std::int64_t now_ms);
  // False when `id` is absent.
  bool erase(std::string_view id);
  std::optional<EvictionEntry> find(std::string_view id) const;
  // Calls visit(id, entry) for every entry, in no order; visit must not change the index.
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    for (const auto& slot : entries_) visit(std::string_view(slot.position->first), slot.entry);
  }

  std::size_t size() const { return entries_.size(); }
  std::uint64_t total_bytes() const { return total_bytes_; }
  // Of total_bytes(), those of objects that came from writes.
  std::uint64_t written_bytes() const { return written_bytes_; }

  // The id to evict next, judged among `sample_size` entries drawn uniformly at random (with
  // replacement; every entry when sample_size >= size()), as the header comment says. Under
  // kTinyLfu, entries accessed less than `young_ms` ago (a window in which a new arrival can
  // prove itself; 0, the default, turns it off) are chosen only when nothing older was
  // sampled. nullopt when no sampled entry may be evicted.
  std::optional<std::string> pick_victim(std::int64_t now_ms, EvictionPolicy policy,
                                         const FrequencySketch& sketch, std::mt19937_64& rng,
                                         std::size_t sample_size = 16,
                                         std::int64_t young_ms = 0) const;

  std::string serialize() const;
  // nullopt unless `bytes` is exactly what serialize() wrote: wrong magic or version, an entry
  // cut short, an id twice, bytes left over, or a checksum mismatch.
  static std::optional<EvictionIndex> parse(std::string_view bytes);

 private:
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const {
      return std::hash<std::string_view>{}(id);
    }
  };
  // id -> position in entries_. Nodes never move, so entries_ can point at them.
  using Positions = std::unordered_map<std::string, std::size_t, IdHash, std::equal_to<>>;
  struct Slot {
    Positions::value_type* position;  // the map node holding this entry's id and position
    EvictionEntry entry;
  };

  Positions positions_;
  // Dense, in no order, so that a random entry is one random index away; erase moves the last
  // entry into the hole.
  std::vector<Slot> entries_;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t written_bytes_ = 0;
};

}  // namespace s3hc::cache
