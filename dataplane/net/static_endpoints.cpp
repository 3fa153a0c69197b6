#include "net/static_endpoints.h"

#include <stdexcept>

#include "util/ascii.h"

namespace s3hc::net {
namespace {

constexpr std::string_view kWildcard = "*.";

// DNS names compare case-insensitively, and "name." is the same name as "name".
std::string canonical_name(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  return util::to_lower_ascii(name);
}

bool valid_name(std::string_view name) {
  if (name.starts_with(kWildcard)) name.remove_prefix(kWildcard.size());
  return !name.empty() && name.find_first_of("*=/: ") == std::string_view::npos;
}

}  // namespace

StaticEndpoint parse_static_endpoint(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    throw std::invalid_argument("expected NAME=[http://]HOST:PORT, got '" + std::string(text) +
                                "'");
  }
  const auto name = canonical_name(text.substr(0, equals));
  if (!valid_name(name)) {
    throw std::invalid_argument("invalid name (a host name or *.suffix) in '" +
                                std::string(text) + "'");
  }
  const auto target = text.substr(equals + 1);
  const bool has_scheme = target.starts_with("http://") || target.starts_with("https://");
  return {name, http::parse_upstream_url(has_scheme ? std::string(target)
                                                    : "https://" + std::string(target))};
}

const StaticEndpoint* find_static_endpoint(const std::vector<StaticEndpoint>& entries,
                                           std::string_view name) {
  const auto wanted = canonical_name(name);
  const StaticEndpoint* best_wildcard = nullptr;
  for (const auto& entry : entries) {
    if (entry.name == wanted) return &entry;
    if (!entry.name.starts_with(kWildcard)) continue;
    // "*.suffix" covers "a.suffix" and "a.b.suffix" (bucket names may hold dots), not "suffix".
    const auto dotted_suffix = std::string_view(entry.name).substr(1);
    if (wanted.size() > dotted_suffix.size() && wanted.ends_with(dotted_suffix) &&
        (!best_wildcard || entry.name.size() > best_wildcard->name.size())) {
      best_wildcard = &entry;
    }
  }
  return best_wildcard;
}

}  // namespace s3hc::net
