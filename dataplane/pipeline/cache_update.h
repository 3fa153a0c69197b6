// Runs an update of the cache (a record written, an object dropped) on the cache I/O pool. A
// failure (a full disk, an unwritable directory, a vanished NFS server) is logged and counted
// and never fails the request: the cache only loses an entry. A full file system is reported
// to the fleet engine instead of logged (note_no_space).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <exception>
#include <functional>
#include <spdlog/spdlog.h>

#include "pipeline/blocking_io.h"
#include "pipeline/cache_context.h"

namespace s3hc::pipeline {

inline boost::asio::awaitable<void> update_cache(CacheContext& cache,
                                                 std::function<void()> update) {
  co_await offload(cache.io, [&cache, &update] {
    try {
      update();
    } catch (const std::exception& error) {
      if (note_no_space(cache, error, 0)) return;
      spdlog::warn("cache not updated: {}", error.what());
      cache.metrics.fills_failed.inc();
    }
  });
}

}  // namespace s3hc::pipeline
