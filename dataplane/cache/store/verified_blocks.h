// Which blocks of which range files this process has checked. A range file never changes once
// written, so a block whose checksum matched once can afterwards be sent straight from the file
// (sendfile) without being read into the process again, as long as the file is still the same
// one: same name, device, inode, size and modification and change times. A file rewritten or
// damaged through the file system gets new times and is checked again; the name (random for
// every range file) tells apart a new file on a file system with coarse times that reuses an
// inode.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace s3hc::cache {

struct FileIdentity {
  std::uint64_t name_hash = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t modified_ns = 0;
  std::int64_t changed_ns = 0;

  bool operator==(const FileIdentity&) const = default;
};

// The identity of the open file `fd` named `path`; nullopt when fstat fails.
std::optional<FileIdentity> identify(int fd, std::string_view path);

class VerifiedBlocks {
 public:
  bool contains(const FileIdentity& file, std::size_t block) const;
  void add(const FileIdentity& file, std::size_t block);

 private:
  struct Hash {
    std::size_t operator()(const FileIdentity& file) const;
  };
  // Bounds the memory: past this many files, everything is forgotten and checked again.
  static constexpr std::size_t kMaxFiles = 100'000;

  mutable std::mutex mutex_;
  std::unordered_map<FileIdentity, std::vector<bool>, Hash> files_;
};

}  // namespace s3hc::cache
