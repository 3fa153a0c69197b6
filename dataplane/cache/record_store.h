// Object records (proto/s3hc/v1/cache_record.proto) on the shared cache directory, at the
// paths of cache_layout.h. A record is replaced whole: written to a temp file beside it,
// synced, renamed over the old one (atomic on local file systems and NFS). A record whose
// stored bucket and key differ from the ones asked for (a hash collision) or that does not
// parse is treated as absent. Every record file is stamped (file_stamp.h): stamp() tells with
// one stat whether the file is still the one a load or a store saw.
//
// Thread-safety: const methods may run concurrently from any thread. Two writers of one record
// race last-writer-wins (the cross-proxy protocol with leases comes with the fleet engine).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_layout.h"
#include "cache/file_stamp.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

struct StampedRecord {
  v1::CacheRecord record;
  FileStamp stamp;  // of the file it was read from or written to
};

class RecordStore {
 public:
  explicit RecordStore(CacheLayout layout) : layout_(std::move(layout)) {}

  const CacheLayout& layout() const { return layout_; }

  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) const;
  std::optional<StampedRecord> load_stamped(std::string_view bucket, std::string_view key) const;

  // The stamp of the object's record file now; nullopt when there is none.
  std::optional<FileStamp> stamp(std::string_view bucket, std::string_view key) const;

  // Writes `record` (its bucket and key name the file) with a generation one higher than the
  // record it replaces (1 for a new one), and sets record.generation accordingly; returns the
  // stamp of the file written. Throws std::system_error when the file cannot be written.
  FileStamp store(v1::CacheRecord& record) const;

  // Deletes the record; false when there was none.
  bool remove(std::string_view bucket, std::string_view key) const;

 private:
  CacheLayout layout_;
};

}  // namespace s3hc::cache
