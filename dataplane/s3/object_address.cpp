#include "s3/object_address.h"

#include "s3/request_target.h"
#include "util/ascii.h"

namespace s3hc::s3 {
namespace {

std::string_view host_without_port(std::string_view host) {
  if (host.starts_with('[')) return host.substr(0, host.find(']') + 1);  // IPv6 literal
  return host.substr(0, host.rfind(':'));
}

// "bucket.s3.amazonaws.com", "bucket.s3.eu-west-1.amazonaws.com" or
// "bucket.s3-eu-west-1.amazonaws.com" -> "bucket"; empty when the host is no such name.
std::string_view bucket_of_amazon_host(std::string_view host) {
  constexpr std::string_view kDomain = ".amazonaws.com";
  if (!host.ends_with(kDomain)) return {};
  const auto service = host.substr(0, host.size() - kDomain.size());  // "bucket.s3[.-region]"
  for (std::size_t at = service.rfind(".s3"); at != std::string_view::npos && at > 0;
       at = service.rfind(".s3", at - 1)) {
    const auto rest = service.substr(at + 3);  // "", ".region" or "-region"
    const bool plain = rest.empty();
    const bool regional = (rest.starts_with('.') || rest.starts_with('-')) && rest.size() > 1 &&
                          rest.substr(1).find('.') == std::string_view::npos;
    if (plain || regional) return service.substr(0, at);
  }
  return {};
}

std::string_view bucket_of_host(std::string_view host, const AddressingOptions& options) {
  if (const auto bucket = bucket_of_amazon_host(host); !bucket.empty()) return bucket;
  for (const auto& suffix : options.virtual_host_suffixes) {
    if (host.size() > suffix.size() && host.ends_with(suffix)) {
      return host.substr(0, host.size() - suffix.size());
    }
  }
  return {};
}

}  // namespace

std::optional<ObjectAddress> parse_address(std::string_view path, std::string_view host,
                                           const AddressingOptions& options) {
  if (!path.starts_with('/')) return std::nullopt;
  const auto lowered_host = util::to_lower_ascii(host_without_port(host));
  const auto host_bucket = bucket_of_host(lowered_host, options);
  std::string_view bucket_text = host_bucket;
  std::string_view key_text = path.substr(1);
  if (bucket_text.empty()) {  // path style: /bucket/key
    const auto slash = key_text.find('/');
    bucket_text = key_text.substr(0, slash);
    key_text = slash == std::string_view::npos ? std::string_view{} : key_text.substr(slash + 1);
  }
  auto bucket = percent_decode(bucket_text);
  auto key = percent_decode(key_text);
  if (!bucket || !key || bucket->empty()) return std::nullopt;
  return ObjectAddress{std::move(*bucket), std::move(*key)};
}

}  // namespace s3hc::s3
