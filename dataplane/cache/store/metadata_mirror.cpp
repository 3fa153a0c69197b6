#include "cache/store/metadata_mirror.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>
#include <utility>

#include "s3hc/v1/mirror_entry.pb.h"
#include "util/little_endian.h"

namespace s3hc::cache {
namespace {

rocksdb::Options open_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // The default, spelled out because writes skip the write-ahead log (write_options): closing
  // the mirror flushes them, so a restart keeps what the proxy had seen.
  options.avoid_flush_during_shutdown = false;
  // RocksDB's own LOG file in the directory: warnings and worse, and few old ones kept.
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  return options;
}

// No write-ahead log: a write lives in RocksDB's memtable until it is flushed (at the latest
// when the mirror is closed), so a put costs no file append and no fsync. A crash loses the
// recent writes, which costs only reads of the shared directory: an older version of an entry
// left behind carries its older check time, so it is re-checked like any other stale entry.
const rocksdb::WriteOptions& write_options() {
  static const rocksdb::WriteOptions options = [] {
    rocksdb::WriteOptions o;
    o.disableWAL = true;
    return o;
  }();
  return options;
}

// RocksDB's two ways of saying the LOCK file is held: by another process (its fcntl lock
// failed), or by this process (fcntl cannot see those, so RocksDB keeps a list).
bool held_by_another(const rocksdb::Status& status) {
  if (!status.IsIOError()) return false;
  const auto text = status.ToString();
  return text.find("While lock file") != std::string::npos ||
         text.find("lock hold by current process") != std::string::npos;
}

[[noreturn]] void throw_in_use(const std::string& dir, const rocksdb::Status& status) {
  throw std::runtime_error("mirror directory " + dir +
                           " is in use by another s3hc-proxy; give each proxy its own (" +
                           status.ToString() + ")");
}

}  // namespace

std::unique_ptr<MetadataMirror> MetadataMirror::open(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto options = open_options();
  rocksdb::DB* db = nullptr;
  auto status = rocksdb::DB::Open(options, dir, &db);
  if (!status.ok()) {
    if (held_by_another(status)) throw_in_use(dir, status);
    spdlog::warn("metadata mirror {} cannot be opened ({}); starting it empty", dir,
                 status.ToString());
    // DestroyDB takes the LOCK first, so it never deletes a database another process has open,
    // and deletes only files with RocksDB's names, so a mirror pointed at the wrong directory
    // deletes no one else's files.
    status = rocksdb::DestroyDB(dir, options);
    if (!status.ok()) {
      if (held_by_another(status)) throw_in_use(dir, status);
      throw std::runtime_error("cannot delete the unreadable metadata mirror " + dir + ": " +
                               status.ToString());
    }
    std::filesystem::create_directories(dir);  // DestroyDB removes it when it ends up empty
    status = rocksdb::DB::Open(options, dir, &db);
    if (!status.ok()) {
      if (held_by_another(status)) throw_in_use(dir, status);
      throw std::runtime_error("cannot create the metadata mirror " + dir + ": " +
                               status.ToString());
    }
  }
  return std::unique_ptr<MetadataMirror>(new MetadataMirror(dir, std::unique_ptr<rocksdb::DB>(db)));
}

MetadataMirror::MetadataMirror(std::string dir, std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

MetadataMirror::~MetadataMirror() {
  // Close flushes the writes the missing write-ahead log did not keep.
  const auto status = db_->Close();
  if (!status.ok()) spdlog::warn("metadata mirror {}: close failed ({})", dir_, status.ToString());
}

std::optional<KnownRecord> MetadataMirror::get(std::string_view bucket,
                                               std::string_view key) const {
  std::string value;
  const auto status = db_->Get(rocksdb::ReadOptions(), entry_key(bucket, key), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) {
    spdlog::warn("metadata mirror {}: read failed ({}); treated as a miss", dir_,
                 status.ToString());
    return std::nullopt;
  }
  v1::MirrorEntry entry;
  if (!entry.ParseFromString(value) || !entry.has_record() || entry.record().bucket() != bucket ||
      entry.record().key() != key) {
    return std::nullopt;
  }
  const auto& stamp = entry.stamp();
  return KnownRecord{
      .record = std::make_shared<const v1::CacheRecord>(std::move(*entry.mutable_record())),
      .stamp = {.inode = stamp.inode(), .size = stamp.size(), .mtime_ns = stamp.mtime_ns()},
      .checked_at_unix_ms = entry.checked_at_unix_ms(),
      .change_mark = {}};  // (not kept: known_record.h)
}

void MetadataMirror::put(const KnownRecord& known) {
  v1::MirrorEntry entry;
  *entry.mutable_record() = *known.record;
  entry.set_checked_at_unix_ms(known.checked_at_unix_ms);
  auto& stamp = *entry.mutable_stamp();
  stamp.set_inode(known.stamp.inode);
  stamp.set_size(known.stamp.size);
  stamp.set_mtime_ns(known.stamp.mtime_ns);
  const auto db_key = entry_key(known.record->bucket(), known.record->key());
  const auto status = db_->Put(write_options(), db_key, entry.SerializeAsString());
  if (!status.ok()) {
    spdlog::warn("metadata mirror {}: write failed ({})", dir_, status.ToString());
    // The entry this one should have replaced would be trusted until its check time runs out;
    // without it the next read goes to the shared record.
    db_->Delete(write_options(), db_key).PermitUncheckedError();
  }
}

void MetadataMirror::erase(std::string_view bucket, std::string_view key) {
  const auto status = db_->Delete(write_options(), entry_key(bucket, key));
  if (!status.ok()) spdlog::warn("metadata mirror {}: delete failed ({})", dir_, status.ToString());
}

std::string MetadataMirror::entry_key(std::string_view bucket, std::string_view key) {
  std::string out;
  out.reserve(4 + bucket.size() + key.size());
  util::append_le(out, bucket.size(), 4);
  out.append(bucket).append(key);
  return out;
}

}  // namespace s3hc::cache
