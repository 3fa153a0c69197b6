#include "cache/store/compression_policy.h"

#include <lz4.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "cache/store/block_codec.h"
#include "util/ascii.h"

namespace s3hc::cache {
namespace {

constexpr std::array<std::string_view, 5> kCompressedTypePrefixes = {
    "image/", "video/", "audio/", "font/woff", "application/vnd.apache.parquet"};

constexpr std::array<std::string_view, 14> kCompressedTypes = {
    "application/zip",   "application/gzip",      "application/x-gzip",
    "application/x-bzip2", "application/x-xz",    "application/zstd",
    "application/x-7z-compressed", "application/x-rar-compressed",
    "application/x-lz4", "application/x-snappy-framed", "application/pdf",
    "application/x-tar+gzip", "application/java-archive", "application/x-parquet"};

constexpr std::array<std::string_view, 24> kCompressedExtensions = {
    ".gz",  ".tgz", ".bz2", ".xz",   ".zst", ".zstd", ".lz4", ".zip",
    ".7z",  ".rar", ".jpg", ".jpeg", ".png", ".gif",  ".webp", ".avif",
    ".mp4", ".mkv", ".mov", ".webm", ".mp3", ".aac",  ".parquet", ".orc"};

}  // namespace

bool known_incompressible(std::string_view content_type, std::string_view key) {
  const auto type = util::to_lower_ascii(content_type.substr(0, content_type.find(';')));
  for (const auto prefix : kCompressedTypePrefixes) {
    if (type.starts_with(prefix) && type != "image/svg+xml" && type != "image/bmp") return true;
  }
  if (std::find(kCompressedTypes.begin(), kCompressedTypes.end(), type) != kCompressedTypes.end()) {
    return true;
  }
  const auto slash = key.rfind('/');
  const auto name = util::to_lower_ascii(key.substr(slash == std::string_view::npos ? 0 : slash));
  return std::any_of(kCompressedExtensions.begin(), kCompressedExtensions.end(),
                     [&](std::string_view extension) { return name.ends_with(extension); });
}

bool compresses_well(std::string_view sample) {
  if (sample.empty()) return false;
  std::vector<char> scratch(
      static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(sample.size()))));
  const int compressed = LZ4_compress_default(sample.data(), scratch.data(),
                                              static_cast<int>(sample.size()),
                                              static_cast<int>(scratch.size()));
  return compressed > 0 && compression_pays(sample.size(), static_cast<std::size_t>(compressed));
}

}  // namespace s3hc::cache
