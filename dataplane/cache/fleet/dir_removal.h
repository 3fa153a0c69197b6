// Removing one object's (or upload's) directory from the shared cache, safely for readers and
// writers on any proxy: the record goes first (atomically: a reader finds the old record or
// none, never half of one), so nobody is sent to a range file about to vanish; then every file
// but the temp files of writes still in flight, then the directory if it is empty. A reader
// already streaming from an open range file keeps its bytes (POSIX unlink semantics; NFS
// clients rename open files away until they are closed). The record's removal is counted in
// the table of record changes (may be null: none kept), so that no proxy keeps serving the
// record it held (record_changes.h). Any thread.
#pragma once

#include <cstdint>
#include <string>

#include "cache/evicted_news.h"
#include "cache/record_changes.h"
#include "cache/store/record_store.h"

namespace s3hc::cache {

// Removes the directory whatever its record holds: for what holds no news (tombstones past
// their retention, abandoned uploads, directories without a record of their own).
void remove_cache_dir(const std::string& dir, RecordChanges* changes);

enum class EvictionOutcome {
  kRemoved,  // the directory, record first
  kChanged,  // nothing: the record was replaced meanwhile (stored again: no longer a victim)
};

// Evicts one object's directory without forgetting its news: the record's time goes to
// `forgotten` (evicted_news.h) before the record is removed, when a fill could still be older
// (the record's time is `news_kept_after_ms` or later). The record is removed only if it is
// still the one whose time was kept (record_store.h's compare-and-swap), then the directory
// as remove_cache_dir() does. A directory without a readable record of its own is removed
// whole. Throws std::system_error when the time cannot be kept (nothing removed then).
EvictionOutcome evict_cache_dir(const std::string& dir, const RecordStore& records,
                                const EvictedNews& forgotten, std::int64_t news_kept_after_ms);

}  // namespace s3hc::cache
