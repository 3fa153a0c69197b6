// Whether a directory lives on a network file system, where every metadata operation the
// attribute cache does not answer is a round trip to a server (NFS, SMB, CephFS, FUSE
// mounts such as s3fs or sshfs, ...). The proxy uses it to decide where the one stat of
// strict read-after-write may run (object_store.h, cheap_stats). Any thread.
#pragma once

#include <string>

namespace s3hc::cache {

// True for a known network (or FUSE) file system, and when the file system cannot be told
// (the safe answer: its stats are then kept off the event loops).
bool is_network_file_system(const std::string& path);

}  // namespace s3hc::cache
