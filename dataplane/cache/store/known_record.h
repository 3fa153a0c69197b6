// A record as this proxy last saw it on the shared directory: what the local mirror and the
// RAM tier hold, with what is needed to confirm it is still the shared one (mirrored_record_store.h).
#pragma once

#include <cstdint>
#include <memory>

#include "cache/file_stamp.h"
#include "cache/record_changes.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

struct KnownRecord {
  std::shared_ptr<const v1::CacheRecord> record;  // never null
  FileStamp stamp;                                // of the shared record file it came from
  // When the shared record was last seen to be this one (Unix ms).
  std::int64_t checked_at_unix_ms = 0;
  // Taken just before that sight (record_changes.h); in memory only (the local mirror does
  // not keep it: a table may lose counts in a crash of the host).
  ChangeMark change_mark;
};

}  // namespace s3hc::cache
