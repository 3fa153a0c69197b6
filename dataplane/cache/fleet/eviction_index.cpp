#include "cache/fleet/eviction_index.h"

#include <xxhash.h>

#include <tuple>

#include "util/little_endian.h"

namespace s3hc::cache {
namespace {

constexpr std::size_t kHeaderBytes = 16;
constexpr std::size_t kEntryFieldBytes = 41;  // bytes, access, expiry, protection, stored, written
constexpr std::size_t kMinEntryBytes = 4 + kEntryFieldBytes;
constexpr std::size_t kChecksumBytes = 8;

// Lower is a better victim: expired entries first, the longest expired first; then, under
// kTinyLfu, entries out of their young window before those in it, and the least frequent;
// then the least recently used.
using VictimRank = std::tuple<int, int, std::uint32_t, std::int64_t>;

VictimRank victim_rank(std::string_view id, const EvictionEntry& entry, std::int64_t now_ms,
                       EvictionPolicy policy, const FrequencySketch& sketch,
                       std::int64_t young_ms) {
  if (entry.expires_at_ms != 0 && entry.expires_at_ms <= now_ms) {
    return {0, 0, 0, entry.expires_at_ms};
  }
  if (policy == EvictionPolicy::kLru) return {1, 0, 0, entry.last_access_ms};
  const bool young = young_ms > 0 && entry.last_access_ms > now_ms - young_ms;
  return {1, young ? 1 : 0, sketch.estimate(sketch_key(id)), entry.last_access_ms};
}

void append_entry(std::string& out, std::string_view id, const EvictionEntry& entry) {
  util::append_le(out, id.size(), 4);
  out += id;
  util::append_le(out, entry.bytes, 8);
  util::append_le(out, static_cast<std::uint64_t>(entry.last_access_ms), 8);
  util::append_le(out, static_cast<std::uint64_t>(entry.expires_at_ms), 8);
  util::append_le(out, static_cast<std::uint64_t>(entry.protected_until_ms), 8);
  util::append_le(out, static_cast<std::uint64_t>(entry.stored_at_ms), 8);
  util::append_le(out, entry.from_write ? 1 : 0, 1);
}

std::uint64_t written(const EvictionEntry& entry) { return entry.from_write ? entry.bytes : 0; }

std::int64_t read_i64(std::string_view data, std::size_t offset) {
  return static_cast<std::int64_t>(util::read_le(data, offset, 8));
}

}  // namespace

void EvictionIndex::upsert(std::string_view id, const EvictionEntry& entry) {
  if (const auto it = positions_.find(id); it != positions_.end()) {
    auto& slot = entries_[it->second];
    total_bytes_ = total_bytes_ - slot.entry.bytes + entry.bytes;
    written_bytes_ = written_bytes_ - written(slot.entry) + written(entry);
    slot.entry = entry;
    return;
  }
  const auto it = positions_.emplace(std::string(id), entries_.size()).first;
  entries_.push_back({&*it, entry});
  total_bytes_ += entry.bytes;
  written_bytes_ += written(entry);
}

bool EvictionIndex::touch(std::string_view id, std::int64_t now_ms) {
  const auto it = positions_.find(id);
  if (it == positions_.end()) return false;
  entries_[it->second].entry.last_access_ms = now_ms;
  return true;
}

bool EvictionIndex::erase(std::string_view id) {
  const auto it = positions_.find(id);
  if (it == positions_.end()) return false;
  const auto hole = it->second;
  total_bytes_ -= entries_[hole].entry.bytes;
  written_bytes_ -= written(entries_[hole].entry);
  entries_[hole] = entries_.back();
  entries_[hole].position->second = hole;
  entries_.pop_back();
  positions_.erase(it);
  return true;
}

std::optional<EvictionEntry> EvictionIndex::find(std::string_view id) const {
  const auto it = positions_.find(id);
  if (it == positions_.end()) return std::nullopt;
  return entries_[it->second].entry;
}

std::optional<std::string> EvictionIndex::pick_victim(std::int64_t now_ms, EvictionPolicy policy,
                                                      const FrequencySketch& sketch,
                                                      std::mt19937_64& rng,
                                                      std::size_t sample_size,
                                                      std::int64_t young_ms) const {
  const Slot* best = nullptr;
  VictimRank best_rank;
  const auto consider = [&](const Slot& slot) {
    if (slot.entry.protected_until_ms > now_ms) return;
    const auto& id = slot.position->first;
    const auto rank = victim_rank(id, slot.entry, now_ms, policy, sketch, young_ms);
    if (best == nullptr || rank < best_rank) {
      best = &slot;
      best_rank = rank;
    }
  };
  if (sample_size >= entries_.size()) {
    for (const auto& slot : entries_) consider(slot);
  } else if (sample_size > 0) {
    std::uniform_int_distribution<std::size_t> position(0, entries_.size() - 1);
    for (std::size_t i = 0; i < sample_size; ++i) consider(entries_[position(rng)]);
  }
  if (best == nullptr) return std::nullopt;
  return best->position->first;
}

std::string EvictionIndex::serialize() const {
  std::string out;
  util::append_le(out, kEvictionIndexMagic, 4);
  util::append_le(out, kEvictionIndexVersion, 1);
  out.append(3, '\0');
  util::append_le(out, entries_.size(), 8);
  for (const auto& slot : entries_) append_entry(out, slot.position->first, slot.entry);
  util::append_le(out, XXH3_64bits(out.data(), out.size()), 8);
  return out;
}

std::optional<EvictionIndex> EvictionIndex::parse(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return std::nullopt;
  const auto body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (util::read_le(bytes, body.size(), 8) != XXH3_64bits(body.data(), body.size())) {
    return std::nullopt;
  }
  if (util::read_le(body, 0, 4) != kEvictionIndexMagic ||
      util::read_le(body, 4, 1) != kEvictionIndexVersion || util::read_le(body, 5, 3) != 0) {
    return std::nullopt;
  }
  const auto count = util::read_le(body, 8, 8);
  // Checked before reserving: a count the length cannot hold is refused.
  if (count > (body.size() - kHeaderBytes) / kMinEntryBytes) return std::nullopt;

  EvictionIndex index;
  index.entries_.reserve(static_cast<std::size_t>(count));
  std::size_t at = kHeaderBytes;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (body.size() - at < kMinEntryBytes) return std::nullopt;
    const auto id_size = static_cast<std::size_t>(util::read_le(body, at, 4));
    at += 4;
    if (body.size() - at < id_size + kEntryFieldBytes) return std::nullopt;
    const auto id = body.substr(at, id_size);
    at += id_size;
    const EvictionEntry entry{.bytes = util::read_le(body, at, 8),
                              .last_access_ms = read_i64(body, at + 8),
                              .expires_at_ms = read_i64(body, at + 16),
                              .protected_until_ms = read_i64(body, at + 24),
                              .stored_at_ms = read_i64(body, at + 32),
                              .from_write = util::read_le(body, at + 40, 1) != 0};
    at += kEntryFieldBytes;
    if (index.positions_.contains(id)) return std::nullopt;
    index.upsert(id, entry);
  }
  if (at != body.size()) return std::nullopt;
  return index;
}

}  // namespace s3hc::cache
