// The cache's view of objects on the shared directory: an object's record, the bytes it
// holds (read from any overlapping range files), and new ranges filled from the origin.
//
// Writes are whole-file: a range file is complete and synced before the record names it, and
// a record is replaced atomically, so a reader sees either the old or the new state. A reader
// that finds a named range file missing or corrupt gets a miss (the caller fetches from the
// origin and refills). Two proxies committing to one object race last-writer-wins on the
// record; the lease protocol that orders them belongs to the fleet engine.
//
// Thread-safety: const methods may run concurrently; a RangeFill is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/range_file.h"
#include "cache/range_set.h"
#include "cache/record_store.h"
#include "s3/read_request.h"

namespace s3hc::cache {

// What S3 said about the object version a fill belongs to.
struct ObjectMeta {
  std::string etag;
  std::uint64_t size = 0;
  std::string last_modified;
  std::vector<std::pair<std::string, std::string>> headers;  // replayed on hits
  bool from_write = false;
};

struct ObjectStoreOptions {
  // Decoded bytes per block of a range file: the unit of partial reads. Default: 1 MiB.
  std::uint32_t block_size = 1024 * 1024;
};

// A range being written; made part of the object by ObjectStore::commit.
class RangeFill {
 public:
  void append(std::string_view bytes) { writer_.append(bytes); }
  std::uint64_t length() const { return writer_.length(); }

 private:
  friend class ObjectStore;
  RangeFill(s3::ObjectAddress object, ObjectMeta meta, std::uint64_t first, std::string file,
            std::string path, std::uint32_t block_size, bool compress, std::int64_t now_ms)
      : object_(std::move(object)),
        meta_(std::move(meta)),
        first_(first),
        file_(std::move(file)),
        now_ms_(now_ms),
        writer_(std::move(path), first, block_size, compress) {}

  s3::ObjectAddress object_;
  ObjectMeta meta_;
  std::uint64_t first_;
  std::string file_;
  std::int64_t now_ms_;
  RangeFileWriter writer_;
};

class ObjectStore {
 public:
  ObjectStore(CacheLayout layout, ObjectStoreOptions options);

  std::optional<v1::CacheRecord> lookup(const s3::ObjectAddress& object) const;

  // The bytes a record says are held.
  static RangeSet held(const v1::CacheRecord& record);

  // Bytes `wanted` of the object from the range files `record` names; nullopt when they are
  // not all held or a file is missing or corrupt.
  std::optional<std::string> read(const v1::CacheRecord& record, const s3::ByteRange& wanted) const;

  // Starts a range of the object at byte `first`. `now_ms`: wall-clock time of the fetch.
  std::unique_ptr<RangeFill> begin_fill(const s3::ObjectAddress& object, ObjectMeta meta,
                                        std::uint64_t first, bool compress,
                                        std::int64_t now_ms) const;

  // Makes a fill part of the object and returns the record written. A record of another
  // version (other ETag or size) is replaced, its ranges dropped; ranges the new one contains
  // are dropped too. Their files are deleted once the record no longer names them.
  v1::CacheRecord commit(RangeFill& fill) const;

  // Forgets the object: record and range files.
  void invalidate(const s3::ObjectAddress& object) const;

 private:
  CacheLayout layout_;
  RecordStore records_;
  ObjectStoreOptions options_;
};

}  // namespace s3hc::cache
