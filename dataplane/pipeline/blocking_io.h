// Runs blocking work (cache file I/O: a local disk or an NFS server that may stall) on a thread
// pool and resumes the calling coroutine on its own executor, so no event loop ever waits for
// a disk. Exceptions thrown by the work are rethrown in the caller. Without a pool (null) the
// work runs inline: for a cache on a local disk whose files the page cache holds, the two
// thread hand-offs cost more than the reads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace s3hc::pipeline {

template <typename Work>
boost::asio::awaitable<std::invoke_result_t<Work&>> offload(boost::asio::thread_pool* pool,
                                                            Work work) {
  using Result = std::invoke_result_t<Work&>;
  if (!pool) co_return work();
  co_return co_await boost::asio::co_spawn(
      pool->get_executor(),
      [work = std::move(work)]() mutable -> boost::asio::awaitable<Result> { co_return work(); },
      boost::asio::use_awaitable);
}

}  // namespace s3hc::pipeline
