// Reads of the cache directory from a request: on the cache I/O pool (blocking_io.h), and
// guarded, because a cache that cannot be read (a failing disk or NFS server) must only ever
// cost misses, never a failed request.
// Thread-safety: from the request's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string_view>
#include <utility>

#include "pipeline/blocking_io.h"
#include "pipeline/cache_context.h"

namespace s3hc::pipeline {

// `read()`, or false, logged, when it throws; `bucket` and `key` name the object in the log.
bool read_guarded(std::string_view bucket, std::string_view key,
                  const std::function<bool()>& read);

// read_guarded run on the cache's I/O pool (inline without one). `read` may capture the
// caller's locals by reference: the caller waits for it.
template <typename Read>
boost::asio::awaitable<bool> read_cache(CacheContext& cache, std::string_view bucket,
                                        std::string_view key, Read read) {
  return offload(cache.io, [bucket, key, read = std::move(read)]() mutable {
    return read_guarded(bucket, key, read);
  });
}

}  // namespace s3hc::pipeline
