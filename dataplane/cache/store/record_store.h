// Object records (proto/s3hc/v1/cache_record.proto) on the shared cache directory, at the
// paths of cache_layout.h. A record is replaced whole: written to a temp file beside it,
// synced, renamed over the old one (atomic on local file systems and NFS). A record whose
// stored bucket and key differ from the ones asked for (a hash collision) or that does not
// parse is treated as absent. Every record file is stamped (file_stamp.h): stamp() tells with
// one stat whether the file is still the one a load or a store saw. With a table of record
// changes (record_changes.h) every replacement and removal is also counted there, so that a
// mark taken before a load or a stamp tells, with no system call, that neither has changed.
//
// Replacing a record is a compare-and-swap across processes and hosts (replace_claim.h): a
// process that loaded a record replaces it only if it is still that version, so two proxies
// updating one record (a fill and a write) never lose one another's update.
//
// Thread-safety: const methods may run concurrently from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_layout.h"
#include "cache/file_stamp.h"
#include "cache/record_changes.h"
#include "s3hc/v1/cache_record.pb.h"
#include "util/unique_fd.h"

namespace s3hc::cache {

struct StampedRecord {
  v1::CacheRecord record;
  FileStamp stamp;  // of the file it was read from or written to
};

// What the shared directory holds at an object's record path.
struct SharedRecord {
  std::optional<FileStamp> stamp;         // none: no file
  std::optional<v1::CacheRecord> record;  // none: no file, or not a record of this object
};

class RecordStore {
 public:
  // `changes`: the directory's table of record changes; null: none (every check stats).
  explicit RecordStore(CacheLayout layout, std::shared_ptr<RecordChanges> changes = nullptr);

  const CacheLayout& layout() const { return layout_; }
  RecordChanges* changes() const { return changes_.get(); }

  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) const;
  std::optional<StampedRecord> load_stamped(std::string_view bucket, std::string_view key) const;
  SharedRecord load_current(std::string_view bucket, std::string_view key) const;

  // The stamp of the object's record file now; nullopt when there is none.
  std::optional<FileStamp> stamp(std::string_view bucket, std::string_view key) const;

  // The object's change mark now (none without a table): take it before a load or a stamp.
  ChangeMark change_mark(std::string_view bucket, std::string_view key) const;
  // Whether `earlier` proves that the object's record has not changed since it was taken.
  bool unchanged_since(const ChangeMark& earlier, std::string_view bucket,
                       std::string_view key) const;

  // Compare-and-swap: writes `record` (its bucket and key name the file) in place of exactly
  // what `current` (from load_current) saw, with a generation one higher than current.record's
  // (1 without one), and sets record.generation accordingly; returns the stamp of the file
  // written. nullopt, with nothing written, when the file is no longer what `current` saw (or
  // another process is replacing it now): load again and decide again. Throws
  // std::system_error when the file cannot be written.
  std::optional<FileStamp> replace(v1::CacheRecord& record, const SharedRecord& current) const;

  // Writes `record` whatever the record file holds (replace, retried until it lands).
  FileStamp store(v1::CacheRecord& record) const;

  // Deletes the record; false when there was none.
  bool remove(std::string_view bucket, std::string_view key) const;
  // Compare-and-swap removal (replace()'s protocol): deletes the record of the object
  // `current.record` names only if the file is still exactly what `current` saw; false, with
  // nothing removed, when it is not.
  bool remove_if_unchanged(const SharedRecord& current) const;

 private:
  // Counts a replacement or removal now in place (before anyone is answered).
  void count_change(std::string_view bucket, std::string_view key) const;

  CacheLayout layout_;
  // The root directory, open (O_PATH) for stamp(), which finds a record below it with a
  // shorter walk than the full path's; -1 when it could not be opened. Shared by copies. The
  // root must not be moved while proxies run (it may be deleted: stamp() then falls back to
  // the path).
  std::shared_ptr<const util::UniqueFd> root_;
  std::shared_ptr<RecordChanges> changes_;
};

}  // namespace s3hc::cache
