#include "cache/store/mirrored_record_store.h"

#include <utility>

namespace s3hc::cache {

MirroredRecordStore::MirroredRecordStore(RecordStore shared,
                                         std::unique_ptr<MetadataMirror> mirror,
                                         MirroredRecordStoreOptions options)
    : shared_(std::move(shared)), mirror_(std::move(mirror)), options_(options) {}

bool MirroredRecordStore::within_bound(const KnownRecord& known,
                                       std::int64_t now_unix_ms) const {
  const auto age = now_unix_ms - known.checked_at_unix_ms;
  // A negative age (the wall clock went back) proves nothing about freshness: confirm.
  return age >= 0 && age < options_.max_staleness.count();
}

MirroredRecordStore::Confirmation MirroredRecordStore::confirm(KnownRecord& known,
                                                               std::int64_t now_unix_ms) const {
  if (within_bound(known, now_unix_ms)) return Confirmation::kHeld;
  const auto& bucket = known.record->bucket();
  const auto& key = known.record->key();
  auto mark = known.change_mark;
  if (!shared_.unchanged_since(mark, bucket, key)) {
    mark = shared_.change_mark(bucket, key);  // before the stat
    if (shared_.stamp(bucket, key) != known.stamp) return Confirmation::kChanged;
  }
  // Strict mode never reads the time back: only a new mark is worth keeping.
  if (options_.max_staleness.count() == 0 && mark == known.change_mark) return Confirmation::kHeld;
  known.checked_at_unix_ms = now_unix_ms;
  known.change_mark = mark;
  return Confirmation::kRenewed;
}

std::optional<KnownRecord> MirroredRecordStore::load(std::string_view bucket,
                                                     std::string_view key,
                                                     std::int64_t now_unix_ms) const {
  if (!mirror_) return refresh(bucket, key, now_unix_ms, false);
  auto entry = mirror_->get(bucket, key);
  if (!entry) return refresh(bucket, key, now_unix_ms, false);
  switch (confirm(*entry, now_unix_ms)) {
    case Confirmation::kHeld:
      return entry;
    case Confirmation::kRenewed:
      // Unless bounded, only the change mark is new, which the mirror does not keep.
      if (options_.max_staleness.count() > 0) mirror_->put(*entry);
      return entry;
    case Confirmation::kChanged:
      break;
  }
  return refresh(bucket, key, now_unix_ms, true);
}

std::optional<KnownRecord> MirroredRecordStore::load_shared(std::string_view bucket,
                                                            std::string_view key,
                                                            std::int64_t now_unix_ms) const {
  // Not knowing what the mirror holds (its entry may be why the caller is here), erase it
  // whenever the shared record is gone.
  return refresh(bucket, key, now_unix_ms, true);
}

std::optional<KnownRecord> MirroredRecordStore::replace(v1::CacheRecord& record,
                                                        const SharedRecord& current,
                                                        std::int64_t now_unix_ms) const {
  const auto mark = shared_.change_mark(record.bucket(), record.key());  // before the change
  const auto stamp = shared_.replace(record, current);
  if (!stamp) return std::nullopt;
  KnownRecord known{.record = std::make_shared<const v1::CacheRecord>(record),
                    .stamp = *stamp,
                    .checked_at_unix_ms = now_unix_ms,
                    .change_mark = mark};
  if (mirror_) mirror_->put(known);
  return known;
}

bool MirroredRecordStore::remove(std::string_view bucket, std::string_view key) const {
  // Shared first: erasing the entry before would let a concurrent load mirror the record again.
  const bool removed = shared_.remove(bucket, key);
  if (mirror_) mirror_->erase(bucket, key);
  return removed;
}

// `mirrored`: the mirror may hold an entry to erase if the shared record is gone (erasing a
// missing one would still write a tombstone, on every miss).
std::optional<KnownRecord> MirroredRecordStore::refresh(std::string_view bucket,
                                                        std::string_view key,
                                                        std::int64_t now_unix_ms,
                                                        bool mirrored) const {
  const auto mark = shared_.change_mark(bucket, key);  // before the load
  auto stamped = shared_.load_stamped(bucket, key);
  if (!stamped) {
    if (mirror_ && mirrored) mirror_->erase(bucket, key);
    return std::nullopt;
  }
  KnownRecord known{.record = std::make_shared<const v1::CacheRecord>(std::move(stamped->record)),
                    .stamp = stamped->stamp,
                    .checked_at_unix_ms = now_unix_ms,
                    .change_mark = mark};
  if (mirror_) mirror_->put(known);
  return known;
}

}  // namespace s3hc::cache
