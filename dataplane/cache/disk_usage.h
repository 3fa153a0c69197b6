// What a directory of the cache takes on disk, counted the way `du` counts it (allocated
// blocks, the directory's own included), so the fleet's size accounting can be checked
// against du. Temp files are left out: they belong to writes in flight, which either become
// part of the directory (and are counted at their commit) or vanish. Any thread.
#pragma once

#include <cstdint>
#include <string>

namespace s3hc::cache {

// 0 when the directory does not exist.
std::uint64_t directory_disk_usage(const std::string& dir);

}  // namespace s3hc::cache
