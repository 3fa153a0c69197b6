#include "cache/store/object_store.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "cache/capacity.h"
#include "util/errno_error.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

v1::CacheRecord record_for(const s3::ObjectAddress& object, const ObjectMeta& meta) {
  v1::CacheRecord record;
  record.set_format_version(kRecordFormatVersion);
  record.set_bucket(object.bucket);
  record.set_key(object.key);
  record.set_etag(meta.etag);
  record.set_size(meta.size);
  return record;
}

}  // namespace

ObjectStore::ObjectStore(CacheLayout layout, ObjectStoreOptions options,
                         std::unique_ptr<MetadataMirror> mirror, StoreObserver* observer,
                         std::shared_ptr<RecordChanges> changes)
    : layout_(layout),
      forgotten_(layout),
      records_(RecordStore(std::move(layout), std::move(changes)), std::move(mirror),
               {.max_staleness = options.max_staleness}),
      options_(options),
      observer_(observer),
      ram_(options.ram_bytes == 0
               ? nullptr
               : std::make_unique<RamTier>(RamTierOptions{
                     .capacity_bytes = options.ram_bytes,
                     .max_entry_bytes = options.ram_max_entry_bytes,
                     .shards = 16})) {}

std::optional<v1::CacheRecord> ObjectStore::update_record(const s3::ObjectAddress& object,
                                                         const RecordChange& change) const {
  // A claim left by a dead process is stepped over after 5 s (record_store.cpp): wait longer.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    const auto current = records_.shared().load_current(object.bucket, object.key);
    auto next = change(current.record);
    if (!next) return std::nullopt;
    if (!current.record && older_than_forgotten(object, *next)) return std::nullopt;
    if (const auto known = records_.replace(*next, current, util::unix_now_ms())) {
      if (ram_) ram_->put_record(RamTier::identity(object.bucket, object.key), *known);
      return next;
    }
    // Another proxy replaced the record (or is replacing it): decide again on the new one.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < give_up);
  throw std::system_error(EBUSY, std::generic_category(),
                          "record of " + object.bucket + "/" + object.key + " stays contended");
}

bool ObjectStore::older_than_forgotten(const s3::ObjectAddress& object,
                                       const v1::CacheRecord& next) const {
  const auto forgotten = forgotten_.newest(CacheLayout::object_hash(object.bucket, object.key));
  const auto news_ms = next.fetched_at_unix_ms();
  // Whether the record removed was a write's is not kept: a write's news wins the tie (as in
  // updated_record()), anything else loses it.
  return forgotten > news_ms || (forgotten == news_ms && !next.from_write());
}

namespace {

// An invalidated object's record: no version, only the time it was dropped.
std::optional<v1::CacheRecord> unless_tombstone(const std::optional<KnownRecord>& known) {
  if (!known || known->record->etag().empty()) return std::nullopt;
  return *known->record;
}

}  // namespace

std::optional<KnownRecord> ObjectStore::confirmed_in_ram(const s3::ObjectAddress& object,
                                                         std::int64_t now_ms,
                                                         bool may_stat) const {
  if (!ram_) return std::nullopt;
  const auto identity = RamTier::identity(object.bucket, object.key);
  auto known = ram_->record(identity);
  if (!known || (!may_stat && !records_.within_bound(*known, now_ms))) return std::nullopt;
  switch (records_.confirm(*known, now_ms)) {
    case MirroredRecordStore::Confirmation::kHeld:
      return known;
    case MirroredRecordStore::Confirmation::kRenewed:
      ram_->put_record(identity, *known);
      return known;
    case MirroredRecordStore::Confirmation::kChanged:
      break;
  }
  return std::nullopt;
}

std::optional<KnownRecord> ObjectStore::confirmed_record(const s3::ObjectAddress& object) const {
  // (Mirror entries are timed with the real clock, whatever times the callers' news carry.)
  const auto now_ms = util::unix_now_ms();
  if (auto known = confirmed_in_ram(object, now_ms, true)) return known;
  auto known = records_.load(object.bucket, object.key, now_ms);
  if (known && ram_) ram_->put_record(RamTier::identity(object.bucket, object.key), *known);
  return known;
}

std::optional<v1::CacheRecord> ObjectStore::lookup(const s3::ObjectAddress& object) const {
  if (observer_) observer_->accessed(CacheLayout::object_id(object.bucket, object.key));
  return unless_tombstone(confirmed_record(object));
}

std::int64_t ObjectStore::news_time(const s3::ObjectAddress& object) const {
  const auto known = confirmed_record(object);
  return known ? known->record->fetched_at_unix_ms() : 0;
}

std::shared_ptr<const v1::CacheRecord> ObjectStore::lookup_in_ram(
    const s3::ObjectAddress& object) const {
  // Strict mode without cheap stats can never confirm a record here: not even an access.
  if (!options_.cheap_stats && options_.max_staleness.count() == 0) return nullptr;
  auto known = confirmed_in_ram(object, util::unix_now_ms(), options_.cheap_stats);
  if (!known || known->record->etag().empty()) return nullptr;  // (a tombstone: lookup())
  if (observer_) observer_->accessed(CacheLayout::object_id(object.bucket, object.key));
  return std::move(known->record);
}

std::optional<v1::CacheRecord> ObjectStore::lookup_absence(const s3::ObjectAddress& object) const {
  const auto known = confirmed_record(object);
  if (!known || !known->record->absent()) return std::nullopt;
  return *known->record;
}

std::optional<v1::CacheRecord> ObjectStore::lookup_shared(const s3::ObjectAddress& object) const {
  auto known = records_.load_shared(object.bucket, object.key, util::unix_now_ms());
  if (ram_) {
    const auto identity = RamTier::identity(object.bucket, object.key);
    if (known) {
      ram_->put_record(identity, *known);
    } else {
      ram_->invalidate(identity);
    }
  }
  return unless_tombstone(known);
}

std::optional<RamBytes> ObjectStore::ram_bytes(const v1::CacheRecord& record,
                                               const s3::ByteRange& wanted) const {
  if (!ram_) return std::nullopt;
  return ram_->bytes(RamTier::identity(record.bucket(), record.key()), record, wanted.first,
                     wanted.last);
}

std::optional<RamBytes> ObjectStore::read_into_ram(const v1::CacheRecord& record,
                                                   const s3::ByteRange& wanted) const {
  if (!keeps_in_ram(wanted.length())) return std::nullopt;
  auto bytes = read(record, wanted);
  if (!bytes) return std::nullopt;
  auto shared = std::make_shared<const std::string>(std::move(*bytes));
  ram_->put_bytes(RamTier::identity(record.bucket(), record.key()), record, wanted.first, shared);
  return RamBytes{.data = shared, .offset = 0, .length = shared->size()};
}

RangeSet ObjectStore::held(const v1::CacheRecord& record) {
  RangeSet set;
  for (const auto& range : record.ranges()) set.add({range.first(), range.last()});
  return set;
}

std::optional<std::string> ObjectStore::read(const v1::CacheRecord& record,
                                             const s3::ByteRange& wanted) const {
  const auto files = open_range(record, wanted);
  std::string out(wanted.length(), '\0');
  if (!files || !read_into(*files, wanted, out.data())) return std::nullopt;
  return out;
}

bool ObjectStore::visit_files(const v1::CacheRecord& record, const s3::ByteRange& wanted,
                              const FileVisitor& visit) const {
  const auto dir = layout_.object_dir(record.bucket(), record.key());
  std::uint64_t next = wanted.first;
  while (next <= wanted.last) {
    const v1::CachedRange* best = nullptr;
    for (const auto& range : record.ranges()) {
      if (range.first() <= next && next <= range.last() &&
          (!best || range.last() > best->last())) {
        best = &range;
      }
    }
    if (!best) return false;
    auto reader = RangeFileReader::open(dir + "/" + best->file());
    // A file may hold its bytes at other offsets than the object's (an uploaded part starts
    // at 0): only its length must match.
    if (!reader || reader->range().length() != best->last() - best->first() + 1) return false;
    const auto file_first = reader->range().first;
    const s3::ByteRange part{next, std::min(best->last(), wanted.last)};
    if (!visit(*reader, part,
               {part.first - best->first() + file_first, part.last - best->first() + file_first})) {
      return false;
    }
    next = part.last + 1;
  }
  return true;
}

std::optional<ObjectStore::OpenRange> ObjectStore::open_range(const v1::CacheRecord& record,
                                                              const s3::ByteRange& wanted) const {
  OpenRange range{.wanted = wanted, .files = {}};
  const bool held = visit_files(
      record, wanted,
      [&](RangeFileReader& file, const s3::ByteRange& part, const s3::ByteRange& in_file) {
        range.files.push_back({std::move(file), part, in_file});
        return true;
      });
  if (!held) return std::nullopt;
  return range;
}

bool ObjectStore::read_into(const OpenRange& range, const s3::ByteRange& piece,
                            char* out) const {
  for (const auto& file : range.files) {
    const auto first = std::max(piece.first, file.part.first);
    const auto last = std::min(piece.last, file.part.last);
    if (first > last) continue;
    const auto shift = file.in_file.first - file.part.first;  // (wraps; sums stay right)
    if (!file.reader.read_into({first + shift, last + shift}, out + (first - piece.first),
                               &verified_)) {
      return false;
    }
  }
  return true;
}

std::optional<std::vector<ObjectStore::FilePiece>> ObjectStore::file_pieces(
    const OpenRange& range) const {
  std::vector<FilePiece> pieces;
  for (const auto& file : range.files) {
    const auto spans = file.reader.raw_spans(file.in_file, verified_);
    if (!spans) return std::nullopt;
    for (const auto& span : *spans) pieces.push_back({file.reader.fd(), span.offset, span.length});
  }
  return pieces;
}

std::unique_ptr<RangeFill> ObjectStore::begin_fill(const s3::ObjectAddress& object,
                                                   ObjectMeta meta, std::uint64_t first,
                                                   bool compress, std::int64_t now_ms) {
  const auto dir = layout_.object_dir(object.bucket, object.key);
  std::filesystem::create_directories(dir);
  auto file = new_range_file_name(first);
  auto path = dir + "/" + file;
  return std::unique_ptr<RangeFill>(new RangeFill(object, std::move(meta), first, std::move(file),
                                                  std::move(path), options_.block_size, compress,
                                                  now_ms));
}

std::optional<v1::CacheRecord> ObjectStore::updated_record(
    const std::optional<v1::CacheRecord>& current, const s3::ObjectAddress& object,
    const ObjectMeta& meta, std::int64_t now_ms, std::vector<std::string>& dropped) {
  dropped.clear();
  const bool same_version = current && current->etag() == meta.etag && current->size() == meta.size;
  if (current && !same_version) {
    // A write's news (its object, or the tombstone of a delete or overwrite) wins a tie with
    // a fill: a read sent in the millisecond the write was answered in may have been given
    // the version the write replaced. (What a read dropped does not: its refill, sent in the
    // same millisecond, must commit.)
    const bool tie_lost =
        current->fetched_at_unix_ms() == now_ms && current->from_write() && !meta.from_write;
    if (current->fetched_at_unix_ms() > now_ms || tie_lost) return std::nullopt;
    for (const auto& range : current->ranges()) dropped.push_back(range.file());
  }
  v1::CacheRecord record = same_version ? *current : record_for(object, meta);
  // Information of the same version may arrive out of order: times only move forward.
  record.set_fetched_at_unix_ms(std::max(record.fetched_at_unix_ms(), now_ms));
  record.set_validated_at_unix_ms(std::max(record.validated_at_unix_ms(), now_ms));

  record.set_last_modified(meta.last_modified);
  record.clear_headers();
  for (const auto& [name, value] : meta.headers) {
    auto* header = record.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  if (!meta.whole_object_headers.empty()) {
    record.clear_whole_object_headers();
    for (const auto& [name, value] : meta.whole_object_headers) {
      auto* header = record.add_whole_object_headers();
      header->set_name(name);
      header->set_value(value);
    }
  }
  if (meta.parts_count) record.set_parts_count(meta.parts_count);
  for (const auto& part : meta.parts) {
    auto* parts = record.mutable_parts();
    const auto known = std::find_if(parts->begin(), parts->end(), [&](const v1::PartBoundary& p) {
      return p.number() == part.number;
    });
    auto* boundary = known != parts->end() ? &*known : record.add_parts();
    boundary->set_number(part.number);
    boundary->set_first(part.bytes.first);
    boundary->set_last(part.bytes.last);
  }
  record.set_from_write(meta.from_write);
  return record;
}

void ObjectStore::delete_files(const s3::ObjectAddress& object,
                               const std::vector<std::string>& files) const {
  const auto dir = layout_.object_dir(object.bucket, object.key);
  for (const auto& file : files) ::unlink((dir + "/" + file).c_str());
}

void ObjectStore::report_object(const s3::ObjectAddress& object,
                                const v1::CacheRecord* record) const {
  if (observer_) report_dir(*observer_, layout_, layout_.object_dir(object.bucket, object.key), record);
}

std::mutex& ObjectStore::record_lock(const s3::ObjectAddress& object) const {
  const auto hash =
      std::hash<std::string>{}(object.bucket) * 31 + std::hash<std::string>{}(object.key);
  return record_locks_[hash % kRecordLockStripes];
}

std::optional<v1::CacheRecord> ObjectStore::commit(RangeFill& fill) {
  // The file is made whole (fsync, rename) before the record is looked at: the slow part
  // stays outside the record's critical section.
  fill.writer_.commit();
  const s3::ByteRange added{fill.first_, fill.first_ + fill.writer_.length() - 1};
  const auto drop_fill = [&] { ::unlink(fill.path().c_str()); };
  if (util::unix_now_ms() - fill.now_ms_ > options_.max_fill_age.count()) {
    drop_fill();
    return std::nullopt;
  }
  std::vector<std::string> dropped;
  bool already_held = false;
  std::optional<v1::CacheRecord> updated;
  {
    std::lock_guard lock(record_lock(fill.object_));
    updated = update_record(fill.object_, [&](const std::optional<v1::CacheRecord>& current) {
      auto record = updated_record(current, fill.object_, fill.meta_, fill.now_ms_, dropped);
      if (!record) return record;
      auto* ranges = record->mutable_ranges();
      // Bytes already held in one file (a concurrent miss of the same range): the existing
      // file stays, so readers streaming from it are not cut off.
      already_held = std::any_of(ranges->begin(), ranges->end(), [&](const auto& range) {
        return range.first() <= added.first && added.last <= range.last();
      });
      if (already_held) return record;
      for (int i = ranges->size() - 1; i >= 0; --i) {
        const auto& range = ranges->Get(i);
        if (added.first <= range.first() && range.last() <= added.last) {
          dropped.push_back(range.file());
          ranges->DeleteSubrange(i, 1);
        }
      }
      auto* entry = record->add_ranges();
      entry->set_first(added.first);
      entry->set_last(added.last);
      entry->set_file(fill.file_);
      std::sort(ranges->begin(), ranges->end(),
                [](const v1::CachedRange& a, const v1::CachedRange& b) {
                  return a.first() < b.first();
                });
      return record;
    });
  }
  if (!updated || already_held) drop_fill();
  if (!updated) return std::nullopt;
  delete_files(fill.object_, dropped);
  report_object(fill.object_, &*updated);
  return updated;
}

std::optional<v1::CacheRecord> ObjectStore::remember(const s3::ObjectAddress& object,
                                                     const ObjectMeta& meta,
                                                     std::int64_t now_ms) {
  std::vector<std::string> dropped;
  std::optional<v1::CacheRecord> record;
  {
    std::lock_guard lock(record_lock(object));
    record = update_record(object, [&](const std::optional<v1::CacheRecord>& current) {
      return updated_record(current, object, meta, now_ms, dropped);
    });
    if (!record) return std::nullopt;
  }
  delete_files(object, dropped);
  report_object(object, &*record);
  return record;
}

std::optional<v1::CacheRecord> ObjectStore::confirm(const s3::ObjectAddress& object,
                                                    std::string_view etag,
                                                    std::int64_t now_ms) {
  std::lock_guard lock(record_lock(object));
  auto record = update_record(object, [&](const std::optional<v1::CacheRecord>& current) {
    auto record = current;
    if (!record || record->etag().empty() || record->etag() != etag) return decltype(record)();
    record->set_validated_at_unix_ms(std::max(record->validated_at_unix_ms(), now_ms));
    return record;
  });
  if (record) report_object(object, &*record);
  return record;
}

std::optional<v1::CacheRecord> ObjectStore::adopt(const s3::ObjectAddress& object,
                                                  const std::vector<AdoptedFile>& files,
                                                  const ObjectMeta& meta,
                                                  std::int64_t now_ms) {
  // The files become the object's range files first (unnamed until the record names them;
  // removed again if the record is not replaced).
  const auto object_dir = layout_.object_dir(object.bucket, object.key);
  std::filesystem::create_directories(object_dir);
  std::vector<v1::CachedRange> adopted;
  for (const auto& file : files) {
    auto name = new_range_file_name(file.bytes.first);
    if (::rename(file.path.c_str(), (object_dir + "/" + name).c_str()) != 0) {
      util::throw_errno("rename " + file.path);
    }
    auto& range = adopted.emplace_back();
    range.set_first(file.bytes.first);
    range.set_last(file.bytes.last);
    range.set_file(std::move(name));
  }
  std::vector<std::string> dropped;
  std::optional<v1::CacheRecord> record;
  {
    std::lock_guard lock(record_lock(object));
    record = update_record(object, [&](const std::optional<v1::CacheRecord>& current) {
      auto record = updated_record(current, object, meta, now_ms, dropped);
      if (!record) return record;
      for (const auto& range : record->ranges()) dropped.push_back(range.file());
      record->clear_ranges();
      for (const auto& range : adopted) *record->add_ranges() = range;
      return record;
    });
  }
  if (!record) {
    for (const auto& range : adopted) dropped.push_back(range.file());
  }
  delete_files(object, dropped);
  if (record) report_object(object, &*record);
  return record;
}

namespace {

v1::CacheRecord tombstone_of(const s3::ObjectAddress& object, std::int64_t news_ms,
                             bool from_write) {
  v1::CacheRecord tombstone;
  tombstone.set_format_version(kRecordFormatVersion);
  tombstone.set_bucket(object.bucket);
  tombstone.set_key(object.key);
  tombstone.set_fetched_at_unix_ms(news_ms);
  tombstone.set_validated_at_unix_ms(news_ms);
  tombstone.set_from_write(from_write);
  return tombstone;
}

}  // namespace

void ObjectStore::invalidate(const s3::ObjectAddress& object, std::int64_t news_ms) {
  store_tombstone(object, tombstone_of(object, news_ms, true));
}

void ObjectStore::drop(const s3::ObjectAddress& object, std::int64_t now_ms) {
  store_tombstone(object, tombstone_of(object, now_ms, false));
}

void ObjectStore::record_absence(const s3::ObjectAddress& object, std::string_view code,
                                 std::int64_t news_ms) {
  auto tombstone = tombstone_of(object, news_ms, false);
  tombstone.set_absent(true);
  tombstone.set_absent_code(std::string(code));
  store_tombstone(object, tombstone);
}

void ObjectStore::store_tombstone(const s3::ObjectAddress& object,
                                  const v1::CacheRecord& tombstone) {
  std::lock_guard lock(record_lock(object));
  // The tombstone goes first, so no reader is sent to a range file that is about to vanish.
  const auto news_ms = tombstone.fetched_at_unix_ms();
  std::optional<v1::CacheRecord> stored;
  try {
    stored = update_record(object, [&](const std::optional<v1::CacheRecord>& current) {
      if (current && current->fetched_at_unix_ms() > news_ms) {
        return std::optional<v1::CacheRecord>();  // newer than this news
      }
      return std::optional<v1::CacheRecord>(tombstone);
    });
  } catch (const std::system_error& error) {
    if (!is_no_space(error.code())) throw;
    // No room for a tombstone: the record goes instead (unlinking needs none), so no proxy
    // serves what the news replaced; its stat of the record finds it gone. Its time is kept
    // in the table of evicted news (made beforehand: raising needs no room), so that a fill of
    // the replaced version that began before this news cannot commit once room is made.
    try {
      forgotten_.raise(CacheLayout::object_hash(object.bucket, object.key), news_ms);
    } catch (const std::system_error& table_error) {
      spdlog::warn("cache: {}: a fill older than the news of {}/{} may commit", table_error.what(),
                   object.bucket, object.key);
    }
    records_.remove(object.bucket, object.key);
    if (ram_) ram_->invalidate(RamTier::identity(object.bucket, object.key));
    remove_range_files(object);
    report_object(object, nullptr);
    throw;
  }
  if (!stored) return;
  remove_range_files(object);
  report_object(object, &*stored);
}

void ObjectStore::remove_range_files(const s3::ObjectAddress& object) const {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(
           layout_.object_dir(object.bucket, object.key), ignored)) {
    const auto name = entry.path().filename().string();
    // Temp files belong to writers still at work: their commit is refused (older than this
    // news) and removes them; a dead writer's are the sweeper's.
    if (name != kRecordFileName && name.find(kTempFileMarker) == std::string::npos) {
      std::filesystem::remove(entry.path(), ignored);
    }
  }
}

}  // namespace s3hc::cache
