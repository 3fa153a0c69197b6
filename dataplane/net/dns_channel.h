// One c-ares channel driven by an io_context: asks DNS servers (the configured ones, else
// those of /etc/resolv.conf; never the hosts file) for a name's A and AAAA records.
//
// Why in the event loop and not on a thread of its own: c-ares never blocks once set up. It
// tells which sockets it wants read or written, and the loop waits on them
// (stream_descriptor::async_wait) and on c-ares's next retry time (a steady_timer), then lets
// c-ares process them. A lookup thus costs no thread hop and no lock, as every other part of
// a request. Setting up (reading /etc/resolv.conf) happens in the constructor, at start-up.
//
// Thread-safety: none. Construct, use and destroy on the io_context's thread; one per worker.
// Not copyable or movable: c-ares and the pending waits hold its address.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/endpoint.h"

struct ares_channeldata;

namespace s3hc::net {

class DnsChannel {
 public:
  struct Answer {
    boost::system::error_code ec;  // a ResolveError when there is no address
    std::vector<boost::asio::ip::address> addresses;  // the A records', then the AAAA ones'
    std::chrono::seconds ttl{0};  // the smallest TTL of those records
  };
  using Callback = std::function<void(Answer)>;

  // `servers` empty: those of /etc/resolv.conf. `timeout` bounds the servers' answer,
  // retries included (roughly: c-ares times each try out on its own). Throws
  // std::runtime_error when c-ares cannot be set up.
  DnsChannel(boost::asio::any_io_executor executor, const std::vector<http::HostPort>& servers,
             std::chrono::milliseconds timeout);
  ~DnsChannel();
  DnsChannel(const DnsChannel&) = delete;
  DnsChannel& operator=(const DnsChannel&) = delete;

  // Asks for the A and AAAA records of `name` (as is: no search domains). `done` runs once,
  // on the event loop, when both are answered, failed or timed out; possibly before lookup()
  // returns (c-ares fails some queries at once). Never after the channel is destroyed.
  void lookup(const std::string& name, Callback done);

 private:
  struct Socket;
  struct Lookup;

  static void on_socket_state(void* self, int fd, int readable, int writable);
  static void on_reply(void* lookup, int status, int timeouts, unsigned char* reply,
                       int length);
  void watch(const std::shared_ptr<Socket>& socket);
  void wait(const std::shared_ptr<Socket>& socket, bool for_read);
  void process(int read_fd, int write_fd);
  void arm_timer();

  boost::asio::any_io_executor executor_;
  ares_channeldata* channel_ = nullptr;
  std::unordered_map<int, std::shared_ptr<Socket>> sockets_;  // those c-ares has open
  boost::asio::steady_timer timer_;  // c-ares's next retry or timeout
  // Points here until destruction: a timer wait that completed just before still runs.
  std::shared_ptr<DnsChannel*> alive_;
};

}  // namespace s3hc::net
