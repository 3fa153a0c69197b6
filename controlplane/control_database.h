// The control plane's RocksDB database (--data-dir): the policy history ("policy/" keys) and
// the proxy registry ("proxy/" keys) side by side, so one directory holds all it keeps.
//
// Thread-safety: every method from any thread (RocksDB's own).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rocksdb {
class DB;
}

namespace s3hc::control {

class ControlDatabase {
 public:
  // Opens (or creates) the database in `dir`; throws std::runtime_error when it cannot.
  explicit ControlDatabase(const std::string& dir);
  ~ControlDatabase();
  ControlDatabase(const ControlDatabase&) = delete;
  ControlDatabase& operator=(const ControlDatabase&) = delete;

  std::optional<std::string> get(const std::string& key) const;
  // `synced`: on disk before returning (what an operator was told is done survives a crash).
  // Throws std::runtime_error when it cannot write.
  void put(const std::string& key, const std::string& value, bool synced);

  // Every entry whose key starts with `prefix`, in key order or (newest_first) the reverse,
  // until `visit` returns false.
  void scan(std::string_view prefix, bool newest_first,
            const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace s3hc::control
