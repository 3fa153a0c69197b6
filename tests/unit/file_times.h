// Setting a file's modification time from a test, to make it look as old as a test needs
// (the sweeper and leases judge files by their age).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace s3hc::testing {

// Sets the access and modification times of `path` (not following a symlink) to `ms` since
// the Unix epoch.
inline void set_mtime(const std::string& path, std::int64_t ms) {
  timespec times[2];
  times[0].tv_sec = ms / 1000;
  times[0].tv_nsec = (ms % 1000) * 1'000'000;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

}  // namespace s3hc::testing
