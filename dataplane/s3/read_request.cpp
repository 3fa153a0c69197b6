#include "s3/read_request.h"

#include <charconv>

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

namespace {

// The bucket and key a target names; the key is empty for bucket-level requests.
std::optional<ObjectAddress> target_address(std::string_view target, std::string_view host,
                                            const AddressingOptions& options) {
  const auto path = split_target(target).path;
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

// Query parameters of presigned URLs: SigV4 (X-Amz-*) and the legacy SigV2 form that some
// SDKs still produce by default.
bool is_signature_parameter(std::string_view name) {
  return name.starts_with("X-Amz-") || name == "AWSAccessKeyId" || name == "Signature" ||
         name == "Expires";
}

}  // namespace

std::optional<std::uint32_t> parse_part_number(std::string_view text) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < 1 || value > 10000) {
    return std::nullopt;
  }
  return value;
}

std::optional<ObjectAddress> object_address(std::string_view target, std::string_view host,
                                            const AddressingOptions& options) {
  auto address = target_address(target, host, options);
  if (!address || address->key.empty()) return std::nullopt;
  return address;
}

std::optional<std::string> bucket_address(std::string_view target, std::string_view host,
                                          const AddressingOptions& options) {
  auto address = target_address(target, host, options);
  if (!address || !address->key.empty()) return std::nullopt;
  return std::move(address->bucket);
}

ReadClassification classify_read(std::string_view method, std::string_view target,
                                 std::string_view host, const ReadHeaders& headers,
                                 const AddressingOptions& options) {
  ReadRequest read;
  if (method == "GET") {
    read.kind = ReadRequest::Kind::kGetObject;
  } else if (method == "HEAD") {
    read.kind = ReadRequest::Kind::kHeadObject;
  } else {
    return {std::nullopt, "not a read"};
  }
  auto address = object_address(target, host, options);
  if (!address) return {std::nullopt, "no object in the target"};
  read.object = std::move(*address);

  const auto parameters = parse_query(split_target(target).query);
  if (!parameters) return {std::nullopt, "malformed query"};
  for (const auto& parameter : *parameters) {
    if (parameter.name == "partNumber") {
      read.part_number = parse_part_number(parameter.value);
      if (!read.part_number) return {std::nullopt, "bad partNumber"};
    } else if (parameter.name == "versionId") {
      return {std::nullopt, "versioned read"};
    } else if (!is_signature_parameter(parameter.name) && parameter.name != "x-id") {
      // Sub-resources (acl, tagging, attributes, ...) and response-* overrides change the
      // answer; presigned-URL parameters and SDK markers (x-id) do not.
      return {std::nullopt, "sub-resource or response override"};
    }
  }
  if (headers.has_sse_customer_key) return {std::nullopt, "SSE-C"};
  if (!headers.range.empty()) {
    if (read.kind == ReadRequest::Kind::kHeadObject || read.part_number) {
      return {std::nullopt, "range on HEAD or part"};
    }
    read.range = parse_single_byte_range(headers.range);
    if (!read.range) return {std::nullopt, "multi-range or malformed Range"};
  }
  return {std::move(read), {}};
}

}  // namespace s3hc::s3
