#include "http/deadline.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace s3hc::http {

namespace asio = boost::asio;

Deadline::Deadline(DeadlineSweeper& sweeper, std::function<void()> cancel)
    : cancel_(std::move(cancel)) {
  sweeper.deadlines_.push_back(*this);
}

asio::awaitable<void> DeadlineSweeper::run() {
  for (;;) {
    timer_.expires_after(period_);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    sweep();
  }
}

void DeadlineSweeper::start_draining() {
  draining_ = true;
  sweep();
}

void DeadlineSweeper::sweep() {
  const auto now = Deadline::Clock::now();
  for (auto& deadline : deadlines_) {
    if (deadline.expiry_ > now && !(draining_ && deadline.idle_)) continue;
    deadline.timed_out_ = true;
    deadline.expiry_ = Deadline::Clock::time_point::max();
    // Cancelling only queues the aborted operations' completions, so no entry is destroyed
    // while this loop runs.
    deadline.cancel_();
  }
}

}  // namespace s3hc::http
