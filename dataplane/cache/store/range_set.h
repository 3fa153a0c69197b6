// The bytes of one object the cache holds, as a set of ranges, and the arithmetic of partial
// hits: which parts of a request are held and which must come from the origin.
// Value type; not thread-safe (copy it to share).
#pragma once

#include <cstdint>
#include <vector>

#include "s3/byte_range.h"

namespace s3hc::cache {

class RangeSet {
 public:
  // Adds bytes; overlapping and adjacent ranges merge, so ranges() stays sorted and disjoint.
  void add(const s3::ByteRange& range);

  bool covers(const s3::ByteRange& wanted) const;

  // The parts of `wanted` not held, in order. A held stretch shorter than `merge_gap` between
  // two missing parts is fetched again with them: one origin request instead of two, for a
  // few bytes fetched twice.
  std::vector<s3::ByteRange> missing(const s3::ByteRange& wanted, std::uint64_t merge_gap) const;

  const std::vector<s3::ByteRange>& ranges() const { return ranges_; }
  std::uint64_t bytes_held() const;

 private:
  std::vector<s3::ByteRange> ranges_;
};

}  // namespace s3hc::cache
