// Object records (proto/s3hc/v1/cache_record.proto) on the shared cache directory, at the
// paths of cache_layout.h. A record is replaced whole: written to a temp file beside it,
// synced, renamed over the old one (atomic on local file systems and NFS). A record whose
// stored bucket and key differ from the ones asked for (a hash collision) or that does not
// parse is treated as absent.
//
// Thread-safety: const methods may run concurrently from any thread. Two writers of one record
// race last-writer-wins (the cross-proxy protocol with leases comes with the fleet engine).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cache/cache_layout.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

class RecordStore {
 public:
  explicit RecordStore(CacheLayout layout) : layout_(std::move(layout)) {}

  const CacheLayout& layout() const { return layout_; }

  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) const;

  // Writes `record` (its bucket and key name the file) with a generation one higher than the
  // record it replaces (1 for a new one), and sets record.generation accordingly. Throws
  // std::system_error when the file cannot be written.
  void store(v1::CacheRecord& record) const;

  // Deletes the record; false when there was none.
  bool remove(std::string_view bucket, std::string_view key) const;

 private:
  CacheLayout layout_;
};

}  // namespace s3hc::cache
