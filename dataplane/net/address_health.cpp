#include "net/address_health.h"

#include <algorithm>

namespace s3hc::net {

using boost::asio::ip::tcp;

void AddressHealth::order(std::vector<tcp::endpoint>& endpoints) {
  if (endpoints.empty()) return;
  std::rotate(endpoints.begin(), endpoints.begin() + (turn_++ % endpoints.size()),
              endpoints.end());
  const auto now = Clock::now();
  std::stable_partition(endpoints.begin(), endpoints.end(), [&](const tcp::endpoint& each) {
    const auto failed = failed_.find(each);
    return failed == failed_.end() || now - failed->second >= avoid_for_;
  });
}

void AddressHealth::report(const tcp::endpoint& endpoint, bool connected) {
  if (connected) {
    failed_.erase(endpoint);
    return;
  }
  const auto now = Clock::now();
  // Forgetting what no longer matters keeps the map as small as the failures of one period.
  std::erase_if(failed_, [&](const auto& each) { return now - each.second >= avoid_for_; });
  failed_[endpoint] = now;
}

}  // namespace s3hc::net
