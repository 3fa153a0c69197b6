// Object records with the shared directory as the truth and this proxy's local metadata mirror
// (metadata_mirror.h) in front of it, so a hit needs no read (nor parse) of the shared record.
//
// Read-after-write across the fleet: a record this proxy holds (in the mirror, or in the RAM
// tier as a KnownRecord) is served only once confirmed to be still the shared one. Strict mode
// (max_staleness 0, the default) confirms on every load: by its change mark when the directory
// has a table of record changes (record_changes.h: no system call), else (or when a change was
// counted since) with one stat of the shared record file (file_stamp.h): an unchanged stamp
// means the same file, so the held copy is used; any change (another proxy's write, an
// invalidation, an eviction) means the shared record is read again. Bounded mode (max_staleness N > 0) trusts a record for N ms after it was last confirmed, so a
// change made through another proxy may go unseen for up to N ms. Only records that exist are
// mirrored: a miss always reads the shared directory. Without a mirror every load reads the
// shared directory.
//
// A load racing a store of the same object on this proxy may leave the older record in the
// mirror; its stamp is then not the shared file's, so the next load reads the shared record.
//
// Thread-safety: all methods may run concurrently from any thread. Two writers of one record
// are ordered by RecordStore::replace.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/store/known_record.h"
#include "cache/store/metadata_mirror.h"
#include "cache/store/record_store.h"

namespace s3hc::cache {

struct MirroredRecordStoreOptions {
  // How long a held record is served after it was last confirmed without confirming it again;
  // 0 (strict) confirms it on every load. Default: 0.
  std::chrono::milliseconds max_staleness{0};
};

class MirroredRecordStore {
 public:
  // `mirror` may be null (no mirror).
  MirroredRecordStore(RecordStore shared, std::unique_ptr<MetadataMirror> mirror,
                      MirroredRecordStoreOptions options = {});

  const RecordStore& shared() const { return shared_; }
  // Null when there is no mirror.
  const MetadataMirror* mirror() const { return mirror_.get(); }

  // Whether `known` was confirmed less than max_staleness before `now_unix_ms` (no I/O).
  bool within_bound(const KnownRecord& known, std::int64_t now_unix_ms) const;

  enum class Confirmation {
    kHeld,     // still the shared record, and `known` has nothing new to keep
    kRenewed,  // still the shared record, and `known` now says so as of `now_unix_ms`: keep it
    kChanged,  // no longer the shared record
  };
  // Whether `known` is still the shared record: within the bound or by its change mark (no
  // system call), else one stat of the shared record file.
  Confirmation confirm(KnownRecord& known, std::int64_t now_unix_ms) const;

  // The record: the mirror's when confirm() says it is still the shared one, else the shared
  // directory's (and the mirror refreshed).
  std::optional<KnownRecord> load(std::string_view bucket, std::string_view key,
                                  std::int64_t now_unix_ms) const;

  // The shared record, whatever the mirror holds; the mirror is refreshed.
  std::optional<KnownRecord> load_shared(std::string_view bucket, std::string_view key,
                                         std::int64_t now_unix_ms) const;

  // RecordStore::replace (a compare-and-swap, which sets record.generation), then the mirror;
  // returns what was stored, nullopt when the shared record is no longer what `current` saw.
  // Throws std::system_error, leaving the mirror as it was, when the shared record cannot be
  // written.
  std::optional<KnownRecord> replace(v1::CacheRecord& record, const SharedRecord& current,
                                     std::int64_t now_unix_ms) const;

  // Deletes the shared record and the mirror's entry; false when there was no shared record.
  bool remove(std::string_view bucket, std::string_view key) const;

 private:
  std::optional<KnownRecord> refresh(std::string_view bucket, std::string_view key,
                                     std::int64_t now_unix_ms, bool mirrored) const;

  RecordStore shared_;
  std::unique_ptr<MetadataMirror> mirror_;
  MirroredRecordStoreOptions options_;
};

}  // namespace s3hc::cache
