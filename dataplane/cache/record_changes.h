// How many times each object's record on the shared cache directory has been replaced or
// removed, counted in one small file (<root>/record-changes) that every proxy of the host maps
// into its memory: with it a hit confirms that the record it holds is still the shared one
// without a system call (strict read-after-write, mirrored_record_store.h), where a stat of
// the record costs as much as the rest of a small hit.
//
// The protocol. Whoever replaces or removes a record counts the change once the new state is
// in place, before answering anyone (RecordStore, remove_cache_dir). A reader takes the mark
// (table and count) before it stats or reads the record; later, the same mark proves that no
// change was counted since, so the record it saw then is still the shared one. A write
// answered before a read arrives was counted before the read looks: strict read-after-write
// holds. A writer killed between its rename and its count leaves a change no holder sees
// until its own next stat: that write was never answered, and TTLs bound it as they bound
// writes made around the fleet.
//
// Only for a cache directory on a local file system: a shared mapping is coherent between
// the processes of one host, not between NFS clients, so proxies on NFS open no table and
// stat on every hit. Counts are kept per slot (a hash of the object), so objects share them:
// a change to one makes a holder of another sharing its slot stat once (never a wrong answer).
// Each table made gets a random id, part of every mark: a table made anew (the directory
// deleted under running proxies and follow_path() moving to the new one) matches no old mark.
// Marks are held in memory only: after a crash of the host a table may have lost counts.
//
// Thread-safety: mark() and count_change() from any thread, lock-free; follow_path() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace s3hc::cache {

struct ChangeMark {
  std::uint64_t table = 0;  // 0: no table (then no mark proves anything)
  std::uint64_t count = 0;

  bool operator==(const ChangeMark&) const = default;
};

class RecordChanges {
 public:
  // The table of the cache directory `root` (made when missing); nullptr when it cannot be
  // used (a network file system, a file that cannot be made or is not a table): then every
  // hit stats.
  static std::shared_ptr<RecordChanges> open(const std::string& root);
  ~RecordChanges();
  RecordChanges(const RecordChanges&) = delete;
  RecordChanges& operator=(const RecordChanges&) = delete;

  // What the table counts now for the object with this hash (CacheLayout::object_hash).
  ChangeMark mark(std::uint64_t object_hash) const;
  // Whether `earlier` proves that no change of the object was counted since it was taken.
  bool unchanged_since(const ChangeMark& earlier, std::uint64_t object_hash) const {
    return earlier.table != 0 && mark(object_hash) == earlier;
  }
  void count_change(std::uint64_t object_hash);

  // When <root>/record-changes is no longer the file mapped (the directory was deleted and
  // made anew), maps the one there now, made when missing; none when that fails.
  void follow_path();

  static constexpr std::size_t kSlots = 16384;

 private:
  struct Table;
  explicit RecordChanges(std::string path);
  static std::unique_ptr<Table> map(const std::string& path);

  const std::string path_;
  std::atomic<Table*> current_{nullptr};  // null: none usable now
  std::mutex remap_lock_;
  // Every table mapped, kept until the end: a reader may still be looking at an older one.
  std::vector<std::unique_ptr<Table>> tables_;
};

}  // namespace s3hc::cache
