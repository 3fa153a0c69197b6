// How often each key was asked for lately, approximately, in a few bits per key: the
// frequency sketch of TinyLFU, by which eviction keeps what is asked for often rather than
// what was asked for last, so a scan of one-hit objects does not flush the cache.
//
// A count-min sketch of 4-bit counters, sixteen to a uint64 word. A key maps to four counters
// (four hash functions derived from its one 64-bit hash), each in its own word; recording
// raises those below 15, and the estimate is the smallest of the four, so collisions can only
// over-count. Every sample_size() recordings (ten per expected item), all counters are halved:
// the sketch forgets, and what was popular yesterday must be asked for again to stay popular.
//
// serialize() and parse() let a lease holder persist the sketch in its snapshot and its
// successor resume from it. Serialized form, little-endian:
//   u32 magic            kFrequencySketchMagic
//   u8  version          1
//   u8  reserved[3]      zero
//   u64 expected_items   as given to the constructor (after clamping)
//   u64 additions        recordings since the last halving
//   u64 words            number of table words that follow
//   u64 table[words]
//   u64 checksum         XXH3-64 of everything before it
//
// Value type; not thread-safe (the lease holder's eviction loop owns it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3hc::cache {

inline constexpr std::uint32_t kFrequencySketchMagic = 0x4b534653;  // "SFSK"
inline constexpr std::uint8_t kFrequencySketchVersion = 1;
inline constexpr std::uint32_t kMaxFrequency = 15;
// Larger capacities are sketched as this many items: bounds the table at 32 GiB, and what a
// corrupt snapshot header can make a reader allocate.
inline constexpr std::size_t kMaxSketchItems = std::size_t{1} << 32;

// The hash by which a FrequencySketch knows the object `id` (XXH3-64 of it): what the RAM
// tier and the eviction index record on every request, and what their admission and
// pick_victim() estimate.
std::uint64_t sketch_key(std::string_view id);

class FrequencySketch {
 public:
  // Sized for a cache of `expected_items` objects (at least 1, at most kMaxSketchItems): one
  // table word per item, rounded up to a power of two.
  explicit FrequencySketch(std::size_t expected_items);

  // One more request for the key whose 64-bit hash (XXH3 of the object id) is `key_hash`.
  void record(std::uint64_t key_hash);

  // Requests for the key since the sketch forgot them, 0..kMaxFrequency; never less than the
  // truth (halving aside), more when the key shares all four counters with others.
  std::uint32_t estimate(std::uint64_t key_hash) const;

  std::size_t expected_items() const { return expected_items_; }
  // Recordings between two halvings.
  std::size_t sample_size() const { return sample_size_; }

  std::string serialize() const;
  // nullopt unless `bytes` is exactly what serialize() wrote: wrong magic, version, sizes that
  // do not agree with each other or with the length, or a checksum mismatch.
  static std::optional<FrequencySketch> parse(std::string_view bytes);

 private:
  // Halves every counter, and the count of recordings with them.
  void age();

  std::size_t expected_items_;
  std::size_t sample_size_;
  std::size_t additions_ = 0;  // recordings that raised a counter, since the last halving
  std::uint64_t word_mask_;    // table size - 1; the size is a power of two
  std::vector<std::uint64_t> table_;
};

}  // namespace s3hc::cache
