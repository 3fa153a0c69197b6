#include "cache/store/replace_claim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <utility>

namespace s3hc::cache {
namespace {

// How old the claim file `path` is; nullopt when it is gone.
std::optional<std::chrono::nanoseconds> age_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::nullopt;
  const auto modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(status.st_mtim.tv_sec) +
          std::chrono::nanoseconds(status.st_mtim.tv_nsec)));
  return std::chrono::system_clock::now() - modified;
}

}  // namespace

std::string ReplaceClaim::claim_path(const std::string& path, const FileStamp& stamp,
                                     unsigned n) {
  const std::array<std::int64_t, 3> fields = {static_cast<std::int64_t>(stamp.inode),
                                              static_cast<std::int64_t>(stamp.size),
                                              stamp.mtime_ns};
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".tmp.claim-%016llx-%u",
                static_cast<unsigned long long>(XXH3_64bits(fields.data(), sizeof(fields))), n);
  return path + suffix;
}

std::pair<ReplaceClaim::Outcome, std::unique_ptr<ReplaceClaim>> ReplaceClaim::take(
    const std::string& path, const FileStamp& stamp, std::chrono::milliseconds dead_after) {
  for (unsigned n = 0;;) {
    const auto claim = claim_path(path, stamp, n);
    const int fd = ::open(claim.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return {Outcome::kClaimed, std::unique_ptr<ReplaceClaim>(new ReplaceClaim(path, stamp, n))};
    }
    if (errno != EEXIST) return {Outcome::kBusy, nullptr};  // (the caller's write will say why)
    const auto age = age_of(claim);
    if (!age) continue;                                   // released meanwhile: try it again
    if (*age < dead_after) return {Outcome::kBusy, nullptr};
    ++n;  // left by a process that died: step over it
  }
}

ReplaceClaim::~ReplaceClaim() {
  for (unsigned n = 0; n <= n_; ++n) ::unlink(claim_path(path_, stamp_, n).c_str());
}

}  // namespace s3hc::cache
