// Which of an origin's addresses to try first: new connections spread over all of them (each
// call starts one further along), and an address that failed to connect goes after the others
// for a while (`avoid_for`), or until a connection to it succeeds.
//
// Thread-safety: none; one per worker thread (each learns of failures on its own).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

namespace s3hc::net {

class AddressHealth {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AddressHealth(Clock::duration avoid_for) : avoid_for_(avoid_for) {}

  // Puts `endpoints` in the order to try them.
  void order(std::vector<boost::asio::ip::tcp::endpoint>& endpoints);

  // What a connection attempt to `endpoint` came to.
  void report(const boost::asio::ip::tcp::endpoint& endpoint, bool connected);

 private:
  Clock::duration avoid_for_;
  std::map<boost::asio::ip::tcp::endpoint, Clock::time_point> failed_;  // when, the last time
  std::size_t turn_ = 0;
};

}  // namespace s3hc::net
