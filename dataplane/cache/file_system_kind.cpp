#include "cache/file_system_kind.h"

#include <sys/vfs.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace s3hc::cache {
namespace {

// f_type values (linux/magic.h and the file systems' own headers).
constexpr std::array<std::uint32_t, 13> kNetworkFileSystems = {
    0x6969,      // NFS
    0x517B,      // SMB
    0xFF534D42,  // CIFS
    0xFE534D42,  // SMB2
    0x00C36400,  // CephFS
    0x65735546,  // FUSE
    0x5346414F,  // AFS
    0x73757245,  // Coda
    0x01021997,  // 9P
    0x01161970,  // GFS2
    0x7461636F,  // OCFS2
    0x0BD00BD0,  // Lustre
    0x47504653,  // GPFS
};

}  // namespace

bool is_network_file_system(const std::string& path) {
  struct statfs status {};
  if (::statfs(path.c_str(), &status) != 0) return true;
  const auto type = static_cast<std::uint32_t>(status.f_type);
  return std::find(kNetworkFileSystems.begin(), kNetworkFileSystems.end(), type) !=
         kNetworkFileSystems.end();
}

}  // namespace s3hc::cache
