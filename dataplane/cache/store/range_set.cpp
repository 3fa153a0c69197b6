#include "cache/store/range_set.h"

#include <algorithm>

namespace s3hc::cache {

void RangeSet::add(const s3::ByteRange& range) {
  // First held range that could touch `range`: ends at or after range.first - 1.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), range,
                             [](const s3::ByteRange& held, const s3::ByteRange& added) {
                               return held.last + 1 < added.first;
                             });
  s3::ByteRange merged = range;
  auto end = it;
  while (end != ranges_.end() && end->first <= merged.last + 1) {
    merged.first = std::min(merged.first, end->first);
    merged.last = std::max(merged.last, end->last);
    ++end;
  }
  it = ranges_.erase(it, end);
  ranges_.insert(it, merged);
}

bool RangeSet::covers(const s3::ByteRange& wanted) const {
  const auto it = std::upper_bound(ranges_.begin(), ranges_.end(), wanted.first,
                                   [](std::uint64_t first, const s3::ByteRange& held) {
                                     return first < held.first;
                                   });
  if (it == ranges_.begin()) return false;
  const auto& held = *std::prev(it);
  return held.first <= wanted.first && wanted.last <= held.last;
}

std::vector<s3::ByteRange> RangeSet::missing(const s3::ByteRange& wanted,
                                             std::uint64_t merge_gap) const {
  std::vector<s3::ByteRange> gaps;
  std::uint64_t next = wanted.first;  // first byte of `wanted` not yet accounted for
  for (const auto& held : ranges_) {
    if (held.last < next) continue;
    if (held.first > wanted.last) break;
    if (held.first > next) gaps.push_back({next, held.first - 1});
    if (held.last >= wanted.last) {
      next = wanted.last + 1;
      break;
    }
    next = held.last + 1;
  }
  if (next <= wanted.last) gaps.push_back({next, wanted.last});

  std::vector<s3::ByteRange> merged;
  for (const auto& gap : gaps) {
    if (!merged.empty() && gap.first - merged.back().last - 1 < merge_gap) {
      merged.back().last = gap.last;
    } else {
      merged.push_back(gap);
    }
  }
  return merged;
}

std::uint64_t RangeSet::bytes_held() const {
  std::uint64_t total = 0;
  for (const auto& range : ranges_) total += range.length();
  return total;
}

}  // namespace s3hc::cache
