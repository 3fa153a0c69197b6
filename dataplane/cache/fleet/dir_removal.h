// Removing one object's (or upload's) directory from the shared cache, safely for readers and
// writers on any proxy: the record goes first, by a rename away (atomic: a reader finds the
// old record or none, never half of one), so nobody is sent to a range file about to vanish;
// then every file but the temp files of writes still in flight, then the directory if it is
// empty. A reader already streaming from an open range file keeps its bytes (POSIX unlink
// semantics; NFS clients rename open files away until they are closed). The record's
// removal is counted in `changes` (may be null: none kept), so that no proxy keeps serving
// the record it held (record_changes.h). Any thread.
#pragma once

#include <string>

#include "cache/record_changes.h"

namespace s3hc::cache {

void remove_cache_dir(const std::string& dir, RecordChanges* changes);

}  // namespace s3hc::cache
