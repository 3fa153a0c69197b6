// A proxy's local copy of the object records it has seen (DESIGN.md §3), in a RocksDB
// database in a directory of its own on local disk, so a hit needs no metadata read from the
// shared directory. Each entry is a KnownRecord: the record, the stamp of the shared file it
// came from and the wall-clock time it was last checked against the shared one; when an entry
// may be trusted is the caller's decision (mirrored_record_store.h).
//
// The mirror only caches the shared directory: deleting it loses nothing. So writes are not
// made durable, a database that cannot be opened is recreated empty, and a failed read or
// write after opening is logged and treated as a miss, never failing a request.
//
// Thread-safety: all methods may run concurrently from any thread. One process opens a
// directory at a time (RocksDB's LOCK file); each proxy needs its own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/store/known_record.h"

namespace rocksdb {
class DB;
}

namespace s3hc::cache {

class MetadataMirror {
 public:
  // Opens the mirror in `dir`, creating the directory and the database when missing. A
  // database that is corrupt or unreadable is logged, deleted and created anew. Throws
  // std::runtime_error when another process (or another MetadataMirror in this one) has
  // `dir` open, or when no database can be created there.
  static std::unique_ptr<MetadataMirror> open(const std::string& dir);

  ~MetadataMirror();
  MetadataMirror(const MetadataMirror&) = delete;
  MetadataMirror& operator=(const MetadataMirror&) = delete;

  const std::string& dir() const { return dir_; }

  // The entry of the object; nullopt when there is none, it does not parse, or it belongs to
  // another object.
  std::optional<KnownRecord> get(std::string_view bucket, std::string_view key) const;

  // Replaces the entry of the object `known.record` names (its bucket and key).
  void put(const KnownRecord& known);

  void erase(std::string_view bucket, std::string_view key);

  // The database key of an object: the bucket's length (4 bytes, little-endian), the bucket,
  // the key. Unambiguous for any bytes in either. Public for tests and tools.
  static std::string entry_key(std::string_view bucket, std::string_view key);

 private:
  MetadataMirror(std::string dir, std::unique_ptr<rocksdb::DB> db);

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace s3hc::cache
