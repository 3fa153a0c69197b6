#include "cache/record_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "util/errno_error.h"

namespace s3hc::cache {
namespace {

void write_file_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) util::throw_errno("create " + path);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const auto written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      errno = saved;
      util::throw_errno("write " + path);
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    util::throw_errno("sync " + path);
  }
}

}  // namespace

std::optional<v1::CacheRecord> RecordStore::load(std::string_view bucket,
                                                 std::string_view key) const {
  std::ifstream file(layout_.record_path(bucket, key), std::ios::binary);
  if (!file) return std::nullopt;
  v1::CacheRecord record;
  if (!record.ParseFromIstream(&file) || record.bucket() != bucket || record.key() != key) {
    return std::nullopt;
  }
  return record;
}

void RecordStore::store(v1::CacheRecord& record) const {
  const auto path = layout_.record_path(record.bucket(), record.key());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto current = load(record.bucket(), record.key());
  record.set_generation(current ? current->generation() + 1 : 1);
  const auto temp = CacheLayout::temp_path_for(path);
  write_file_synced(temp, record.SerializeAsString());
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    util::throw_errno("rename " + path);
  }
}

bool RecordStore::remove(std::string_view bucket, std::string_view key) const {
  return ::unlink(layout_.record_path(bucket, key).c_str()) == 0;
}

}  // namespace s3hc::cache
