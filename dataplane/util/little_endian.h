// Fixed-width little-endian integers in byte strings, for on-disk formats that must read the
// same on any host. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace s3hc::util {

inline void append_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

// Reads `bytes` bytes at `offset`; the caller checks that they are there.
inline std::uint64_t read_le(std::string_view data, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[offset + i])) << (8 * i);
  }
  return value;
}

}  // namespace s3hc::util
