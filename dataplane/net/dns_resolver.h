// Names to addresses through DNS (DnsChannel), with a cache that keeps each answer for its
// TTL (clamped to [min_ttl, max_ttl]), one lookup in flight per name however many
// connections wait for it, and a timeout on each wait. Failures are not cached: the next
// connection asks again.
//
// Thread-safety: none. One per worker thread, used on its io_context only; it must outlive
// the coroutines waiting in resolve().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/dns_channel.h"
#include "net/resolver_options.h"

namespace s3hc::net {

class DnsResolver {
 public:
  DnsResolver(boost::asio::any_io_executor executor, const ResolverOptions& options);

  // Every address of `name` (A records first, then AAAA); empty with `ec` set (a
  // ResolveError) when none can be had within the timeout.
  boost::asio::awaitable<std::vector<boost::asio::ip::address>> resolve(
      const std::string& name, boost::system::error_code& ec);

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter;
  struct Entry {
    std::vector<boost::asio::ip::address> addresses;
    Clock::time_point expires;
  };

  void on_answer(const std::string& name, DnsChannel::Answer answer);
  void remember(const std::string& name, std::vector<boost::asio::ip::address> addresses,
                std::chrono::seconds ttl);

  boost::asio::any_io_executor executor_;
  const ResolverOptions& options_;
  std::unordered_map<std::string, Entry> cache_;  // by lower-case name
  // Names being looked up, each with the resolve() calls waiting for it (maybe none left).
  std::unordered_map<std::string, std::vector<Waiter*>> waiting_;
  DnsChannel channel_;  // last: destroyed first, ending lookups while the rest still lives
};

}  // namespace s3hc::net
