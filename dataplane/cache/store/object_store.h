// The cache's view of objects on the shared directory: an object's record, the bytes it
// holds (read from any overlapping range files), and new ranges filled from the origin.
//
// Writes are whole-file: a range file is complete and synced before the record names it, and
// a record is replaced atomically, so a reader sees either the old or the new state. A reader
// that finds a named range file missing or corrupt gets a miss (the caller fetches from the
// origin and refills).
//
// Ordering: every change carries the wall-clock time its information was true at (a fill: when
// its origin request was sent; a write or invalidation: when the origin answered it). A fill of
// another version than the record's is refused when the record's information is newer (or as
// new, when it is a write's: times are milliseconds, and the write wins the tie), and
// invalidation leaves a tombstone with its time, so a slow fill of the old bytes that started
// before a write or a delete can never resurrect them. Every record change is a
// compare-and-swap (RecordStore::replace): a change decided on a record that another proxy
// replaced meanwhile is decided again on the new one.
//
// Thread-safety: every method may run concurrently (const ones only read the cache, the
// others change it); a RangeFill is used by one thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/evicted_news.h"
#include "cache/store/metadata_mirror.h"
#include "cache/store/mirrored_record_store.h"
#include "cache/store/ram_tier.h"
#include "cache/store/range_file.h"
#include "cache/store/range_set.h"
#include "cache/store_observer.h"
#include "s3/byte_range.h"
#include "s3/object_address.h"

namespace s3hc::cache {

// The format_version of the records this code writes.
inline constexpr std::uint32_t kRecordFormatVersion = 1;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One part of a multipart object, as a ?partNumber=N response or an upload revealed it.
struct PartSpan {
  std::uint32_t number;
  s3::ByteRange bytes;
};

// What S3 said about the object version a fill belongs to.
struct ObjectMeta {
  std::string etag;
  std::uint64_t size = 0;
  std::string last_modified;
  HeaderList headers;               // replayed on hits
  HeaderList whole_object_headers;  // replayed only on whole-object hits; kept when empty
  bool from_write = false;
  std::uint32_t parts_count = 0;    // 0 = unknown (kept)
  std::vector<PartSpan> parts;      // added to those known
};

struct ObjectStoreOptions {
  // Decoded bytes per block of a range file: the unit of partial reads. Default: 1 MiB.
  std::uint32_t block_size = 1024 * 1024;
  // How long a record held by this proxy (local mirror, RAM tier) is served without
  // confirming that the shared record is still the same (mirrored_record_store.h); 0 (strict
  // read-after-write across proxies) confirms on every lookup with one stat. Default: 0.
  std::chrono::milliseconds max_staleness{0};
  // Whether that stat is cheap enough for lookup_in_ram (an event loop's call): true for a
  // local file system, false for a network one (a round trip to its server). Default: false.
  bool cheap_stats = false;
  // A fill whose origin request is older than this when it commits is dropped: the sweeper
  // may have taken its files for a dead writer's, and tombstones are kept only that long.
  // Default: 1 h.
  std::chrono::milliseconds max_fill_age{3600 * 1000};
  // The RAM tier (ram_tier.h): bytes of memory for hot records and small ranges; 0 = none.
  // Default: 64 MiB.
  std::size_t ram_bytes = 64 * 1024 * 1024;
  // Longest range kept in the RAM tier. Default: 1 MiB.
  std::size_t ram_max_entry_bytes = 1024 * 1024;
};

// A range being written; made part of the object by ObjectStore::commit.
class RangeFill {
 public:
  void append(std::string_view bytes) { writer_.append(bytes); }
  std::uint64_t length() const { return writer_.length(); }
  const std::string& path() const { return writer_.final_path(); }
  // What readers may read of the file already (see UnfinishedRangeFile).
  void describe_written(UnfinishedRangeFile& file) const { writer_.describe_written(file); }
  // What the origin said, when it is only known after the bytes (a write's answer).
  void set_meta(ObjectMeta meta, std::int64_t now_ms) {
    meta_ = std::move(meta);
    now_ms_ = now_ms;
  }

 private:
  friend class ObjectStore;
  friend class UploadStore;
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
  // `mirror`: this proxy's local mirror of the records (may be null: every lookup then reads
  // the shared directory). `observer` (may be null) hears of every change of a directory's
  // size and of every lookup; it must outlive the store. `changes`: the directory's table of
  // record changes (record_changes.h; null: none, every strict check stats).
  ObjectStore(CacheLayout layout, ObjectStoreOptions options,
              std::unique_ptr<MetadataMirror> mirror = nullptr,
              StoreObserver* observer = nullptr,
              std::shared_ptr<RecordChanges> changes = nullptr);

  const CacheLayout& layout() const { return layout_; }
  // Decoded bytes per block of the range files it writes.
  std::uint32_t block_size() const { return options_.block_size; }

  // The object's record, from the RAM tier or the local mirror when confirmed to be still the
  // shared one (see max_staleness), else read from the shared directory (and then kept in
  // both); nullopt when there is none or it was invalidated. Counts as an access of the
  // object. Callers try lookup_in_ram() first.
  std::optional<v1::CacheRecord> lookup(const s3::ObjectAddress& object) const;
  // lookup() answered from the RAM tier, with no I/O but the stat that confirms it when
  // cheap_stats (so an event loop may call it), and no copy: the record as the tier holds it.
  // Null when the RAM tier holds no record of the object that could be confirmed that way
  // (then call lookup()).
  std::shared_ptr<const v1::CacheRecord> lookup_in_ram(const s3::ObjectAddress& object) const;
  // When the newest information the shared directory holds of the object was true (Unix ms:
  // its record's or tombstone's fetch or news time; 0 when it holds none), confirmed as
  // lookup() confirms a record. A fill asked of the origin before then is outdated.
  std::int64_t news_time(const s3::ObjectAddress& object) const;
  // The tombstone recording that S3 said the object did not exist (record_absence), confirmed
  // as lookup() confirms a record; nullopt when the object's record is anything else.
  std::optional<v1::CacheRecord> lookup_absence(const s3::ObjectAddress& object) const;
  // The object's record as the shared directory has it now (after an inconsistency, such as a
  // range file the mirrored record names being gone).
  std::optional<v1::CacheRecord> lookup_shared(const s3::ObjectAddress& object) const;

  // The bytes a record says are held.
  static RangeSet held(const v1::CacheRecord& record);

  // Small answers through the RAM tier. Whether `length` bytes are kept there:
  bool keeps_in_ram(std::uint64_t length) const {
    return ram_ && length <= options_.ram_max_entry_bytes;
  }
  // `wanted` of the record's version from memory (no I/O); nullopt when not held there.
  std::optional<RamBytes> ram_bytes(const v1::CacheRecord& record,
                                    const s3::ByteRange& wanted) const;
  // `wanted` read from the range files and kept in memory (the RAM tier admitting); nullopt
  // when not all held or a file is missing or corrupt.
  std::optional<RamBytes> read_into_ram(const v1::CacheRecord& record,
                                        const s3::ByteRange& wanted) const;

  // Bytes `wanted` of the object from the range files `record` names; nullopt when they are
  // not all held or a file is missing or corrupt.
  std::optional<std::string> read(const v1::CacheRecord& record, const s3::ByteRange& wanted) const;

  // The range files holding some bytes of an object, opened once for a whole answer: a file
  // that a later fill replaces (and deletes) stays readable until the answer is done.
  struct OpenRange {
    s3::ByteRange wanted;
    struct File {
      RangeFileReader reader;
      s3::ByteRange part;  // of the object, within `wanted`
      s3::ByteRange in_file;
    };
    std::vector<File> files;
  };
  // nullopt when a byte is not held or a file is missing or invalid.
  std::optional<OpenRange> open_range(const v1::CacheRecord& record,
                                      const s3::ByteRange& wanted) const;
  // Bytes `piece` (within range.wanted) into `out`; false when a block is corrupt.
  bool read_into(const OpenRange& range, const s3::ByteRange& piece, char* out) const;

  // Where, in order, the bytes of an open range lie in its files, to send them straight from
  // there (sendfile); the descriptors stay open as long as `range`.
  struct FilePiece {
    int file;
    std::uint64_t offset;
    std::uint64_t length;
  };
  // nullopt when any of range.wanted is not held in raw blocks that an earlier read verified,
  // in files large enough to be kept open (see RangeFileReader::raw_spans): read those bytes
  // instead (which verifies them for next time).
  std::optional<std::vector<FilePiece>> file_pieces(const OpenRange& range) const;

  // Starts a range of the object at byte `first`. `now_ms`: wall-clock time of the fetch.
  std::unique_ptr<RangeFill> begin_fill(const s3::ObjectAddress& object, ObjectMeta meta,
                                        std::uint64_t first, bool compress,
                                        std::int64_t now_ms);

  // Makes a fill part of the object and returns the record written. A record of another
  // version (other ETag or size) is replaced, its ranges dropped; ranges the new one contains
  // are dropped too. Their files are deleted once the record no longer names them. nullopt
  // (and nothing kept) when the record holds newer information (see Ordering above) or the
  // fill is older than max_fill_age.
  std::optional<v1::CacheRecord> commit(RangeFill& fill);

  // Records what S3 said about the object without bytes (a HEAD, an empty object): the same
  // version is refreshed, another replaces the record and drops its ranges. nullopt when the
  // record holds newer information.
  std::optional<v1::CacheRecord> remember(const s3::ObjectAddress& object, const ObjectMeta& meta,
                                          std::int64_t now_ms);

  // The origin confirmed the cached version (a 304 to If-None-Match: etag) at `now_ms`.
  // Returns the refreshed record; nullopt when the record is gone or holds another version.
  std::optional<v1::CacheRecord> confirm(const s3::ObjectAddress& object, std::string_view etag,
                                         std::int64_t now_ms);

  // Bytes of the object written to a file elsewhere (an upload's part, upload_store.h).
  struct AdoptedFile {
    std::string path;
    s3::ByteRange bytes;  // of the object
  };
  // Makes `files` the object's bytes, renamed into its directory (they must be on the same
  // file system), and `meta` its version, as commit() does for a fill: every range the record
  // held is dropped. nullopt, with the files removed and the object left as it was, when the
  // record holds newer information.
  std::optional<v1::CacheRecord> adopt(const s3::ObjectAddress& object,
                                       const std::vector<AdoptedFile>& files,
                                       const ObjectMeta& meta, std::int64_t now_ms);

  // Forgets the object's bytes and metadata as of `news_ms`, when the origin answered the
  // write or delete that made them outdated: the record becomes a tombstone
  // and the range files are deleted. On a full file system (no room for the tombstone) the
  // record is deleted instead, and the error thrown on.
  void invalidate(const s3::ObjectAddress& object, std::int64_t news_ms);
  // invalidate(), for bytes a read found outdated or damaged at `now_ms`: the tombstone is no
  // write's news, so a refill sent in the same millisecond is not refused (updated_record()).
  void drop(const s3::ObjectAddress& object, std::int64_t now_ms);
  // drop(), with the tombstone also recording that S3 answered a read sent at `news_ms`
  // with 404 (`code`: the error's <Code>, empty when unknown): what negative caching answers
  // from. Any later change of the object replaces it.
  void record_absence(const s3::ObjectAddress& object, std::string_view code,
                      std::int64_t news_ms);

 private:
  // Replaces the object's record by `tombstone` (invalidate, drop, record_absence).
  void store_tombstone(const s3::ObjectAddress& object, const v1::CacheRecord& tombstone);
  // Deletes the object's range files (not its record, nor writers' temp files).
  void remove_range_files(const s3::ObjectAddress& object) const;
  // The record `meta` makes of `current`: `current` when it holds the same version, else a
  // new one, with the files of every range it no longer names in `dropped` (cleared first).
  // nullopt when the current record is of another version and newer than `now_ms`.
  static std::optional<v1::CacheRecord> updated_record(
      const std::optional<v1::CacheRecord>& current, const s3::ObjectAddress& object,
      const ObjectMeta& meta, std::int64_t now_ms, std::vector<std::string>& dropped);
  // Whether `next`, a change of an object that has no record now, is older than what the
  // fleet forgot by removing one (evicted_news.h).
  bool older_than_forgotten(const s3::ObjectAddress& object, const v1::CacheRecord& next) const;
  // A change of an object's record: the one to store in place of `current` (nullopt: there is
  // none, or it does not parse), or nullopt to store nothing.
  using RecordChange = std::function<std::optional<v1::CacheRecord>(
      const std::optional<v1::CacheRecord>& current)>;
  // Read-modify-write of the object's shared record as a compare-and-swap across proxies:
  // `change` runs again on the newer record whenever another process replaced it in between.
  // Returns what was stored (in the mirror and the RAM tier too), nullopt when `change` chose
  // nothing. Throws std::system_error when the record cannot be written or stays contended.
  std::optional<v1::CacheRecord> update_record(const s3::ObjectAddress& object,
                                               const RecordChange& change) const;
  void delete_files(const s3::ObjectAddress& object, const std::vector<std::string>& files) const;
  // Tells the observer what the object's directory takes now (`record`: its record now).
  void report_object(const s3::ObjectAddress& object, const v1::CacheRecord* record) const;
  // The RAM tier's record of the object when confirmed to be still the shared one at `now_ms`;
  // `may_stat` false: only when within the staleness bound.
  std::optional<KnownRecord> confirmed_in_ram(const s3::ObjectAddress& object,
                                              std::int64_t now_ms, bool may_stat) const;
  // The record or tombstone, confirmed (RAM tier, mirror) or read from the shared directory.
  std::optional<KnownRecord> confirmed_record(const s3::ObjectAddress& object) const;

  // Opens, in order, the range files holding `wanted` (fewest files: at each point the one
  // reaching furthest) and calls `visit` with each, the part of `wanted` it gives and where
  // that part lies in the file's own offsets. false when a byte is not held, a file is
  // missing or invalid, or `visit` returns false.
  using FileVisitor = std::function<bool(RangeFileReader& file, const s3::ByteRange& part,
                                         const s3::ByteRange& in_file)>;
  bool visit_files(const v1::CacheRecord& record, const s3::ByteRange& wanted,
                   const FileVisitor& visit) const;

  // Serialises this process's read-modify-write of one object's record (striped by object):
  // two fills or a fill and a write of the same object must not interleave between loading
  // the record and storing it. (Proxies sharing the directory are ordered by leases, issue 4.)
  std::mutex& record_lock(const s3::ObjectAddress& object) const;

  CacheLayout layout_;
  EvictedNews forgotten_;
  MirroredRecordStore records_;
  mutable VerifiedBlocks verified_;
  static constexpr std::size_t kRecordLockStripes = 64;
  mutable std::array<std::mutex, kRecordLockStripes> record_locks_;
  ObjectStoreOptions options_;
  StoreObserver* observer_;
  std::unique_ptr<RamTier> ram_;  // null: no RAM tier
};

}  // namespace s3hc::cache
