#include "net/dns_resolver.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <spdlog/spdlog.h>

#include "net/resolve_error.h"
#include "util/ascii.h"

namespace s3hc::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Bounds the cache whatever names the origins have; far more than a deployment uses.
constexpr std::size_t kMaxNames = 4096;

}  // namespace

// One resolve() call waiting for a lookup; it leaves the waiting list when it ends, answered,
// timed out or destroyed with its coroutine.
struct DnsResolver::Waiter {
  Waiter(DnsResolver& resolver, std::string name)
      : resolver(resolver), name(std::move(name)), timer(resolver.executor_) {
    timer.expires_after(resolver.options_.timeout);
  }
  ~Waiter() {
    if (const auto found = resolver.waiting_.find(name); found != resolver.waiting_.end()) {
      std::erase(found->second, this);
    }
  }

  DnsResolver& resolver;
  std::string name;
  asio::steady_timer timer;  // the timeout; cancelled when the answer comes
  std::optional<DnsChannel::Answer> answer;
};

DnsResolver::DnsResolver(asio::any_io_executor executor, const ResolverOptions& options)
    : executor_(executor),
      options_(options),
      channel_(executor, options.dns_servers, options.timeout) {}

asio::awaitable<std::vector<asio::ip::address>> DnsResolver::resolve(const std::string& name,
                                                                     error_code& ec) {
  const auto key = util::to_lower_ascii(name);
  if (const auto cached = cache_.find(key);
      cached != cache_.end() && Clock::now() < cached->second.expires) {
    co_return cached->second.addresses;
  }
  Waiter waiter(*this, key);
  const bool asking = waiting_.contains(key);
  waiting_[key].push_back(&waiter);
  if (!asking) {
    channel_.lookup(key, [this, key](DnsChannel::Answer answer) {
      on_answer(key, std::move(answer));
    });
  }
  if (!waiter.answer) co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!waiter.answer) {
    // The lookup goes on: its answer, when it comes, is cached for the next connection.
    spdlog::warn("dns: {}: no answer within {} ms", key, options_.timeout.count());
    ec = ResolveError::kTimedOut;
    co_return std::vector<asio::ip::address>{};
  }
  ec = waiter.answer->ec;
  co_return std::move(waiter.answer->addresses);
}

void DnsResolver::on_answer(const std::string& name, DnsChannel::Answer answer) {
  if (answer.ec) {
    spdlog::warn("dns: {}: {}", name, answer.ec.message());
  } else {
    remember(name, answer.addresses, answer.ttl);
  }
  auto waiters = waiting_.extract(name);
  if (!waiters) return;
  for (auto* waiter : waiters.mapped()) {
    waiter->answer = answer;
    waiter->timer.cancel();
  }
}

void DnsResolver::remember(const std::string& name, std::vector<asio::ip::address> addresses,
                           std::chrono::seconds ttl) {
  if (cache_.size() >= kMaxNames && !cache_.contains(name)) {
    const auto now = Clock::now();
    std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
    if (cache_.size() >= kMaxNames) cache_.erase(cache_.begin());  // any: all are current
  }
  const auto lifetime = std::clamp<std::chrono::milliseconds>(ttl, options_.min_ttl,
                                                              options_.max_ttl);
  cache_[name] = {std::move(addresses), Clock::now() + lifetime};
}

}  // namespace s3hc::net
