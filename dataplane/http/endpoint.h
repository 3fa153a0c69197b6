// Parsing of the network addresses s3hc is configured with: listen sockets, the upstream URL
// and the OTLP collector's.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::http {

// A "HOST:PORT" pair; HOST may be a bracketed IPv6 literal ("[::1]:8080").
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const;
};

// The origin every request is forwarded to: "http(s)://HOST[:PORT]" with no path.
struct UpstreamUrl {
  bool tls = true;
  std::string host;
  std::uint16_t port = 443;

  std::string to_string() const;
  bool operator==(const UpstreamUrl&) const = default;
};

// "http(s)://HOST[:PORT][/PATH]": the port defaults by scheme; the path is empty when there
// is none (or only "/"). No query, fragment or user.
struct HttpUrl {
  bool tls = true;
  std::string host;
  std::uint16_t port = 443;
  std::string path;
};

// Each throws std::invalid_argument with a message naming the offending text.
HostPort parse_host_port(std::string_view text);
HttpUrl parse_http_url(std::string_view text);
UpstreamUrl parse_upstream_url(std::string_view text);  // an HttpUrl without a path

// A pattern of endpoint names (upstream.allowed_hosts), lower-cased: letters, digits, '-',
// '.' and '*'. Throws std::invalid_argument naming the text.
std::string parse_host_pattern(std::string_view text);

// The endpoint name a request's Host header gives: lower-cased, its port dropped. nullopt
// when it is no DNS name: empty, a bad character, an IP address in any spelling (dotted,
// decimal, hexadecimal, IPv6), which no S3 endpoint is and which would let a client aim the
// proxy anywhere.
std::optional<std::string> endpoint_name_of(std::string_view host_header);

}  // namespace s3hc::http
