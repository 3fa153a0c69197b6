// The fleet's policy, every version of it, in the control plane's database
// (control_database.h): one entry per version ("policy/" and the version in 20 digits, so the keys
// sort as the versions), the newest in force. Versions only grow: a rollback sets an earlier
// snapshot again as a new version, so every proxy, which applies only newer versions, takes
// it. Writes are synced: a version an operator was told is set survives a crash.
//
// Thread-safety: every method from any thread; wait_for_newer() blocks its caller only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "controlplane/control_database.h"
#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

// Why a change was not made.
struct PolicyConflict {
  std::uint64_t in_force = 0;  // the version in force, not the one the change expected
};
struct PolicyInvalid {
  std::vector<std::string> errors;  // each naming its rule
};
struct PolicyVersionUnknown {};

using PolicyChange =
    std::variant<v1::PolicyRevision, PolicyConflict, PolicyInvalid, PolicyVersionUnknown>;

class PolicyStore {
 public:
  // The versions kept in `database` (which must outlive the store).
  explicit PolicyStore(ControlDatabase& database);

  // The version in force (nullopt: none yet), or a given one.
  std::optional<v1::PolicyRevision> current() const;
  std::optional<v1::PolicyRevision> at(std::uint64_t version) const;
  // Newest first; limit 0: all.
  std::vector<v1::PolicyRevision> history(std::size_t limit) const;

  // Sets `snapshot` as version current + 1 when `expected_version` is the version in force
  // (0: none yet) and the snapshot is valid.
  PolicyChange put(v1::PolicySnapshot snapshot, std::uint64_t expected_version,
                   std::string comment);
  // Sets version `to`'s snapshot again, as put() would.
  PolicyChange rollback(std::uint64_t to, std::uint64_t expected_version, std::string comment);

  // Blocks until a version newer than `known` is in force or `deadline` passes; returns it,
  // or nullopt.
  std::optional<v1::PolicyRevision> wait_for_newer(
      std::uint64_t known, std::chrono::steady_clock::time_point deadline) const;

 private:
  PolicyChange store(v1::PolicySnapshot snapshot, std::uint64_t expected_version,
                     std::string comment, std::uint64_t rolled_back_to);

  ControlDatabase& database_;
  mutable std::mutex mutex_;                // one change at a time; guards in_force_
  mutable std::condition_variable changed_;
  std::uint64_t in_force_ = 0;              // the newest version (0: none)
};

}  // namespace s3hc::control
