#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "config/proxy_config.h"

namespace s3hc::config {
namespace {

using namespace std::chrono_literals;

TEST(ConfigTest, EmptyDocumentKeepsDefaults) {
  const auto config = parse_config_yaml("");
  EXPECT_EQ(config.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(config.admin_listen.to_string(), "127.0.0.1:9090");
  EXPECT_FALSE(config.upstream.url);  // requests go where their Host says
  EXPECT_EQ(config.upstream.allowed_hosts.front(), "s3.amazonaws.com");
  EXPECT_EQ(config.limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(config.limits.admission.max_concurrent_requests, 4096u);
  EXPECT_EQ(config.limits.admission.max_buffered_bytes, 1ull << 30);
  EXPECT_TRUE(config.cache.dir.empty());  // caching is opt-in
  EXPECT_EQ(config.cache.policy.get_ttl_ms, 60'000);
}

TEST(ConfigTest, ParsesEveryKey) {
  const auto config = parse_config_yaml(R"(
listen: 127.0.0.1:8081
admin_listen: "[::1]:9191"
threads: 3
log_level: debug
shutdown_grace_ms: 2500
upstream:
  url: http://minio.local:9000
  allowed_hosts: [minio.local, "*.Store.example"]
  verify_tls: false
  ca_file: /etc/ssl/ca.pem
  connect_timeout_ms: 1000
  response_timeout_ms: 2000
  pool_max_idle: 8
  pool_idle_timeout_ms: 3000
limits:
  max_header_bytes: 4096
  relay_buffer_bytes: 65536
  max_concurrent_requests: 0
  max_buffered_bytes: 256MiB
timeouts:
  client_idle_ms: 5000
  client_read_ms: 600
cache:
  dir: /mnt/s3hc
  get_ttl_ms: 0
  head_ttl_ms: 31536000000
  put_ttl_ms: 5000
  block_size: 65536
  merge_gap_bytes: 0
  io_threads: 2
  mirror_dir: /var/lib/s3hc/mirror
  max_staleness_ms: 250
  write_through: false
  max_write_object_bytes: 1000
)");
  EXPECT_EQ(config.listen.port, 8081);
  EXPECT_EQ(config.admin_listen.host, "::1");
  EXPECT_EQ(config.threads, 3);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.shutdown_grace_ms, 2500);
  ASSERT_TRUE(config.upstream.url);
  EXPECT_FALSE(config.upstream.url->tls);
  EXPECT_EQ(config.upstream.url->to_string(), "http://minio.local:9000");
  EXPECT_EQ(config.upstream.allowed_hosts,
            (std::vector<std::string>{"minio.local", "*.store.example"}));
  EXPECT_FALSE(config.upstream.verify_tls);
  EXPECT_EQ(config.upstream.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(config.upstream.connect_timeout_ms, 1000);
  EXPECT_EQ(config.upstream.response_timeout_ms, 2000);
  EXPECT_EQ(config.upstream.pool_max_idle, 8u);
  EXPECT_EQ(config.upstream.pool_idle_timeout_ms, 3000);
  EXPECT_EQ(config.limits.max_header_bytes, 4096u);
  EXPECT_EQ(config.limits.relay_buffer_bytes, 65536u);
  EXPECT_EQ(config.limits.admission.max_concurrent_requests, 0u);  // no limit
  EXPECT_EQ(config.limits.admission.max_buffered_bytes, 256ull << 20);
  EXPECT_EQ(config.timeouts.client_idle_ms, 5000);
  EXPECT_EQ(config.timeouts.client_read_ms, 600);
  EXPECT_EQ(config.cache.dir, "/mnt/s3hc");
  EXPECT_EQ(config.cache.policy.get_ttl_ms, 0);
  EXPECT_EQ(config.cache.policy.head_ttl_ms, 31'536'000'000);
  EXPECT_EQ(config.cache.policy.put_ttl_ms, 5000);
  EXPECT_EQ(config.cache.store.block_size, 65536u);
  EXPECT_EQ(config.cache.policy.merge_gap_bytes, 0u);
  EXPECT_EQ(config.cache.io_threads, 2);
  EXPECT_EQ(config.cache.mirror_dir, "/var/lib/s3hc/mirror");
  EXPECT_EQ(config.cache.store.max_staleness, 250ms);
  EXPECT_FALSE(config.cache.policy.write_through);
  EXPECT_EQ(config.cache.policy.max_write_object_bytes, 1000u);
}

void expect_error_mentions(const std::string& yaml, const std::string& fragment) {
  try {
    parse_config_yaml(yaml);
    FAIL() << "accepted: " << yaml;
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message '" << error.what() << "' lacks '" << fragment << "'";
  }
}

TEST(ConfigTest, RejectsUnknownKeysWithTheirPath) {
  expect_error_mentions("listn: 1.2.3.4:80", "listn: unknown key");
  expect_error_mentions("upstream: {urll: http://x}", "upstream.urll: unknown key");
}

TEST(ConfigTest, RejectsBadValuesNamingTheKey) {
  expect_error_mentions("threads: many", "threads: invalid value");
  expect_error_mentions("threads: 1000", "threads: must be between 0 and 256");
  expect_error_mentions("limits: {max_header_bytes: 10}", "limits.max_header_bytes");
  expect_error_mentions("limits: {max_concurrent_requests: -1}", "limits.max_concurrent_requests");
  expect_error_mentions("timeouts: {client_idle_ms: 0}", "timeouts.client_idle_ms");
  expect_error_mentions("upstream: {url: ftp://x}", "upstream.url");
  expect_error_mentions("listen: nohost", "listen: missing port");
  expect_error_mentions("upstream: [1, 2]", "upstream: expected a mapping");
  expect_error_mentions("listen: [a: {", "YAML syntax");
  expect_error_mentions("cache: {get_ttl_ms: -1}", "cache.get_ttl_ms");
  expect_error_mentions("cache: {block_size: 100}", "cache.block_size");
}

TEST(ConfigTest, ValidateCatchesCrossFieldMistakes) {
  auto config = parse_config_yaml("listen: 127.0.0.1:9090\nadmin_listen: 127.0.0.1:9090");
  EXPECT_THROW(validate(config), std::invalid_argument);
  config = parse_config_yaml("log_level: loud");
  EXPECT_THROW(validate(config), std::invalid_argument);
  EXPECT_NO_THROW(validate(parse_config_yaml("log_level: off")));
  config = parse_config_yaml("cache: {dir: /mnt/cache, mirror_dir: /mnt/cache/mirror}");
  EXPECT_THROW(validate(config), std::invalid_argument);
  EXPECT_NO_THROW(validate(parse_config_yaml("cache: {dir: /mnt/cache, mirror_dir: /var/s3hc}")));
}

TEST(ConfigTest, ParsesTheResolverKeys) {
  const auto config = parse_config_yaml(R"(
upstream:
  dns_servers: ["192.0.2.53", "[2001:db8::53]:5353"]
  resolve:
    - s3.us-east-1.amazonaws.com=http://127.0.0.1:9000
    - "*.s3.us-east-1.amazonaws.com=10.0.0.1:9443"
  resolve_timeout_ms: 700
  dns_min_ttl_ms: 0
  dns_max_ttl_ms: 60000
  failed_address_avoid_ms: 5000
)");
  const auto& resolver = config.upstream.resolver;
  ASSERT_EQ(resolver.dns_servers.size(), 2u);
  EXPECT_EQ(resolver.dns_servers[0].to_string(), "192.0.2.53:53");
  EXPECT_EQ(resolver.dns_servers[1].to_string(), "[2001:db8::53]:5353");
  ASSERT_EQ(resolver.static_endpoints.size(), 2u);
  EXPECT_EQ(resolver.static_endpoints[0].name, "s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(resolver.static_endpoints[0].target.tls);
  EXPECT_EQ(resolver.static_endpoints[1].target.to_string(), "https://10.0.0.1:9443");
  EXPECT_EQ(resolver.timeout, 700ms);
  EXPECT_EQ(resolver.min_ttl, 0ms);
  EXPECT_EQ(resolver.max_ttl, 60s);
  EXPECT_EQ(resolver.avoid_failed_for, 5s);
  EXPECT_TRUE(parse_config_yaml("").upstream.resolver.dns_servers.empty());  // resolv.conf's

  expect_error_mentions("upstream: {dns_servers: 192.0.2.53}",
                        "upstream.dns_servers: expected a list");
  expect_error_mentions("upstream: {dns_servers: [dns.example]}",
                        "upstream.dns_servers: a DNS server");
  expect_error_mentions("upstream: {resolve: [s3.example]}", "upstream.resolve: expected NAME=");
  EXPECT_THROW(
      validate(parse_config_yaml("upstream: {dns_min_ttl_ms: 2000, dns_max_ttl_ms: 1000}")),
      std::invalid_argument);
}

TEST(ConfigTest, MissingFileIsAClearError) {
  EXPECT_THROW(load_config_file("/nonexistent/s3hc.yaml"), std::invalid_argument);
}

TEST(ConfigTest, FleetKeysDefaults) {
  const auto fleet = parse_config_yaml("").cache.fleet;
  EXPECT_EQ(fleet.max_size_bytes, 0u);
  EXPECT_DOUBLE_EQ(fleet.high_watermark, 0.9);
  EXPECT_DOUBLE_EQ(fleet.low_watermark, 0.8);
  EXPECT_DOUBLE_EQ(fleet.max_written_share, 0.5);
  EXPECT_EQ(fleet.policy, cache::EvictionPolicy::kTinyLfu);
  EXPECT_FALSE(fleet.active_expiry);
  EXPECT_EQ(fleet.interval, 1000ms);
  EXPECT_EQ(fleet.lease_duration, 10000ms);
  EXPECT_EQ(fleet.protect_recent, 10000ms);
  EXPECT_EQ(fleet.sweep.orphan_age, 3'600'000ms);
  EXPECT_EQ(fleet.sweep.tombstone_retention, 3'600'000ms);
  EXPECT_EQ(fleet.sweep.upload_retention, 604'800'000ms);
  EXPECT_EQ(fleet.sweep_per_round, 256u);
  EXPECT_NO_THROW(validate(parse_config_yaml("")));
}

TEST(ConfigTest, ParsesEveryFleetKey) {
  const auto config = parse_config_yaml(R"(
cache:
  dir: /mnt/s3hc
  max_size: 500GiB
  high_watermark: 0.95
  low_watermark: 0.7
  max_written_share: 0.25
  eviction: lru
  expiry: active
  maintenance_interval_ms: 500
  lease_ms: 4000
  protect_ms: 0
  orphan_age_ms: 7200000
  tombstone_retention_ms: 1800000
  upload_retention_ms: 0
  sweep_per_round: 32
)");
  const auto& fleet = config.cache.fleet;
  EXPECT_EQ(fleet.max_size_bytes, 500ull << 30);
  EXPECT_DOUBLE_EQ(fleet.high_watermark, 0.95);
  EXPECT_DOUBLE_EQ(fleet.low_watermark, 0.7);
  EXPECT_DOUBLE_EQ(fleet.max_written_share, 0.25);
  EXPECT_EQ(fleet.policy, cache::EvictionPolicy::kLru);
  EXPECT_TRUE(fleet.active_expiry);
  EXPECT_EQ(fleet.interval, 500ms);
  EXPECT_EQ(fleet.lease_duration, 4000ms);
  EXPECT_EQ(fleet.protect_recent, 0ms);
  EXPECT_EQ(fleet.sweep.orphan_age, 7'200'000ms);
  EXPECT_EQ(fleet.sweep.tombstone_retention, 1'800'000ms);
  EXPECT_EQ(fleet.sweep.upload_retention, 0ms);
  EXPECT_EQ(fleet.sweep_per_round, 32u);
  EXPECT_NO_THROW(validate(config));
}

TEST(ConfigTest, MaxSizeTakesBytesOrBinaryUnits) {
  const auto max_size = [](const std::string& value) {
    return parse_config_yaml("cache: {max_size: " + value + "}").cache.fleet.max_size_bytes;
  };
  EXPECT_EQ(max_size("0"), 0u);
  EXPECT_EQ(max_size("1234"), 1234u);
  EXPECT_EQ(max_size("1KiB"), 1024u);
  EXPECT_EQ(max_size("3MiB"), 3ull << 20);
  EXPECT_EQ(max_size("500GiB"), 500ull << 30);
  EXPECT_EQ(max_size("2TiB"), 2ull << 40);
  EXPECT_EQ(max_size("\"10GiB\""), 10ull << 30);  // quoted in YAML: the same
}

TEST(ConfigTest, MaxSizeErrorsNameTheKey) {
  expect_error_mentions("cache: {max_size: 10GB}", "cache.max_size: unknown unit 'GB'");
  expect_error_mentions("cache: {max_size: 10kib}", "cache.max_size: unknown unit 'kib'");
  expect_error_mentions("cache: {max_size: 1.5GiB}", "cache.max_size");
  expect_error_mentions("cache: {max_size: 10 GiB}", "cache.max_size");
  expect_error_mentions("cache: {max_size: GiB}", "cache.max_size: expected bytes");
  expect_error_mentions("cache: {max_size: -1}", "cache.max_size");
  expect_error_mentions("cache: {max_size: \"\"}", "cache.max_size");
  expect_error_mentions("cache: {max_size: [1]}", "cache.max_size: expected a scalar");
}

TEST(ConfigTest, MaxSizeThatOverflowsIsRejected) {

  expect_error_mentions("cache: {max_size: 16777216TiB}", "cache.max_size");
  expect_error_mentions("cache: {max_size: 999999999999999TiB}", "cache.max_size");
  // The largest that fits is still accepted.
  EXPECT_EQ(parse_config_yaml("cache: {max_size: 16777215TiB}").cache.fleet.max_size_bytes,
            16777215ull << 40);
}

TEST(ConfigTest, SharesMustLieBetweenZeroAndOne) {
  expect_error_mentions("cache: {high_watermark: 1.5}", "cache.high_watermark: must be between 0 and 1");
  expect_error_mentions("cache: {low_watermark: -0.1}", "cache.low_watermark: must be between 0 and 1");
  expect_error_mentions("cache: {max_written_share: 2}", "cache.max_written_share");
  expect_error_mentions("cache: {high_watermark: .nan}", "cache.high_watermark");
  expect_error_mentions("cache: {low_watermark: half}", "cache.low_watermark: invalid value");
  EXPECT_DOUBLE_EQ(parse_config_yaml("cache: {high_watermark: 1}").cache.fleet.high_watermark, 1.0);
  EXPECT_DOUBLE_EQ(parse_config_yaml("cache: {low_watermark: 0}").cache.fleet.low_watermark, 0.0);
}

TEST(ConfigTest, EvictionAndExpiryAreChoices) {
  const auto fleet = [](const std::string& yaml) { return parse_config_yaml(yaml).cache.fleet; };
  EXPECT_EQ(fleet("cache: {eviction: lru}").policy, cache::EvictionPolicy::kLru);
  EXPECT_EQ(fleet("cache: {eviction: tinylfu}").policy, cache::EvictionPolicy::kTinyLfu);
  EXPECT_TRUE(fleet("cache: {expiry: active}").active_expiry);
  EXPECT_FALSE(fleet("cache: {expiry: lazy}").active_expiry);
  expect_error_mentions("cache: {eviction: lfu}", "cache.eviction: must be one of tinylfu, lru");
  expect_error_mentions("cache: {eviction: LRU}", "cache.eviction");
  expect_error_mentions("cache: {expiry: eager}", "cache.expiry: must be one of lazy, active");
}

TEST(ConfigTest, FleetDurationsAndCountsHaveRanges) {
  expect_error_mentions("cache: {maintenance_interval_ms: 0}", "cache.maintenance_interval_ms");
  expect_error_mentions("cache: {lease_ms: 0}", "cache.lease_ms");
  expect_error_mentions("cache: {protect_ms: -1}", "cache.protect_ms");
  expect_error_mentions("cache: {orphan_age_ms: 0}", "cache.orphan_age_ms");
  expect_error_mentions("cache: {tombstone_retention_ms: 86400001}",
                        "cache.tombstone_retention_ms: must be between 1 and 86400000");
  expect_error_mentions("cache: {upload_retention_ms: -5}", "cache.upload_retention_ms");
  expect_error_mentions("cache: {sweep_per_round: 0}", "cache.sweep_per_round");
  expect_error_mentions("cache: {sweep_pre_round: 5}", "cache.sweep_pre_round: unknown key");
}

TEST(ConfigTest, ValidateWantsTheLowWatermarkNotAboveTheHigh) {
  try {
    validate(parse_config_yaml("cache: {high_watermark: 0.7, low_watermark: 0.8}"));
    FAIL() << "accepted low_watermark above high_watermark";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("cache.low_watermark"), std::string::npos)
        << error.what();
  }
  EXPECT_NO_THROW(validate(parse_config_yaml("cache: {high_watermark: 0.8, low_watermark: 0.8}")));
  // Either order in the file: the check is on the values.
  EXPECT_THROW(validate(parse_config_yaml("cache: {low_watermark: 0.95}")), std::invalid_argument);
  EXPECT_NO_THROW(validate(parse_config_yaml("cache: {low_watermark: 0.95, high_watermark: 0.99}")));
}

TEST(ConfigTest, ValidateWantsALeaseOfAtLeastTwoIntervals) {
  try {
    validate(parse_config_yaml("cache: {maintenance_interval_ms: 1000, lease_ms: 1999}"));
    FAIL() << "accepted a lease shorter than two rounds";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("cache.lease_ms"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(validate(parse_config_yaml("cache: {maintenance_interval_ms: 1000, lease_ms: 2000}")));
  // Against the default lease of 10 s.
  EXPECT_NO_THROW(validate(parse_config_yaml("cache: {maintenance_interval_ms: 5000}")));
  EXPECT_THROW(validate(parse_config_yaml("cache: {maintenance_interval_ms: 5001}")),
               std::invalid_argument);
  // And the default interval of 1 s.
  EXPECT_THROW(validate(parse_config_yaml("cache: {lease_ms: 1000}")), std::invalid_argument);
}

TEST(ConfigTest, OtlpExportIsOffUntilAnEndpointIsSet) {
  const auto config = parse_config_yaml("");
  EXPECT_FALSE(config.observability.otlp.endpoint);
  EXPECT_EQ(config.observability.otlp.interval, 10s);
  EXPECT_EQ(config.observability.otlp.timeout, 5s);
  EXPECT_TRUE(config.observability.instance_id.empty());
  EXPECT_FALSE(parse_config_yaml("observability: {otlp_endpoint: ''}").observability.otlp.endpoint);
}

TEST(ConfigTest, ParsesTheObservabilityKeys) {
  const auto config = parse_config_yaml(R"(
observability:
  instance_id: proxy-7
  otlp_endpoint: http://collector:4318
  otlp_interval_ms: 2000
  otlp_timeout_ms: 1500
)");
  const auto& observability = config.observability;
  EXPECT_EQ(observability.instance_id, "proxy-7");
  ASSERT_TRUE(observability.otlp.endpoint);
  EXPECT_EQ(observability.otlp.endpoint->host, "collector");
  EXPECT_EQ(observability.otlp.endpoint->port, 4318);
  EXPECT_EQ(observability.otlp.endpoint->path, "/v1/metrics");
  EXPECT_EQ(observability.otlp.interval, 2s);
  EXPECT_EQ(observability.otlp.timeout, 1500ms);
  EXPECT_NO_THROW(validate(config));
}

TEST(ConfigTest, RefusesAnOtlpEndpointItCannotReach) {
  try {
    parse_config_yaml("observability: {otlp_endpoint: 'https://collector:4318'}");
    FAIL() << "https accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("observability.otlp_endpoint"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("https:// is not supported"), std::string::npos);
  }
  EXPECT_THROW(parse_config_yaml("observability: {otlp_endpoint: 'collector:4318'}"),
               std::invalid_argument);
  EXPECT_THROW(parse_config_yaml("observability: {otlp_interval_ms: 99}"), std::invalid_argument);
}

TEST(ConfigTest, ValidateWantsAnOtlpTimeoutWithinTheInterval) {
  EXPECT_THROW(
      validate(parse_config_yaml("observability: {otlp_interval_ms: 1000, otlp_timeout_ms: 1001}")),
      std::invalid_argument);
  EXPECT_NO_THROW(
      validate(parse_config_yaml("observability: {otlp_interval_ms: 1000, otlp_timeout_ms: 1000}")));
}

TEST(ConfigTest, PassthroughIsOffUntilItListens) {
  const auto defaults = parse_config_yaml("");
  EXPECT_FALSE(defaults.passthrough.listen);
  EXPECT_EQ(defaults.passthrough.client_hello_timeout, 5s);
  EXPECT_EQ(defaults.passthrough.idle_timeout, 300s);
  EXPECT_EQ(defaults.passthrough.max_connections, 10'000u);
  EXPECT_FALSE(parse_config_yaml("passthrough: {listen: ''}").passthrough.listen);
  const auto config = parse_config_yaml(R"(
passthrough:
  listen: 0.0.0.0:443
  client_hello_timeout_ms: 2000
  idle_timeout_ms: 60000
  max_connections: 500
)");
  ASSERT_TRUE(config.passthrough.listen);
  EXPECT_EQ(config.passthrough.listen->to_string(), "0.0.0.0:443");
  EXPECT_EQ(config.passthrough.client_hello_timeout, 2s);
  EXPECT_EQ(config.passthrough.idle_timeout, 60s);
  EXPECT_EQ(config.passthrough.max_connections, 500u);
  EXPECT_EQ(parse_config_yaml("passthrough: {listen: '127.0.0.1:0'}").passthrough.listen->port, 0);
  EXPECT_THROW(parse_config_yaml("passthrough: {listen: '443'}"), std::invalid_argument);
  EXPECT_THROW(parse_config_yaml("passthrough: {max_connections: 0}"), std::invalid_argument);
}

TEST(ConfigTest, ValidateWantsThePassthroughOnAnAddressOfItsOwn) {
  EXPECT_THROW(validate(parse_config_yaml("listen: 0.0.0.0:8080\n"
                                          "passthrough: {listen: '0.0.0.0:8080'}")),
               std::invalid_argument);
  EXPECT_THROW(validate(parse_config_yaml("admin_listen: 127.0.0.1:9090\n"
                                          "passthrough: {listen: '127.0.0.1:9090'}")),
               std::invalid_argument);
  // Port 0 everywhere: the kernel gives each its own.
  EXPECT_NO_THROW(validate(parse_config_yaml(
      "listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\npassthrough: {listen: '127.0.0.1:0'}")));
}

TEST(ConfigTest, TheExampleConfigLoadsAndTurnsTheFleetFeaturesOn) {
  const auto config = load_config_file(std::string(S3HC_SOURCE_DIR) + "/config/s3hc.example.yaml");
  validate(config);
  EXPECT_EQ(config.cache.dir, "/var/cache/s3hc");
  EXPECT_EQ(config.cache.fleet.max_size_bytes, 50ull << 30);
  EXPECT_EQ(config.cache.store.ram_bytes, 64ull << 20);
  EXPECT_EQ(config.cache.fleet.policy, cache::EvictionPolicy::kTinyLfu);
}

}  // namespace
}  // namespace s3hc::config
