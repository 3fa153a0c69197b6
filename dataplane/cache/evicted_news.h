// What the fleet forgot by removing records whole: for each slot (a hash of the object), the
// newest information time of a record removed without a tombstone in its place (an eviction,
// an expiry, a full disk's last resort), in one small file of fixed size on the shared cache
// directory (<root>/evicted-news).
//
// Why. A change of an object's record is refused when the record holds newer information
// (object_store.h): that is what keeps a slow fill of the version a write replaced, asked of
// the origin before the write was answered, from bringing the old bytes back. A record removed
// whole takes its time with it, and that fill, finding no record at its commit, would store the
// old version until its TTL. So whoever removes a record whole first raises its slot to the
// record's time, and a change that finds no record is refused when its slot is as new.
//
// Slots are shared by objects: a collision refuses at most a cold fill (its bytes are not
// kept: the client has its answer), never serves a wrong byte. Records whose time is older
// than the longest fill (max_fill_age: older fills are refused at commit anyway) need no slot,
// so a slot rarely holds a time a new fill could be older than. A fixed table takes no room
// as the cache churns (a tombstone per evicted object would take a block for an hour).
//
// Across hosts (NFS) the file is opened for each look and each raise: close-to-open
// consistency makes a look that opens the file after the raiser closed it see the raise (the
// close sends it to the server; the open revalidates the cached pages). The raiser closes the
// file before it removes the record; a looker opens it after it found no record. One raiser at
// a time is expected (the maintenance lease holder; a full disk's removal may race it, and a
// raise lost to that race reopens the gap above for one object, bounded by its TTL).
//
// Thread-safety: every method from any thread (each works on a file descriptor of its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cache/cache_layout.h"

namespace s3hc::cache {

class EvictedNews {
 public:
  explicit EvictedNews(const CacheLayout& layout);

  // Puts a table in place unless one is there (written whole, so that raising a slot never
  // needs room on a full file system). Throws std::system_error when it cannot.
  void make() const;
  // Raises the object's slot to `news_ms` (never lowers it), making the table when missing.
  // Throws std::system_error when the table cannot be made, read or written.
  void raise(std::uint64_t object_hash, std::int64_t news_ms) const;
  // The newest time raised in the object's slot; 0 when none (no table, nothing raised, or a
  // file that is not a table).
  std::int64_t newest(std::uint64_t object_hash) const;

  static constexpr std::size_t kSlots = 65536;

 private:
  const std::string path_;
};

}  // namespace s3hc::cache
