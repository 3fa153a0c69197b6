// Coarse I/O timeouts for many connections at the cost of one timer per thread.
//
// A connection arms its Deadline before each read or write (storing a time point: no syscall,
// no allocation, unlike one asio timer per operation); the thread's DeadlineSweeper wakes every
// `period` and calls the cancel action of each Deadline that has passed. Timeouts therefore
// fire up to one period late, which is fine for limits counted in seconds.
//
// Thread-safety: none. A Deadline and its sweeper belong to one io_context thread; a Deadline
// unregisters itself when destroyed and must not outlive its sweeper.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <functional>

namespace s3hc::http {

class DeadlineSweeper;

class Deadline
    : public boost::intrusive::list_base_hook<
          boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Clock = std::chrono::steady_clock;

  // `cancel` aborts the owner's pending I/O; called at most once per expiry.
  Deadline(DeadlineSweeper& sweeper, std::function<void()> cancel);
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expires_after(Clock::duration timeout) {
    expiry_ = Clock::now() + timeout;
    idle_ = false;
    timed_out_ = false;
  }
  // Like expires_after, for a wait between requests: a draining sweeper ends it at once.
  void idle_expires_after(Clock::duration timeout) {
    expiry_ = Clock::now() + timeout;
    idle_ = true;
    timed_out_ = false;
  }
  void expires_never() {
    expiry_ = Clock::time_point::max();
    idle_ = false;
  }
  // True once an expiry has cancelled the owner's I/O (until the deadline is armed again).
  bool timed_out() const { return timed_out_; }

 private:
  friend class DeadlineSweeper;

  std::function<void()> cancel_;
  Clock::time_point expiry_ = Clock::time_point::max();
  bool idle_ = false;
  bool timed_out_ = false;
};

class DeadlineSweeper {
 public:
  DeadlineSweeper(const boost::asio::any_io_executor& executor, std::chrono::milliseconds period)
      : timer_(executor), period_(period) {}

  // Sweeps until the io_context stops.
  boost::asio::awaitable<void> run();

  // From now on idle waits end at once (the process is shutting down). Call on the
  // sweeper's thread.
  void start_draining();

 private:
  friend class Deadline;
  using List = boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>>;

  void sweep();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds period_;
  List deadlines_;
  bool draining_ = false;
};

}  // namespace s3hc::http
