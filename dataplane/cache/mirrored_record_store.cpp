#include "cache/mirrored_record_store.h"

#include <utility>

namespace s3hc::cache {

MirroredRecordStore::MirroredRecordStore(RecordStore shared,
                                         std::unique_ptr<MetadataMirror> mirror,
                                         MirroredRecordStoreOptions options)
    : shared_(std::move(shared)), mirror_(std::move(mirror)), options_(options) {}

std::optional<v1::CacheRecord> MirroredRecordStore::load(std::string_view bucket,
                                                         std::string_view key,
                                                         std::int64_t now_unix_ms) const {
  if (!mirror_) return shared_.load(bucket, key);
  auto entry = mirror_->get(bucket, key);
  if (entry) {
    const auto age = now_unix_ms - entry->checked_at_unix_ms;
    // A negative age (the wall clock went back) proves nothing about freshness: re-check.
    if (age >= 0 && age < options_.recheck_interval.count()) return std::move(entry->record);
  }
  return refresh(bucket, key, now_unix_ms, entry.has_value());
}

std::optional<v1::CacheRecord> MirroredRecordStore::load_shared(std::string_view bucket,
                                                                std::string_view key,
                                                                std::int64_t now_unix_ms) const {
  if (!mirror_) return shared_.load(bucket, key);
  // Not knowing what the mirror holds (its entry may be why the caller is here), erase it
  // whenever the shared record is gone.
  return refresh(bucket, key, now_unix_ms, true);
}

void MirroredRecordStore::store(v1::CacheRecord& record, std::int64_t now_unix_ms) const {
  shared_.store(record);
  if (mirror_) mirror_->put(record, now_unix_ms);
}

bool MirroredRecordStore::remove(std::string_view bucket, std::string_view key) const {
  // Shared first: erasing the entry before would let a concurrent load mirror the record again.
  const bool removed = shared_.remove(bucket, key);
  if (mirror_) mirror_->erase(bucket, key);
  return removed;
}

// `mirrored`: the mirror may hold an entry to erase if the shared record is gone (erasing a
// missing one would still write a tombstone, on every miss).
std::optional<v1::CacheRecord> MirroredRecordStore::refresh(std::string_view bucket,
                                                            std::string_view key,
                                                            std::int64_t now_unix_ms,
                                                            bool mirrored) const {
  auto record = shared_.load(bucket, key);
  if (record) {
    mirror_->put(*record, now_unix_ms);
  } else if (mirrored) {
    mirror_->erase(bucket, key);
  }
  return record;
}

}  // namespace s3hc::cache
