#include "config/proxy_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/common.h>

#include "config/yaml_binding.h"

namespace s3hc::config {
namespace {

// upstream.url: empty for none (route by Host).
std::optional<http::UpstreamUrl> parse_optional_upstream_url(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return http::parse_upstream_url(text);
}

// The keys of the file, each bound to the field of `config` it sets.
KeyBindings bindings(ProxyConfig& config) {
  http::UpstreamOptions& up = config.upstream;
  cache::ObjectStoreOptions& store = config.cache.store;
  cache::FleetOptions& fleet = config.cache.fleet;
  pipeline::CachePolicy& policy = config.cache.policy;
  obs::OtlpExporterOptions& otlp = config.observability.otlp;
  passthrough::PassthroughOptions& passthrough = config.passthrough;
  return {
      {"listen", parsed_field(config.listen, parse_listen_address)},
      {"admin_listen", parsed_field(config.admin_listen, parse_listen_address)},
      {"ports_file", string_field(config.ports_file)},
      {"threads", bounded(config.threads, 0, 256)},
      {"log_level", string_field(config.log_level)},
      {"shutdown_grace_ms", duration_ms(config.shutdown_grace_ms)},
      {"upstream",
       KeyBindings{
           {"url", parsed_field(up.url, parse_optional_upstream_url)},
           {"allowed_hosts", parsed_list(up.allowed_hosts, http::parse_host_pattern)},
           {"verify_tls", bool_field(up.verify_tls)},
           {"ca_file", string_field(up.ca_file)},
           {"connect_timeout_ms", duration_ms(up.connect_timeout_ms)},
           {"response_timeout_ms", duration_ms(up.response_timeout_ms)},
           {"pool_max_idle", bounded(up.pool_max_idle, 0, 100'000)},
           {"pool_idle_timeout_ms", duration_ms(up.pool_idle_timeout_ms)},
           {"dns_servers", parsed_list(up.resolver.dns_servers, net::parse_dns_server)},
           {"resolve", parsed_list(up.resolver.static_endpoints, net::parse_static_endpoint)},
           {"resolve_timeout_ms", duration_ms(up.resolver.timeout)},
           {"dns_min_ttl_ms", bounded(up.resolver.min_ttl, 0, 86'400'000)},
           {"dns_max_ttl_ms", duration_ms(up.resolver.max_ttl)},
           {"failed_address_avoid_ms", bounded(up.resolver.avoid_failed_for, 0, 86'400'000)},
           {"allowed_inward_networks",
            parsed_list(up.resolver.allowed_inward_networks, net::parse_network)},
       }},
      {"limits",
       KeyBindings{
           {"max_header_bytes", bounded(config.limits.max_header_bytes, 1024, 1024 * 1024)},
           {"relay_buffer_bytes",
            bounded(config.limits.relay_buffer_bytes, 4096, 16 * 1024 * 1024)},
           {"max_concurrent_requests",
            bounded(config.limits.admission.max_concurrent_requests, 0, 10'000'000)},
           {"max_buffered_bytes", byte_size(config.limits.admission.max_buffered_bytes)},
       }},
      {"cache",
       KeyBindings{
           {"dir", string_field(config.cache.dir)},
           {"get_ttl_ms", ttl_ms(policy.get_ttl_ms)},
           {"head_ttl_ms", ttl_ms(policy.head_ttl_ms)},
           {"put_ttl_ms", ttl_ms(policy.put_ttl_ms)},
           {"negative_ttl_ms", ttl_ms(policy.negative_ttl_ms)},
           {"block_size", bounded(store.block_size, 4096, 64 * 1024 * 1024)},
           {"merge_gap_bytes", bounded(policy.merge_gap_bytes, 0, 1ll << 30)},
           {"io_threads", bounded(config.cache.io_threads, 0, 256)},
           {"mirror_dir", string_field(config.cache.mirror_dir)},
           {"policy_file", string_field(config.cache.policy_file)},
           {"policy_reload_ms", bounded(config.cache.policy_reload_ms, 100, 3'600'000)},
           {"max_staleness_ms", bounded(store.max_staleness, 0, 86'400'000)},
           {"write_through", bool_field(policy.write_through)},
           {"max_write_object_bytes", bounded(policy.max_write_object_bytes, 0, 5ll << 40)},
           {"max_size", byte_size(fleet.max_size_bytes)},
           {"high_watermark", fraction(fleet.high_watermark)},
           {"low_watermark", fraction(fleet.low_watermark)},
           {"max_written_share", fraction(fleet.max_written_share)},
           {"eviction", choice(fleet.policy, {{"tinylfu", cache::EvictionPolicy::kTinyLfu},
                                              {"lru", cache::EvictionPolicy::kLru}})},
           {"expiry", choice(fleet.active_expiry, {{"lazy", false}, {"active", true}})},
           {"maintenance_interval_ms", duration_ms(fleet.interval)},
           {"lease_ms", duration_ms(fleet.lease_duration)},
           {"protect_ms", bounded(fleet.protect_recent, 0, 86'400'000)},
           {"orphan_age_ms", duration_ms(fleet.sweep.orphan_age)},
           {"tombstone_retention_ms", duration_ms(fleet.sweep.tombstone_retention)},
           {"upload_retention_ms", ttl_ms(fleet.sweep.upload_retention)},
           {"ram_size", byte_size(store.ram_bytes)},
           {"ram_max_entry_bytes", bounded(store.ram_max_entry_bytes, 0, 64ll << 20)},
           {"coalesce_timeout_ms", bounded(policy.coalesce_timeout, 0, 86'400'000)},
           {"finish_abandoned_fill_below", byte_size(policy.abandoned_fills.finish_below_bytes)},
           {"finish_abandoned_fill_percent",
            bounded(policy.abandoned_fills.finish_percent, 0, 100)},
           {"parallel_fill_threshold", byte_size(policy.parallel_fills.threshold_bytes)},
           {"parallel_fill_chunk", byte_size(policy.parallel_fills.chunk_bytes)},
           {"parallel_fill_streams", bounded(policy.parallel_fills.streams, 1, 64)},
           {"read_ahead", bool_field(policy.read_ahead.enabled)},
           {"read_ahead_window", bounded(policy.read_ahead.ranges, 0, 16)},
           {"read_ahead_window_bytes", byte_size(policy.read_ahead.max_bytes)},
           {"sweep_per_round", bounded(fleet.sweep_per_round, 1, 1'000'000)},
       }},
      {"timeouts",
       KeyBindings{
           {"client_idle_ms", duration_ms(config.timeouts.client_idle_ms)},
           {"client_read_ms", duration_ms(config.timeouts.client_read_ms)},
       }},
      {"observability",
       KeyBindings{
           {"instance_id", string_field(config.observability.instance_id)},
           {"otlp_endpoint", parsed_field(otlp.endpoint, obs::parse_otlp_endpoint)},
           {"otlp_interval_ms", bounded(otlp.interval, 100, 86'400'000)},
           {"otlp_timeout_ms", duration_ms(otlp.timeout)},
           {"bucket_metrics", parsed_list(config.observability.buckets.buckets,
                                          [](const std::string& name) { return name; })},
           {"max_bucket_labels",
            bounded(config.observability.buckets.max_buckets, 0, 100'000)},
           {"bucket_rerank_ms",
            bounded(config.observability.buckets.rerank_interval, 1000, 86'400'000)},
           {"access_log", string_field(config.observability.access_log.path)},
           {"access_log_rotate_bytes", byte_size(config.observability.access_log.rotate_bytes)},
           {"access_log_rotate_ms",
            bounded(config.observability.access_log.rotate_interval, 1000, 31'536'000'000)},
           {"access_log_keep_files", bounded(config.observability.access_log.keep_files, 0, 100'000)},
       }},
      {"passthrough",
       KeyBindings{
           {"listen", parsed_field(passthrough.listen, parse_optional_listen_address)},
           {"client_hello_timeout_ms", duration_ms(passthrough.client_hello_timeout)},
           {"idle_timeout_ms", duration_ms(passthrough.idle_timeout)},
           {"max_connections", bounded(passthrough.max_connections, 1, 1'000'000)},
       }},
      {"control",
       KeyBindings{
           {"endpoint", string_field(config.control.endpoint)},
           {"ca_file", string_field(config.control.ca_file)},
           {"policy_file", string_field(config.control.policy_file)},
       }},
  };
}

}  // namespace

http::HostPort parse_listen_address(std::string_view text) {
  if (!text.ends_with(":0")) return http::parse_host_port(text);
  // parse_host_port refuses port 0, rightly for an address to connect to; to bind(), it means
  // "let the kernel choose". The host part is checked with a stand-in port.
  try {
    auto address = http::parse_host_port(std::string(text.substr(0, text.size() - 1)) + "1");
    address.port = 0;
    return address;
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("invalid listen address '" + std::string(text) + "'");
  }
}

std::optional<http::HostPort> parse_optional_listen_address(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return parse_listen_address(text);
}

ProxyConfig parse_config_yaml(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw std::invalid_argument(std::string("YAML syntax: ") + error.what());
  }
  ProxyConfig config;
  if (!root.IsNull()) apply_mapping(root, "", bindings(config));
  return config;
}

std::vector<std::string> config_keys() {
  ProxyConfig scratch;  // the bindings need fields to point at; only their names are read
  return key_names(bindings(scratch));
}

ProxyConfig load_config_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::invalid_argument("cannot read config file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  try {
    return parse_config_yaml(text.str());
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(path + ": " + error.what());
  }
}

void validate(const ProxyConfig& config) {
  if (spdlog::level::from_str(config.log_level) == spdlog::level::off &&
      config.log_level != "off") {
    throw std::invalid_argument("log_level: unknown level '" + config.log_level + "'");
  }
  if (!config.cache.mirror_dir.empty() && !config.cache.dir.empty()) {
    // The mirror is this proxy's own; inside the shared directory, other proxies' sweepers
    // and eviction would see it as stray files.
    const auto mirror = std::filesystem::weakly_canonical(config.cache.mirror_dir);
    const auto shared = std::filesystem::weakly_canonical(config.cache.dir);
    const auto [shared_end, mirror_at] =
        std::mismatch(shared.begin(), shared.end(), mirror.begin(), mirror.end());
    if (shared_end == shared.end()) {
      throw std::invalid_argument("cache.mirror_dir must lie outside cache.dir");
    }
  }
  const auto& resolver = config.upstream.resolver;
  if (resolver.min_ttl > resolver.max_ttl) {
    throw std::invalid_argument(
        "upstream.dns_min_ttl_ms must not exceed upstream.dns_max_ttl_ms");
  }
  const auto& fleet = config.cache.fleet;
  if (fleet.low_watermark > fleet.high_watermark) {
    throw std::invalid_argument("cache.low_watermark must not exceed cache.high_watermark");
  }
  if (fleet.sweep.orphan_age < 2 * fleet.lease_duration) {
    // The sweeper takes temp files older than orphan_age for dead writers' ones; a lease's
    // claim files must outlive a lease.
    throw std::invalid_argument("cache.orphan_age_ms must be at least twice cache.lease_ms");
  }
  if (fleet.lease_duration < 2 * fleet.interval) {
    // The holder renews once per round: a lease shorter than two rounds lapses between them.
    throw std::invalid_argument("cache.lease_ms must be at least twice cache.maintenance_interval_ms");
  }
  if (config.observability.otlp.timeout > config.observability.otlp.interval) {
    // An export must be able to end before the next one is due.
    throw std::invalid_argument(
        "observability.otlp_timeout_ms must not exceed observability.otlp_interval_ms");
  }
  // Two port-0 listeners are not a clash: the kernel gives each its own port.
  const auto same_fixed_address = [](const http::HostPort& a, const http::HostPort& b) {
    return a.port != 0 && a.port == b.port && a.host == b.host;
  };
  if (same_fixed_address(config.listen, config.admin_listen)) {
    throw std::invalid_argument("listen and admin_listen must differ");
  }
  if (const auto& passthrough = config.passthrough.listen;
      passthrough && (same_fixed_address(*passthrough, config.listen) ||
                      same_fixed_address(*passthrough, config.admin_listen))) {
    throw std::invalid_argument("passthrough.listen must differ from listen and admin_listen");
  }
  if (!config.control.endpoint.empty()) {
    // One source of policy: the control plane's, kept in control.policy_file.
    if (!config.cache.policy_file.empty()) {
      throw std::invalid_argument(
          "cache.policy_file and control.endpoint exclude each other: with a control plane, "
          "the policy is the one it pushes (kept in control.policy_file)");
    }
    if (config.control.policy_file.empty()) {
      throw std::invalid_argument("control.policy_file: a control plane's policy needs a file");
    }
  }
}

}  // namespace s3hc::config
