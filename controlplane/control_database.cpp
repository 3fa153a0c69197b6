#include "controlplane/control_database.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <stdexcept>

namespace s3hc::control {

ControlDatabase::ControlDatabase(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::DB* db = nullptr;
  const auto status = rocksdb::DB::Open(options, dir, &db);
  if (!status.ok()) {
    throw std::runtime_error("cannot open the control plane's database in " + dir + ": " +
                             status.ToString());
  }
  db_.reset(db);
}

ControlDatabase::~ControlDatabase() = default;

std::optional<std::string> ControlDatabase::get(const std::string& key) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), key, &value).ok()) return std::nullopt;
  return value;
}

void ControlDatabase::put(const std::string& key, const std::string& value, bool synced) {
  rocksdb::WriteOptions options;
  options.sync = synced;
  const auto status = db_->Put(options, key, value);
  if (!status.ok()) throw std::runtime_error("cannot write " + key + ": " + status.ToString());
}

void ControlDatabase::scan(
    std::string_view prefix, bool newest_first,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const rocksdb::Slice start(prefix.data(), prefix.size());
  // "~" sorts after every character the keys use: the last key of the prefix is before it.
  const std::string past_end = std::string(prefix) + "~";
  for (newest_first ? it->SeekForPrev(past_end) : it->Seek(start);
       it->Valid() && it->key().starts_with(start); newest_first ? it->Prev() : it->Next()) {
    if (!visit({it->key().data(), it->key().size()}, {it->value().data(), it->value().size()})) {
      return;
    }
  }
}

}  // namespace s3hc::control
