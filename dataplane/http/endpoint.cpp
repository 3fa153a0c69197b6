#include "http/endpoint.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace s3hc::http {
namespace {

std::uint16_t parse_port(std::string_view digits, std::string_view whole) {
  unsigned value = 0;
  const auto* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
    throw std::invalid_argument("invalid port in '" + std::string(whole) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

// Splits "host:port" / "[v6]:port" / "host" (port optional when default_port != 0).
HostPort split_authority(std::string_view authority, std::uint16_t default_port,
                         std::string_view whole) {
  HostPort result;
  std::string_view rest;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated IPv6 literal in '" + std::string(whole) + "'");
    }
    result.host = std::string(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
  } else {
    const auto colon = authority.rfind(':');
    result.host = std::string(authority.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (result.host.empty()) {
    throw std::invalid_argument("missing host in '" + std::string(whole) + "'");
  }
  if (rest.empty()) {
    if (default_port == 0) {
      throw std::invalid_argument("missing port in '" + std::string(whole) + "'");
    }
    result.port = default_port;
  } else if (rest.starts_with(':')) {
    result.port = parse_port(rest.substr(1), whole);
  } else {
    throw std::invalid_argument("unexpected text after host in '" + std::string(whole) + "'");
  }
  return result;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string join_host_port(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string HostPort::to_string() const { return join_host_port(host, port); }

std::string UpstreamUrl::to_string() const {
  return (tls ? "https://" : "http://") + join_host_port(host, port);
}

HostPort parse_host_port(std::string_view text) { return split_authority(text, 0, text); }

HttpUrl parse_http_url(std::string_view text) {
  HttpUrl url;
  std::string_view rest;
  if (text.starts_with("https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    url.tls = false;
    rest = text.substr(7);
  } else {
    throw std::invalid_argument("URL must start with http:// or https://: '" + std::string(text) +
                                "'");
  }
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    throw std::invalid_argument("URL must not carry a query, fragment or user: '" +
                                std::string(text) + "'");
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    if (rest.size() > slash + 1) url.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  const HostPort authority = split_authority(rest, url.tls ? 443 : 80, text);
  url.host = authority.host;
  url.port = authority.port;
  return url;
}

UpstreamUrl parse_upstream_url(std::string_view text) {
  auto url = parse_http_url(text);
  if (!url.path.empty()) {
    throw std::invalid_argument("upstream URL must not carry a path: '" + std::string(text) + "'");
  }
  return {.tls = url.tls, .host = std::move(url.host), .port = url.port};
}

std::string parse_host_pattern(std::string_view text) {
  auto pattern = lower_case(text);
  const bool valid = !pattern.empty() && std::all_of(pattern.begin(), pattern.end(), [](char c) {
    return is_name_char(c) || c == '*';
  });
  if (!valid) {
    throw std::invalid_argument("host pattern may hold only letters, digits, '-', '.' and '*': '" +
                                std::string(text) + "'");
  }
  return pattern;
}

std::optional<std::string> endpoint_name_of(std::string_view host_header) {
  auto name = lower_case(host_header.substr(0, host_header.rfind(':')));
  if (name.ends_with('.')) name.pop_back();  // the root label, as DNS allows
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) return std::nullopt;
  // A name's last label is never all digits (RFC 3696 section 2), an address's always is
  // ("10.0.0.1", "167772161"), and "0x0a.0.0.1" has a hexadecimal one: neither is a name.
  const auto last_label = std::string_view(name).substr(name.rfind('.') + 1);
  const bool numeric = last_label.empty() ||
                       std::all_of(last_label.begin(), last_label.end(),
                                   [](char c) { return c >= '0' && c <= '9'; }) ||
                       last_label.starts_with("0x");
  if (numeric) return std::nullopt;
  return name;
}

}  // namespace s3hc::http
