// The policy in force (docs/POLICY.md): read from a file at start-up, then again whenever
// the file changes, which its own thread learns from inotify (at once, on a local file
// system) and from a stat every `interval` (cache/file_stamp.h: on NFS it asks the server,
// whatever the attribute cache holds; NFS, where a fleet's policy file often lives,
// tells inotify nothing of other hosts' changes). A new valid file replaces the
// policy whole and at once: a request takes one snapshot (current()) and keeps it, so it sees
// the old policy or the new one, never a mix. An invalid file leaves the policy in force,
// logged with every fault and reported to `on_load`; so does a file that vanished.
//
// Thread-safety: current() from any thread (an atomic shared_ptr); the thread runs until
// destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cache/file_stamp.h"
#include "policy/policy_matcher.h"
#include "util/unique_fd.h"

namespace s3hc::policy {

class PolicySource {
 public:
  // After every read of the file: the version in force and whether this read failed.
  using LoadObserver = std::function<void(std::uint64_t version, bool failed)>;

  // What version() says of a snapshot without a version: an operator's file need not number
  // itself (the count of files applied stands in); the control plane's pushed file is
  // numbered by it, and 0 is "none pushed yet".
  enum class Numbering { kSnapshotOrCount, kSnapshotOnly };

  // Reads `path` now; throws std::runtime_error listing the faults when it is invalid.
  PolicySource(std::string path, std::chrono::milliseconds interval, LoadObserver on_load = {},
               Numbering numbering = Numbering::kSnapshotOrCount);
  ~PolicySource();
  PolicySource(const PolicySource&) = delete;
  PolicySource& operator=(const PolicySource&) = delete;

  std::shared_ptr<const PolicyMatcher> current() const { return current_.load(); }
  // The snapshot's version, or when the file sets none, as the Numbering says.
  std::uint64_t version() const { return version_.load(); }

  // Reads the file again if it changed since it was last read; true when a new policy was
  // applied. (The thread calls it; tests may too.) Any thread.
  bool reload_if_changed();

 private:
  // Watches the file's directory, set up before the thread starts so no change is missed.
  util::UniqueFd watch_directory() const;
  // `seen`: the file's stamp as it was looked at (none: the file is gone).
  bool apply(const std::optional<cache::FileStamp>& seen);
  void watch();
  std::uint64_t version_of(const PolicyMatcher& matcher) const;

  const std::string path_;
  const std::chrono::milliseconds interval_;
  const LoadObserver on_load_;
  const Numbering numbering_;
  std::atomic<std::shared_ptr<const PolicyMatcher>> current_;
  std::atomic<std::uint64_t> version_{0};
  std::mutex reload_mutex_;    // one reload at a time; guards the two below
  std::uint64_t applied_ = 0;  // files applied
  std::optional<cache::FileStamp> last_seen_;
  util::UniqueFd stop_;     // an eventfd the destructor signals
  util::UniqueFd inotify_;  // watching the file's directory (-1: none)
  std::thread thread_;
};

}  // namespace s3hc::policy
