#include "pipeline/object_policy.h"

#include <limits>

namespace s3hc::pipeline {

CachePolicy object_policy(const CachePolicy& configured, const policy::PolicySource* policies,
                          const s3::ObjectAddress& object) {
  auto rules = configured;
  if (!policies) return rules;
  const auto settings = policies->current()->settings_for(object.bucket, object.key);
  if (settings.has_get_ttl_ms()) rules.get_ttl_ms = settings.get_ttl_ms();
  if (settings.has_head_ttl_ms()) rules.head_ttl_ms = settings.head_ttl_ms();
  if (settings.has_put_ttl_ms()) rules.put_ttl_ms = settings.put_ttl_ms();
  if (settings.has_negative_ttl_ms()) rules.negative_ttl_ms = settings.negative_ttl_ms();
  if (settings.has_read_caching()) rules.read_caching = settings.read_caching();
  if (settings.has_write_through()) rules.write_through = settings.write_through();
  if (settings.has_compression()) rules.compression = settings.compression();
  if (settings.has_ram_tier()) rules.ram_tier = settings.ram_tier();
  if (settings.has_client_cache_control()) {
    rules.client_cache_control = settings.client_cache_control();
  }
  if (settings.has_read_ahead()) rules.read_ahead.enabled = settings.read_ahead();
  if (settings.has_parallel_fill_threshold_bytes()) {
    rules.parallel_fills.threshold_bytes = settings.parallel_fill_threshold_bytes();
  }
  if (settings.has_max_object_bytes()) {
    const auto max = settings.max_object_bytes();
    rules.max_write_object_bytes = max == 0 ? std::numeric_limits<std::uint64_t>::max() : max;
    rules.max_read_object_bytes = rules.max_write_object_bytes;
  }
  return rules;
}

}  // namespace s3hc::pipeline
