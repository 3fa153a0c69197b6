// The wall-clock time in milliseconds since the Unix epoch: what the cache's ordering rules,
// freshness and the fleet's leases and journals are timed with (hosts sharing a cache
// directory keep their clocks in sync with NTP). Any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace s3hc::util {

inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace s3hc::util
