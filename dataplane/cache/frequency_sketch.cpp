#include "cache/frequency_sketch.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>

#include "util/little_endian.h"

namespace s3hc::cache {

std::uint64_t sketch_key(std::string_view id) { return XXH3_64bits(id.data(), id.size()); }

namespace {

constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kChecksumBytes = 8;
constexpr std::uint64_t kLowBitOfEachCounter = 0x1111111111111111ULL;
constexpr std::uint64_t kAllButTopBitOfEachCounter = 0x7777777777777777ULL;

// One odd multiplier per hash function (from CityHash and FNV), as Caffeine's sketch uses.
constexpr std::uint64_t kSeeds[4] = {0xc3a5c85c97cb3127ULL, 0xb492b66fbe98f273ULL,
                                     0x9ae16a3b2f90404fULL, 0xcbf29ce484222325ULL};

// The MurmurHash3 finalizer: callers pass real hashes, but a weak one (a counter, a truncated
// id) should not make every key land in the same few words.
std::uint64_t spread(std::uint64_t hash) {
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return hash;
}

// Where hash function `i` puts a key: a word, and within it counter `group * 4 + i`, so the
// four functions never share a counter even when they pick the same word.
struct Slot {
  std::size_t word;
  unsigned shift;  // bit offset of the 4-bit counter in the word
};

Slot slot_of(std::uint64_t spread_hash, int i, std::uint64_t word_mask) {
  std::uint64_t hash = (spread_hash + kSeeds[i]) * kSeeds[i];
  hash += hash >> 32;
  const auto group = static_cast<unsigned>(spread_hash & 3);
  return {static_cast<std::size_t>(hash & word_mask), (group * 4 + static_cast<unsigned>(i)) * 4};
}

std::size_t clamp_items(std::size_t expected_items) {
  return std::clamp<std::size_t>(expected_items, 1, kMaxSketchItems);
}

}  // namespace

FrequencySketch::FrequencySketch(std::size_t expected_items)
    : expected_items_(clamp_items(expected_items)),
      sample_size_(10 * expected_items_),
      word_mask_(std::bit_ceil(expected_items_) - 1),
      table_(std::bit_ceil(expected_items_), 0) {}

void FrequencySketch::record(std::uint64_t key_hash) {
  const auto hash = spread(key_hash);
  bool raised = false;
  for (int i = 0; i < 4; ++i) {
    const auto slot = slot_of(hash, i, word_mask_);
    auto& word = table_[slot.word];
    if (((word >> slot.shift) & 0xF) == kMaxFrequency) continue;
    word += std::uint64_t{1} << slot.shift;
    raised = true;
  }
  // A key saturated everywhere adds nothing the sketch can hold, so it does not hurry aging.
  if (raised && ++additions_ >= sample_size_) age();
}

std::uint32_t FrequencySketch::estimate(std::uint64_t key_hash) const {
  const auto hash = spread(key_hash);
  std::uint32_t least = kMaxFrequency;
  for (int i = 0; i < 4; ++i) {
    const auto slot = slot_of(hash, i, word_mask_);
    least = std::min(least, static_cast<std::uint32_t>((table_[slot.word] >> slot.shift) & 0xF));
  }
  return least;
}

void FrequencySketch::age() {
  std::size_t odd_counters = 0;
  for (auto& word : table_) {
    odd_counters += static_cast<std::size_t>(std::popcount(word & kLowBitOfEachCounter));
    word = (word >> 1) & kAllButTopBitOfEachCounter;
  }
  // Halving drops each odd counter's last half unit; a recording raised up to four counters,
  // so about a quarter of the odd counters is recordings lost to truncation (as Caffeine).
  additions_ = (additions_ - std::min(additions_, odd_counters / 4)) / 2;
}

std::string FrequencySketch::serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + table_.size() * 8 + kChecksumBytes);
  util::append_le(out, kFrequencySketchMagic, 4);
  util::append_le(out, kFrequencySketchVersion, 1);
  out.append(3, '\0');
  util::append_le(out, expected_items_, 8);
  util::append_le(out, additions_, 8);
  util::append_le(out, table_.size(), 8);
  for (const auto word : table_) util::append_le(out, word, 8);
  util::append_le(out, XXH3_64bits(out.data(), out.size()), 8);
  return out;
}

std::optional<FrequencySketch> FrequencySketch::parse(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return std::nullopt;
  const auto body = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (util::read_le(bytes, body.size(), 8) != XXH3_64bits(body.data(), body.size())) {
    return std::nullopt;
  }
  if (util::read_le(body, 0, 4) != kFrequencySketchMagic ||
      util::read_le(body, 4, 1) != kFrequencySketchVersion || util::read_le(body, 5, 3) != 0) {
    return std::nullopt;
  }
  const auto expected_items = util::read_le(body, 8, 8);
  const auto additions = util::read_le(body, 16, 8);
  const auto words = util::read_le(body, 24, 8);
  // Checked before the constructor allocates: a table the length does not hold is refused.
  if (expected_items == 0 || expected_items > kMaxSketchItems ||
      words != (body.size() - kHeaderBytes) / 8 || (body.size() - kHeaderBytes) % 8 != 0 ||
      words != std::bit_ceil(expected_items) || additions >= 10 * expected_items) {
    return std::nullopt;
  }
  FrequencySketch sketch(static_cast<std::size_t>(expected_items));
  sketch.additions_ = static_cast<std::size_t>(additions);
  for (std::size_t i = 0; i < sketch.table_.size(); ++i) {
    sketch.table_[i] = util::read_le(body, kHeaderBytes + 8 * i, 8);
  }
  return sketch;
}

}  // namespace s3hc::cache
