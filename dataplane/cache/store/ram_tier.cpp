#include "cache/store/ram_tier.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "cache/frequency_sketch.h"

namespace s3hc::cache {
namespace {

// One sketch item per this much capacity: about the smallest entry (a record and its
// overhead), so the sketch can tell apart at least as many objects as the shard can hold.
constexpr std::size_t kCapacityPerSketchItem = 1024;
constexpr std::size_t kMinSketchItems = 64;

struct Entry;
using Lru = std::list<Entry>;

// What a shard holds of one object. It exists only while it holds an entry.
struct Slot {
  std::uint64_t sketch_hash = 0;
  // The newest generation shown for the object: no entry is of a newer one, and byte entries
  // of older ones are not accepted.
  std::uint64_t generation = 0;
  std::optional<Lru::iterator> record{};
  std::vector<Lru::iterator> ranges{};

  bool empty() const { return !record && ranges.empty(); }
};

struct IdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
};
// Nodes never move, so entries can point at their slot's.
using Slots = std::unordered_map<std::string, Slot, IdHash, std::equal_to<>>;

// A record (record set) or a byte range (bytes set) of one object, in the shard's LRU list.
struct Entry {
  Slots::value_type* owner = nullptr;
  std::size_t charge = 0;
  std::shared_ptr<const v1::CacheRecord> record{};
  FileStamp stamp{};                   // of the record
  std::int64_t checked_at_unix_ms = 0;  // of the record
  ChangeMark change_mark{};             // of the record
  // `bytes` are the object's from byte `first`, of the record version generation/etag/size.
  std::shared_ptr<const std::string> bytes{};
  std::uint64_t first = 0;
  std::uint64_t generation = 0;
  std::string etag{};
  std::uint64_t object_size = 0;

  bool of_version(const v1::CacheRecord& version) const {
    return generation == version.generation() && object_size == version.size() &&
           etag == version.etag();
  }
  // Whether the range holds bytes [from, to] of the object.
  bool holds(std::uint64_t from, std::uint64_t to) const {
    return first <= from && from <= to && to - first < bytes->size();
  }
};

// What an entry costs beyond its payload, estimated from the structures holding it: its list
// node, its iterator in the slot, the control block of its payload's shared_ptr, and a whole
// slot (map node and key) as if it were the object's only entry, so that the charge never
// falls short of what is held.
constexpr std::size_t kEntryOverhead = sizeof(Entry) + 2 * sizeof(void*)  // list links
                                       + 2 * sizeof(Lru::iterator)         // vector slack
                                       + 32                                // control block
                                       + sizeof(Slots::value_type) + 3 * sizeof(void*);  // node

std::size_t charge_of(std::string_view object, std::size_t payload) {
  return payload + object.size() + kEntryOverhead;
}

}  // namespace

// A lock, an LRU list, a map from object to its entries and a sketch; the primitive changes
// of all four together. Every member is used under `mutex`.
struct RamTier::Shard {
  explicit Shard(std::size_t capacity)
      : capacity(capacity), sketch(std::max(kMinSketchItems, capacity / kCapacityPerSketchItem)) {}

  Slots::iterator find(std::string_view object) { return slots.find(object); }

  // The slot of `object`, made when there is none.
  Slots::value_type& slot_for(std::string_view object, std::uint64_t hash,
                              std::uint64_t generation) {
    auto found = slots.find(object);
    if (found != slots.end()) return *found;
    return *slots.emplace(std::string(object), Slot{.sketch_hash = hash, .generation = generation})
                .first;
  }

  void touch(Lru::iterator entry) { lru.splice(lru.begin(), lru, entry); }

  Lru::iterator insert(Slots::value_type& owner, Entry entry) {
    entry.owner = &owner;
    used += entry.charge;
    lru.push_front(std::move(entry));
    return lru.begin();
  }

  // Removes the entry, and its slot when that was the slot's last entry.
  void drop(Lru::iterator entry) {
    auto* owner = entry->owner;
    auto& slot = owner->second;
    if (slot.record == entry) {
      slot.record.reset();
    } else {
      auto& ranges = slot.ranges;
      *std::find(ranges.begin(), ranges.end(), entry) = ranges.back();
      ranges.pop_back();
    }
    used -= entry->charge;
    lru.erase(entry);
    // Erased by iterator: erasing by a key that lives in the node being erased is not safe.
    if (slot.empty()) slots.erase(slots.find(std::string_view(owner->first)));
  }

  // Drops the slot's entries for which `unwanted(entry)` holds; the slot too if none is left
  // (so `slot` must not be used after).
  template <typename Predicate>
  void drop_if(Slot& slot, Predicate unwanted) {
    std::vector<Lru::iterator> doomed;
    if (slot.record && unwanted(**slot.record)) doomed.push_back(*slot.record);
    for (const auto range : slot.ranges) {
      if (unwanted(*range)) doomed.push_back(range);
    }
    for (const auto entry : doomed) drop(entry);
  }

  // Makes room for a newcomer of `charge` bytes of the object `object` (sketch hash `hash`):
  // evicts the least recently used entries, but only if the newcomer is asked for more often
  // than each of them (the object's own entries give way regardless). False, with nothing
  // evicted, when it is not or cannot fit at all.
  bool make_room(std::size_t charge, std::uint64_t hash, std::string_view object) {
    if (charge > capacity) return false;
    if (used + charge <= capacity) return true;
    const std::size_t needed = used + charge - capacity;  // <= used, as charge <= capacity
    const auto candidate = sketch.estimate(hash);
    std::size_t freed = 0;
    auto oldest = lru.end();
    while (freed < needed) {
      --oldest;
      const auto& owner = *oldest->owner;
      const bool own = owner.second.sketch_hash == hash && owner.first == object;
      if (!own && sketch.estimate(owner.second.sketch_hash) >= candidate) return false;
      freed += oldest->charge;
    }
    for (bool done = false; !done;) {
      const auto victim = std::prev(lru.end());
      done = victim == oldest;
      drop(victim);
    }
    return true;
  }

  std::mutex mutex;
  const std::size_t capacity;
  std::size_t used = 0;
  FrequencySketch sketch;
  Lru lru;  // most recently used first
  Slots slots;
  Stats counts;  // all but bytes and entries, which come from `used` and `lru`
};

RamTier::RamTier(RamTierOptions options) : options_(std::move(options)) {
  if (options_.capacity_bytes == 0) return;
  // Fewer shards where they would be too small to keep kEntriesPerShard of the longest
  // entries: a shard smaller than an entry could never hold it.
  const auto shard_floor = kEntriesPerShard * std::max<std::size_t>(options_.max_entry_bytes, 1);
  const std::size_t count =
      std::clamp<std::size_t>(options_.capacity_bytes / shard_floor, 1,
                              std::max<std::size_t>(options_.shards, 1));
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    shards_.push_back(std::make_unique<Shard>(options_.capacity_bytes / count));
  }
}

RamTier::~RamTier() = default;

std::string RamTier::identity(std::string_view bucket, std::string_view key) {
  std::string id;
  id.reserve(bucket.size() + 1 + key.size());
  id.append(bucket).push_back('\0');
  id.append(key);
  return id;
}

RamTier::Shard& RamTier::shard_of(std::uint64_t object_hash) const {
  return *shards_[object_hash % shards_.size()];
}

std::optional<KnownRecord> RamTier::record(std::string_view object) const {
  if (shards_.empty()) return std::nullopt;
  const auto hash = sketch_key(object);
  auto& shard = shard_of(hash);
  const std::lock_guard lock(shard.mutex);
  shard.sketch.record(hash);
  const auto found = shard.find(object);
  if (found == shard.slots.end() || !found->second.record) {
    ++shard.counts.record_misses;
    return std::nullopt;
  }
  const auto entry = *found->second.record;
  shard.touch(entry);
  ++shard.counts.record_hits;
  return KnownRecord{.record = entry->record,
                     .stamp = entry->stamp,
                     .checked_at_unix_ms = entry->checked_at_unix_ms,
                     .change_mark = entry->change_mark};
}

void RamTier::put_record(std::string_view object, KnownRecord known) {
  if (shards_.empty() || !known.record) return;
  const auto hash = sketch_key(object);
  auto& record = known.record;
  Entry entry{.charge = charge_of(object, record->SpaceUsedLong()),
              .stamp = known.stamp,
              .checked_at_unix_ms = known.checked_at_unix_ms,
              .change_mark = known.change_mark};
  auto& shard = shard_of(hash);
  const std::lock_guard lock(shard.mutex);
  if (const auto found = shard.find(object); found != shard.slots.end()) {
    shard.drop_if(found->second, [&record](const Entry& held) {
      return held.record || !held.of_version(*record);
    });
  }
  if (!shard.make_room(entry.charge, hash, object)) {
    ++shard.counts.admissions_rejected;
    return;
  }
  auto& owner = shard.slot_for(object, hash, record->generation());
  owner.second.generation = record->generation();
  entry.record = std::move(record);
  owner.second.record = shard.insert(owner, std::move(entry));
}

std::optional<RamBytes> RamTier::bytes(std::string_view object, const v1::CacheRecord& record,
                                       std::uint64_t first, std::uint64_t last) const {
  if (shards_.empty() || last < first) return std::nullopt;
  const auto hash = sketch_key(object);
  auto& shard = shard_of(hash);
  const std::lock_guard lock(shard.mutex);
  const auto found = shard.find(object);
  if (found != shard.slots.end()) {
    auto& slot = found->second;
    if (record.generation() > slot.generation) {
      // Nothing of the newer generation is held, and nothing older is of use any more.
      slot.generation = record.generation();
      shard.drop_if(slot, [&record](const Entry& held) {
        return (held.record ? held.record->generation() : held.generation) < record.generation();
      });
    } else {
      for (const auto range : slot.ranges) {
        if (!range->of_version(record) || !range->holds(first, last)) continue;
        shard.touch(range);
        ++shard.counts.byte_hits;
        return RamBytes{.data = range->bytes,
                        .offset = static_cast<std::size_t>(first - range->first),
                        .length = static_cast<std::size_t>(last - first + 1)};
      }
    }
  }
  ++shard.counts.byte_misses;
  return std::nullopt;
}

void RamTier::put_bytes(std::string_view object, const v1::CacheRecord& record,
                        std::uint64_t first, std::shared_ptr<const std::string> bytes) {
  if (shards_.empty() || !bytes || bytes->empty() || bytes->size() > options_.max_entry_bytes) {
    return;
  }
  const auto hash = sketch_key(object);
  const auto generation = record.generation();
  const auto last = first + (bytes->size() - 1);
  Entry entry{.charge = charge_of(object, sizeof(std::string) + bytes->capacity()) +
                        record.etag().size(),
              .first = first,
              .generation = generation,
              .etag = record.etag(),
              .object_size = record.size()};
  auto& shard = shard_of(hash);
  const std::lock_guard lock(shard.mutex);
  if (auto found = shard.find(object); found != shard.slots.end()) {
    auto& slot = found->second;
    if (generation < slot.generation) return;  // read from a record already replaced
    const bool held = std::any_of(slot.ranges.begin(), slot.ranges.end(), [&](auto range) {
      return range->of_version(record) && range->holds(first, last);
    });
    if (held) return;
    if (generation > slot.generation) {
      slot.generation = generation;
      shard.drop_if(slot, [generation](const Entry& other) {
        return (other.record ? other.record->generation() : other.generation) < generation;
      });
    }
  }
  if (!shard.make_room(entry.charge, hash, object)) {
    ++shard.counts.admissions_rejected;
    return;
  }
  auto& owner = shard.slot_for(object, hash, generation);
  entry.bytes = std::move(bytes);
  const auto added = shard.insert(owner, std::move(entry));
  owner.second.ranges.push_back(added);  // first, so the slot cannot become empty below
  // Ranges of the same version within the new one hold nothing it does not.
  shard.drop_if(owner.second, [&](const Entry& other) {
    return !other.record && &other != &*added && other.of_version(record) &&
           added->holds(other.first, other.first + (other.bytes->size() - 1));
  });
}

void RamTier::invalidate(std::string_view object) {
  if (shards_.empty()) return;
  auto& shard = shard_of(sketch_key(object));
  const std::lock_guard lock(shard.mutex);
  if (const auto found = shard.find(object); found != shard.slots.end()) {
    shard.drop_if(found->second, [](const Entry&) { return true; });
  }
}

RamTier::Stats RamTier::stats() const {
  Stats total;
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard->mutex);
    total.bytes += shard->used;
    total.entries += shard->lru.size();
    total.record_hits += shard->counts.record_hits;
    total.record_misses += shard->counts.record_misses;
    total.byte_hits += shard->counts.byte_hits;
    total.byte_misses += shard->counts.byte_misses;
    total.admissions_rejected += shard->counts.admissions_rejected;
  }
  return total;
}

}  // namespace s3hc::cache
