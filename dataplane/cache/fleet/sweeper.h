// The sweeper: walks the shared cache directory a few object directories at a time (run by
// the maintenance lease holder, so one proxy at a time), cleaning what no request path ever
// will and auditing what each directory takes on disk:
//   - temp files older than orphan_age (their writer died mid-write);
//   - range files no record names, older than orphan_age (a writer died between renaming the
//     file into place and storing the record, or its record store failed); a record that
//     names no file and is not there at all: the whole directory goes;
//   - tombstones older than tombstone_retention (fills older than that are refused at commit,
//     so none can still be waiting to resurrect the object);
//   - multipart uploads untouched for upload_retention (abandoned: their completion, if it
//     ever comes, is forwarded without being cached);
//   - temp files under fleet/ (journals, usage, snapshots of dead writers).
// Each audited directory is reported with its size as `du` counts it, which corrects any
// drift of the journal-based accounting (news lost with a killed proxy) within one pass.
//
// Thread-safety: one thread (the maintenance loop).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_layout.h"
#include "cache/record_changes.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

struct SweepOptions {
  // Temp and unnamed files younger than this belong to writes that may still be in flight.
  // Default: 1 h (the longest a fill may take; see ObjectStoreOptions::max_fill_age).
  std::chrono::milliseconds orphan_age{3600 * 1000};
  // How long an invalidation's tombstone is kept. Default: 1 h.
  std::chrono::milliseconds tombstone_retention{3600 * 1000};
  // Uploads untouched for longer are abandoned. Default: 7 days.
  std::chrono::milliseconds upload_retention{7LL * 24 * 3600 * 1000};

  // The longest a fill may take (ObjectStoreOptions::max_fill_age): an older one may have
  // lost its temp file to the sweeper, or began before a tombstone the sweeper removed.
  std::chrono::milliseconds max_fill_age() const {
    return std::min(orphan_age, tombstone_retention);
  }
};

struct AuditedDir {
  std::string id;      // CacheLayout::object_id / upload_id
  std::uint64_t bytes;  // what it takes on disk after the sweep; 0 = gone
  std::optional<v1::CacheRecord> record;  // an object's valid record (tombstones included)
  bool upload;
};

class Sweeper {
 public:
  // `changes` (may be null) counts the records it removes (record_changes.h).
  Sweeper(CacheLayout layout, SweepOptions options,
          std::shared_ptr<RecordChanges> changes = nullptr);

  // Sweeps up to `budget` directories, going on where the last step stopped. A pass over the
  // whole directory ends with the step it ends in (fewer than `budget` then) and the next step
  // starts a new one. `now_ms`: wall clock.
  std::vector<AuditedDir> step(std::size_t budget, std::int64_t now_ms);

  // Passes started so far (the first starts with the first step).
  std::uint64_t passes() const { return passes_; }

 private:
  void start_pass(std::int64_t now_ms);
  AuditedDir sweep_object(const std::string& id, std::int64_t now_ms) const;
  AuditedDir sweep_upload(const std::string& id, std::int64_t now_ms) const;
  bool older_than(std::int64_t mtime_ms, std::chrono::milliseconds age, std::int64_t now_ms) const {
    return mtime_ms < now_ms - age.count();
  }

  CacheLayout layout_;
  SweepOptions options_;
  std::shared_ptr<RecordChanges> changes_;
  std::deque<std::string> leaves_;  // "objects/ab/cd" still to list in this pass
  std::deque<std::string> dirs_;    // directories listed, still to sweep
  std::uint64_t passes_ = 0;
};

}  // namespace s3hc::cache
