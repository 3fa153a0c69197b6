#include "cache/record_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

namespace s3hc::cache {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string object_hash(std::string_view bucket, std::string_view key) {
  std::string identity(bucket);
  identity += '\0';  // never part of a bucket name, so ("a", "b/c") and ("a\0b", "c") differ
  identity.append(key);
  const auto hash = XXH3_128bits(identity.data(), identity.size());
  char hex[33];
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return hex;
}

std::string temp_name_for(const std::string& path) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return path + ".tmp." + std::to_string(generator());
}

void write_file_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("create " + path);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const auto written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      errno = saved;
      throw_errno("write " + path);
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    throw_errno("sync " + path);
  }
}

}  // namespace

RecordStore::RecordStore(std::string root) : root_(std::move(root)) {}

std::string RecordStore::record_path(std::string_view bucket, std::string_view key) const {
  const auto hash = object_hash(bucket, key);
  return root_ + "/records/" + hash.substr(0, 2) + "/" + hash.substr(2, 2) + "/" + hash + ".rec";
}

std::optional<v1::CacheRecord> RecordStore::load(std::string_view bucket,
                                                 std::string_view key) const {
  std::ifstream file(record_path(bucket, key), std::ios::binary);
  if (!file) return std::nullopt;
  v1::CacheRecord record;
  if (!record.ParseFromIstream(&file) || record.bucket() != bucket || record.key() != key) {
    return std::nullopt;
  }
  return record;
}

void RecordStore::store(v1::CacheRecord& record) const {
  const auto path = record_path(record.bucket(), record.key());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto current = load(record.bucket(), record.key());
  record.set_generation(current ? current->generation() + 1 : 1);
  const auto temp = temp_name_for(path);
  write_file_synced(temp, record.SerializeAsString());
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    throw_errno("rename " + path);
  }
}

bool RecordStore::remove(std::string_view bucket, std::string_view key) const {
  return ::unlink(record_path(bucket, key).c_str()) == 0;
}

}  // namespace s3hc::cache
