#include "cache/cache_layout.h"

#include <xxhash.h>

#include <cstdint>
#include <random>

namespace s3hc::cache {

namespace {

// Lower-case hex of `value`, 16 digits, at `out`. (Not snprintf: this runs on every hit.)
void put_hex64(std::uint64_t value, char* out) {
  constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, value >>= 4) out[i] = kDigits[value & 0xf];
}

std::string object_identity(std::string_view bucket, std::string_view key) {
  std::string identity(bucket);
  identity += '\0';  // never part of a bucket name, so ("a", "b/c") and ("a\0b", "c") differ
  identity.append(key);
  return identity;
}

// <area>/<h0h1>/<h2h3>/<hash of identity>, the hash's high half first.
std::string hashed_id(std::string_view area, std::string_view identity) {
  const auto hash = XXH3_128bits(identity.data(), identity.size());
  char hex[32];
  put_hex64(hash.high64, hex);
  put_hex64(hash.low64, hex + 16);
  const std::string_view name(hex, 32);
  std::string dir;
  // (+ "/record": a record's id appends it without growing the string again.)
  dir.reserve(area.size() + 8 + name.size() + 7);
  dir.append(area).append("/");
  dir.append(name.substr(0, 2)).append("/").append(name.substr(2, 2)).append("/").append(name);
  return dir;
}

}  // namespace

std::string CacheLayout::object_id(std::string_view bucket, std::string_view key) {
  return hashed_id("objects", object_identity(bucket, key));
}

std::uint64_t CacheLayout::object_hash(std::string_view bucket, std::string_view key) {
  const auto identity = object_identity(bucket, key);
  return XXH3_128bits(identity.data(), identity.size()).low64;
}

std::optional<std::uint64_t> CacheLayout::object_hash_of_dir(std::string_view dir) {
  constexpr std::size_t kDigits = 16;  // the low half: the last 16 of the name's 32
  if (dir.size() < 33 || dir[dir.size() - 33] != '/') return std::nullopt;
  std::uint64_t hash = 0;
  for (const char c : dir.substr(dir.size() - kDigits)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    hash = hash << 4 | static_cast<std::uint64_t>(digit);
  }
  return hash;
}

std::string CacheLayout::upload_id(std::string_view bucket, std::string_view key,
                                   std::string_view upload) {
  std::string identity(bucket);
  identity += '\0';
  identity.append(key);
  identity += '\0';
  identity.append(upload);
  return hashed_id("uploads", identity);
}

std::string CacheLayout::temp_path_for(const std::string& final_path) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  auto path = final_path;
  path += kTempFileMarker;
  path += std::to_string(generator());
  return path;
}

}  // namespace s3hc::cache
