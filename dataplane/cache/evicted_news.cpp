#include "cache/evicted_news.h"

#include <endian.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include "cache/synced_file.h"
#include "util/errno_error.h"
#include "util/unique_fd.h"

namespace s3hc::cache {

namespace {

// The file: a magic word, then one time (ms since the epoch) per slot, all little-endian (the
// file is shared by hosts over NFS).
constexpr std::uint64_t kMagic = 0x3130454e56456873;  // "shEVNE01" read as little-endian
constexpr std::size_t kFileBytes = (1 + EvictedNews::kSlots) * sizeof(std::uint64_t);

off_t slot_offset(std::uint64_t object_hash) {
  return static_cast<off_t>((1 + object_hash % EvictedNews::kSlots) * sizeof(std::uint64_t));
}

// The little-endian word at `offset`; nullopt when it cannot be read whole.
std::optional<std::uint64_t> read_word(int fd, off_t offset) {
  std::uint64_t word = 0;
  const auto got = ::pread(fd, &word, sizeof(word), offset);
  if (got != static_cast<ssize_t>(sizeof(word))) return std::nullopt;
  return le64toh(word);
}

bool is_table(int fd) { return read_word(fd, 0) == kMagic; }

}  // namespace

EvictedNews::EvictedNews(const CacheLayout& layout) : path_(layout.path_of("evicted-news")) {}

void EvictedNews::make() const {
  std::string bytes(kFileBytes, '\0');
  const std::uint64_t magic = htole64(kMagic);
  std::memcpy(bytes.data(), &magic, sizeof(magic));
  create_file_unless_present(path_, bytes);
}

void EvictedNews::raise(std::uint64_t object_hash, std::int64_t news_ms) const {
  int opened = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (opened < 0 && errno == ENOENT) {
    make();  // (the directory was deleted and made anew under running proxies)
    opened = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (opened < 0) util::throw_errno("open " + path_);
  util::UniqueFd fd(opened);
  const auto offset = slot_offset(object_hash);
  const auto held = is_table(fd.get()) ? read_word(fd.get(), offset) : std::nullopt;
  if (!held) throw std::system_error(EINVAL, std::generic_category(), path_ + " is not a table");
  if (*held >= static_cast<std::uint64_t>(news_ms)) return;
  const std::uint64_t word = htole64(static_cast<std::uint64_t>(news_ms));
  if (::pwrite(fd.get(), &word, sizeof(word), offset) != static_cast<ssize_t>(sizeof(word))) {
    util::throw_errno("write " + path_);
  }
  // Closed (by fd) before the caller removes the record: on NFS the close sends the write.
}

std::int64_t EvictedNews::newest(std::uint64_t object_hash) const {
  const util::UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || !is_table(fd.get())) return 0;
  return static_cast<std::int64_t>(read_word(fd.get(), slot_offset(object_hash)).value_or(0));
}

}  // namespace s3hc::cache
