// Runs one coroutine on a test's io_context until it returns, and hands back its result
// (rethrowing its exception). Other work on the io_context (servers, pending waits) runs
// meanwhile and stays pending afterwards.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>

namespace s3hc::testing {

template <typename T>
T run_coroutine(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr error, T value) {
    failure = error;
    if (!error) result = std::move(value);
  });
  io.restart();
  while (!result && !failure) io.run_one();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace s3hc::testing
