// Object records with the shared directory as the truth and this proxy's local metadata mirror
// (metadata_mirror.h) in front of it, so a hit needs no metadata read from the shared
// directory.
//
// Staleness is bounded: a mirror entry is trusted for `recheck_interval` after it was last
// compared with the shared record; after that, load reads the shared record again and
// refreshes the entry. Within the interval a record another proxy changed or deleted may still
// be served, so a caller that finds the record inconsistent with the directory (a range file it
// names is missing) calls load_shared. Only records that exist are mirrored: a miss always
// reads the shared directory, so an object another proxy has just cached is seen at once.
// Without a mirror every load reads the shared directory.
//
// A load racing a store of the same object on this proxy may leave the older record in the
// mirror; like any other stale entry it lasts at most one interval.
//
// Thread-safety: all methods may run concurrently from any thread. Two writers of one record
// race last-writer-wins, as in RecordStore.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/metadata_mirror.h"
#include "cache/record_store.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

struct MirroredRecordStoreOptions {
  // How long a mirror entry is served without reading the shared record; zero reads it every
  // time. Default: 1 s.
  std::chrono::milliseconds recheck_interval{1000};
};

class MirroredRecordStore {
 public:
  // `mirror` may be null (no mirror).
  MirroredRecordStore(RecordStore shared, std::unique_ptr<MetadataMirror> mirror,
                      MirroredRecordStoreOptions options = {});

  const RecordStore& shared() const { return shared_; }
  // Null when there is no mirror.
  const MetadataMirror* mirror() const { return mirror_.get(); }

  // The record: from the mirror when its entry was checked less than recheck_interval before
  // `now_unix_ms`, else from the shared directory (and the mirror refreshed).
  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key,
                                      std::int64_t now_unix_ms) const;

  // The shared record, whatever the mirror holds; the mirror is refreshed.
  std::optional<v1::CacheRecord> load_shared(std::string_view bucket, std::string_view key,
                                             std::int64_t now_unix_ms) const;

  // RecordStore::store (which sets record.generation), then the mirror. Throws
  // std::system_error, leaving the mirror as it was, when the shared record cannot be written.
  void store(v1::CacheRecord& record, std::int64_t now_unix_ms) const;

  // Deletes the shared record and the mirror's entry; false when there was no shared record.
  bool remove(std::string_view bucket, std::string_view key) const;

 private:
  std::optional<v1::CacheRecord> refresh(std::string_view bucket, std::string_view key,
                                         std::int64_t now_unix_ms, bool mirrored) const;

  RecordStore shared_;
  std::unique_ptr<MetadataMirror> mirror_;
  MirroredRecordStoreOptions options_;
};

}  // namespace s3hc::cache
