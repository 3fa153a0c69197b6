#include "cache/fill_lease.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace s3hc::cache {
namespace {

constexpr std::chrono::seconds kRefreshPeriod{1};

}  // namespace

std::string FillLease::path_for(const std::string& fills_dir, std::string_view what) {
  char name[48];
  std::snprintf(name, sizeof(name), "/fill-%016llx.tmp.lease",
                static_cast<unsigned long long>(XXH3_64bits(what.data(), what.size())));
  return fills_dir + name;
}

std::unique_ptr<FillLease> FillLease::try_acquire(const std::string& fills_dir,
                                                  std::string_view what) {
  std::error_code ignored;
  std::filesystem::create_directories(fills_dir, ignored);
  auto path = path_for(fills_dir, what);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  ::close(fd);
  return std::unique_ptr<FillLease>(new FillLease(std::move(path)));
}

FillLeaseState FillLease::probe(const std::string& fills_dir, std::string_view what,
                                std::chrono::milliseconds stale_after) {
  struct stat status {};
  if (::stat(path_for(fills_dir, what).c_str(), &status) != 0) return FillLeaseState::kNone;
  const auto refreshed = std::chrono::system_clock::time_point(
      std::chrono::seconds(status.st_mtim.tv_sec) +
      std::chrono::nanoseconds(status.st_mtim.tv_nsec));
  return std::chrono::system_clock::now() - refreshed > stale_after ? FillLeaseState::kStale
                                                                    : FillLeaseState::kLive;
}

void FillLease::break_stale(const std::string& fills_dir, std::string_view what) {
  // Two waiters breaking the same lease at once may both fetch: a duplicate fetch, never a
  // wrong byte.
  ::unlink(path_for(fills_dir, what).c_str());
}

FillLease::~FillLease() { ::unlink(path_.c_str()); }

void FillLease::refresh() {
  const auto now = std::chrono::steady_clock::now();
  if (now - refreshed_ < kRefreshPeriod) return;
  refreshed_ = now;
  ::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0);
}

}  // namespace s3hc::cache
