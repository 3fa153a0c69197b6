// What the caching pipelines share: the object and upload stores on the cache directory, the thread pool
// its file I/O runs on (if any), the freshness rules, and the cache metrics. One per process; the
// pipelines of every worker thread use it concurrently (all members are thread-safe).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <system_error>

#include "cache/capacity.h"
#include "cache/fill_admission.h"
#include "cache/store/object_store.h"
#include "cache/store/upload_store.h"
#include "obs/bucket_metrics.h"
#include "obs/cache_metrics.h"
#include "pipeline/cache_policy.h"
#include "pipeline/fill_progress.h"
#include "pipeline/sequential_reads.h"
#include "s3/read_request.h"
#include "util/wall_clock.h"

namespace s3hc::policy {
class PolicySource;
}  // namespace s3hc::policy

namespace s3hc::pipeline {

struct CacheContext {
  cache::ObjectStore& store;
  cache::UploadStore& uploads;  // multipart uploads written through
  boost::asio::thread_pool* io;  // null: cache file I/O runs on the event loops
  // With an I/O pool: an event loop still sends a large hit's files itself (sendfile) when
  // the page cache holds all their bytes. Only for a local file system, whose cached pages
  // are sent without a read; a network one may ask its server first.
  bool sendfile_from_page_cache;
  cache::FillAdmission* admission;  // null: every fill is admitted
  FillRegistry& fills;  // fills of this process that requests may join
  CachePolicy policy;
  // The per-bucket/prefix policy in force; null: `policy` for every object (object_policy.h).
  const policy::PolicySource* policies;
  s3::AddressingOptions addressing;
  obs::CacheMetrics& metrics;
  obs::BucketMetrics* buckets;  // null: no per-bucket metrics (tests)
  SequentialReads* sequential_reads;  // null: no read-ahead (read_ahead.h)
};

// Whether `bytes` (0: unknown) may enter the cache now (it is not full); a refusal is counted.
inline bool admits_fill(CacheContext& cache, std::uint64_t bytes, bool from_write) {
  if (!cache.admission || cache.admission->admits(bytes, from_write)) return true;
  cache.metrics.fills_refused.inc();
  return false;
}

// Whether a cache write of `bytes` (0: unknown) failed because the file system is full
// (ENOSPC, EDQUOT). If so it is counted (fills_total{result="no_space"}) and reported to the
// fleet engine, which logs it once per round and has the lease holder make room: the caller
// logs nothing. Otherwise the caller logs and counts the failure as it always did.
inline bool note_no_space(CacheContext& cache, const std::exception& error,
                          std::uint64_t bytes) {
  const auto* system = dynamic_cast<const std::system_error*>(&error);
  if (!system || !cache::is_no_space(system->code())) return false;
  cache.metrics.fills_no_space.inc();
  if (cache.admission) {
    cache.admission->lacked_space(bytes);
  } else {
    spdlog::warn("cache write dropped: {}", error.what());
  }
  return true;
}

using util::unix_now_ms;

// How long after the origin's last confirmation a record answers reads of `kind` (its TTL).
inline std::int64_t freshness_lifetime_ms(const v1::CacheRecord& record,
                                          s3::ReadRequest::Kind kind, const CachePolicy& policy) {
  return record.from_write()                          ? policy.put_ttl_ms
         : kind == s3::ReadRequest::Kind::kHeadObject ? policy.head_ttl_ms
                                                      : policy.get_ttl_ms;
}

// Whether a record may answer a read without asking the origin: the origin confirmed it less
// than a TTL ago. A TTL of 0 is never fresh, so every read goes to the origin.
inline bool is_fresh(const v1::CacheRecord& record, s3::ReadRequest::Kind kind,
                     const CachePolicy& policy, std::int64_t now_ms) {
  const auto ttl = freshness_lifetime_ms(record, kind, policy);
  // Never fresh with a TTL of 0, whatever the clocks say: a request that started before
  // another one's revalidation would otherwise see a validation time after its own start.
  return ttl > 0 && now_ms - record.validated_at_unix_ms() < ttl;
}

}  // namespace s3hc::pipeline
