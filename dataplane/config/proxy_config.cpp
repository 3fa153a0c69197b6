#include "config/proxy_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

namespace s3hc::config {
namespace {

using FieldSetter = std::function<void(const YAML::Node&, const std::string& key)>;

template <typename T>
T scalar_as(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw std::invalid_argument(key + ": expected a scalar value");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(key + ": invalid value '" + node.Scalar() + "'");
  }
}

// Integer fields with an inclusive range; out-of-range values name the range in the error.
template <typename T>
FieldSetter bounded(T& field, long long min, long long max) {
  return [&field, min, max](const YAML::Node& node, const std::string& key) {
    const auto value = scalar_as<long long>(node, key);
    if (value < min || value > max) {
      throw std::invalid_argument(key + ": must be between " + std::to_string(min) + " and " +
                                  std::to_string(max));
    }
    field = static_cast<T>(value);
  };
}

// Durations in milliseconds: at least 1 ms, at most a day.
FieldSetter duration_ms(int& field) { return bounded(field, 1, 86'400'000); }

// Cache lifetimes: 0 (always revalidate) up to a year.
FieldSetter ttl_ms(std::int64_t& field) { return bounded(field, 0, 365ll * 86'400'000); }

// Shares of a whole: 0 to 1.
FieldSetter fraction(double& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    const auto value = scalar_as<double>(node, key);
    if (!(value >= 0.0 && value <= 1.0)) throw std::invalid_argument(key + ": must be between 0 and 1");
    field = value;
  };
}

// One of a few words.
FieldSetter choice(std::string& field, std::initializer_list<std::string_view> words) {
  std::vector<std::string> allowed(words.begin(), words.end());
  return [&field, allowed](const YAML::Node& node, const std::string& key) {
    auto value = scalar_as<std::string>(node, key);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      std::string list;
      for (const auto& word : allowed) list += (list.empty() ? "" : ", ") + word;
      throw std::invalid_argument(key + ": must be one of " + list);
    }
    field = std::move(value);
  };
}

// Byte counts: a number, or a number with a KiB, MiB, GiB or TiB suffix.
std::uint64_t parse_byte_size(const std::string& text) {
  static const std::pair<std::string_view, std::uint64_t> kSuffixes[] = {
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40}};
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) throw std::invalid_argument("expected bytes, e.g. 500GiB");
  const auto number = std::stoull(text.substr(0, digits));
  const std::string_view suffix = std::string_view(text).substr(digits);
  if (suffix.empty()) return number;
  for (const auto& [name, unit] : kSuffixes) {
    if (suffix != name) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit) {
      throw std::invalid_argument("too large");
    }
    return number * unit;
  }
  throw std::invalid_argument("unknown unit '" + std::string(suffix) + "' (KiB, MiB, GiB, TiB)");
}

FieldSetter string_field(std::string& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    field = scalar_as<std::string>(node, key);
  };
}

FieldSetter bool_field(bool& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    field = scalar_as<bool>(node, key);
  };
}

template <typename T, typename Parser>
FieldSetter parsed_field(T& field, Parser parser) {
  return [&field, parser](const YAML::Node& node, const std::string& key) {
    try {
      field = parser(scalar_as<std::string>(node, key));
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(key + ": " + error.what());
    }
  };
}

// Applies a YAML mapping to fields by key; anything not listed is an error so typos surface.
void apply_mapping(const YAML::Node& mapping, const std::string& prefix,
                   const std::map<std::string, FieldSetter>& setters) {
  if (!mapping.IsMap()) {
    throw std::invalid_argument((prefix.empty() ? "config" : prefix) + ": expected a mapping");
  }
  for (const auto& entry : mapping) {
    const auto name = entry.first.as<std::string>();
    const auto key = prefix.empty() ? name : prefix + "." + name;
    const auto setter = setters.find(name);
    if (setter == setters.end()) throw std::invalid_argument(key + ": unknown key");
    setter->second(entry.second, key);
  }
}

FieldSetter section(std::map<std::string, FieldSetter> setters) {
  return [setters = std::move(setters)](const YAML::Node& node, const std::string& key) {
    apply_mapping(node, key, setters);
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

ProxyConfig parse_config_yaml(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw std::invalid_argument(std::string("YAML syntax: ") + error.what());
  }
  ProxyConfig config;
  if (root.IsNull()) return config;

  UpstreamOptions& up = config.upstream;
  CacheOptions& cache = config.cache;
  apply_mapping(root, "",
                {
                    {"listen", parsed_field(config.listen, parse_listen_address)},
                    {"admin_listen", parsed_field(config.admin_listen, parse_listen_address)},
                    {"ports_file", string_field(config.ports_file)},
                    {"threads", bounded(config.threads, 0, 256)},
                    {"log_level", string_field(config.log_level)},
                    {"shutdown_grace_ms", duration_ms(config.shutdown_grace_ms)},
                    {"upstream",
                     section({
                         {"url", parsed_field(up.url, http::parse_upstream_url)},
                         {"verify_tls", bool_field(up.verify_tls)},
                         {"ca_file", string_field(up.ca_file)},
                         {"connect_timeout_ms", duration_ms(up.connect_timeout_ms)},
                         {"response_timeout_ms", duration_ms(up.response_timeout_ms)},
                         {"pool_max_idle", bounded(up.pool_max_idle, 0, 100'000)},
                         {"pool_idle_timeout_ms", duration_ms(up.pool_idle_timeout_ms)},
                     })},
                    {"limits",
                     section({
                         {"max_header_bytes",
                          bounded(config.limits.max_header_bytes, 1024, 1024 * 1024)},
                         {"relay_buffer_bytes",
                          bounded(config.limits.relay_buffer_bytes, 4096, 16 * 1024 * 1024)},
                     })},
                    {"cache",
                     section({
                         {"dir", string_field(cache.dir)},
                         {"get_ttl_ms", ttl_ms(cache.get_ttl_ms)},
                         {"head_ttl_ms", ttl_ms(cache.head_ttl_ms)},
                         {"put_ttl_ms", ttl_ms(cache.put_ttl_ms)},
                         {"block_size", bounded(cache.block_size, 4096, 64 * 1024 * 1024)},
                         {"merge_gap_bytes", bounded(cache.merge_gap_bytes, 0, 1ll << 30)},
                         {"io_threads", bounded(cache.io_threads, 0, 256)},
                         {"mirror_dir", string_field(cache.mirror_dir)},
                         {"max_staleness_ms", bounded(cache.max_staleness_ms, 0, 86'400'000)},
                         {"write_through", bool_field(cache.write_through)},
                         {"max_write_object_bytes",
                          bounded(cache.max_write_object_bytes, 0, 5ll << 40)},
                         {"max_size", parsed_field(cache.max_size, parse_byte_size)},
                         {"high_watermark", fraction(cache.high_watermark)},
                         {"low_watermark", fraction(cache.low_watermark)},
                         {"max_written_share", fraction(cache.max_written_share)},
                         {"eviction", choice(cache.eviction, {"tinylfu", "lru"})},
                         {"expiry", choice(cache.expiry, {"lazy", "active"})},
                         {"maintenance_interval_ms", duration_ms(cache.maintenance_interval_ms)},
                         {"lease_ms", duration_ms(cache.lease_ms)},
                         {"protect_ms", bounded(cache.protect_ms, 0, 86'400'000)},
                         {"orphan_age_ms", duration_ms(cache.orphan_age_ms)},
                         {"tombstone_retention_ms", duration_ms(cache.tombstone_retention_ms)},
                         {"upload_retention_ms", ttl_ms(cache.upload_retention_ms)},
                         {"ram_size", parsed_field(cache.ram_size, parse_byte_size)},
                         {"ram_max_entry_bytes",
                          bounded(cache.ram_max_entry_bytes, 0, 64ll << 20)},
                         {"coalesce_timeout_ms", bounded(cache.coalesce_timeout_ms, 0, 86'400'000)},
                         {"finish_abandoned_fill_below",
                          parsed_field(cache.finish_abandoned_fill_below, parse_byte_size)},
                         {"finish_abandoned_fill_percent",
                          bounded(cache.finish_abandoned_fill_percent, 0, 100)},
                         {"sweep_per_round", bounded(cache.sweep_per_round, 1, 1'000'000)},
                     })},
                    {"timeouts",
                     section({
                         {"client_idle_ms", duration_ms(config.timeouts.client_idle_ms)},
                         {"client_read_ms", duration_ms(config.timeouts.client_read_ms)},
                     })},
                });
  return config;
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
  if (config.cache.low_watermark > config.cache.high_watermark) {
    throw std::invalid_argument("cache.low_watermark must not exceed cache.high_watermark");
  }
  if (config.cache.orphan_age_ms < 2 * config.cache.lease_ms) {
    // The sweeper takes temp files older than orphan_age for dead writers' ones; a lease's
    // claim files must outlive a lease.
    throw std::invalid_argument("cache.orphan_age_ms must be at least twice cache.lease_ms");
  }
  if (config.cache.lease_ms < 2 * config.cache.maintenance_interval_ms) {
    // The holder renews once per round: a lease shorter than two rounds lapses between them.
    throw std::invalid_argument("cache.lease_ms must be at least twice cache.maintenance_interval_ms");
  }
  // Two port-0 listeners are not a clash: the kernel gives each its own port.
  if (config.listen.port != 0 && config.listen.port == config.admin_listen.port &&
      config.listen.host == config.admin_listen.host) {
    throw std::invalid_argument("listen and admin_listen must differ");
  }
}

}  // namespace s3hc::config
