#include "cache/store/verified_blocks.h"

#include <sys/stat.h>

namespace s3hc::cache {

std::optional<FileIdentity> identify(int fd, std::string_view path) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) return std::nullopt;
  return FileIdentity{
      .name_hash = std::hash<std::string_view>{}(path),
      .device = static_cast<std::uint64_t>(status.st_dev),
      .inode = static_cast<std::uint64_t>(status.st_ino),
      .size = static_cast<std::uint64_t>(status.st_size),
      .modified_ns = status.st_mtim.tv_sec * 1'000'000'000ll + status.st_mtim.tv_nsec,
      .changed_ns = status.st_ctim.tv_sec * 1'000'000'000ll + status.st_ctim.tv_nsec};
}

std::size_t VerifiedBlocks::Hash::operator()(const FileIdentity& file) const {
  std::size_t hash = std::hash<std::uint64_t>{}(file.inode);
  for (const auto part :
       {file.name_hash, file.device, file.size, static_cast<std::uint64_t>(file.changed_ns)}) {
    hash ^= std::hash<std::uint64_t>{}(part) + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2);
  }
  return hash;
}

bool VerifiedBlocks::contains(const FileIdentity& file, std::size_t block) const {
  std::lock_guard lock(mutex_);
  const auto found = files_.find(file);
  return found != files_.end() && block < found->second.size() && found->second[block];
}

void VerifiedBlocks::add(const FileIdentity& file, std::size_t block) {
  std::lock_guard lock(mutex_);
  if (files_.size() >= kMaxFiles && !files_.count(file)) files_.clear();
  auto& blocks = files_[file];
  if (blocks.size() <= block) blocks.resize(block + 1);
  blocks[block] = true;
}

}  // namespace s3hc::cache
