#include <gtest/gtest.h>

#include <stdexcept>

#include "config/proxy_config.h"

namespace s3hc::config {
namespace {

TEST(ConfigTest, EmptyDocumentKeepsDefaults) {
  const auto config = parse_config_yaml("");
  EXPECT_EQ(config.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(config.admin_listen.to_string(), "127.0.0.1:9090");
  EXPECT_TRUE(config.upstream.url.tls);
  EXPECT_EQ(config.upstream.url.host, "s3.amazonaws.com");
  EXPECT_EQ(config.limits.max_header_bytes, 16u * 1024);
  EXPECT_TRUE(config.cache.dir.empty());  // caching is opt-in
  EXPECT_EQ(config.cache.get_ttl_ms, 60'000);
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
  verify_tls: false
  ca_file: /etc/ssl/ca.pem
  connect_timeout_ms: 1000
  response_timeout_ms: 2000
  pool_max_idle: 8
  pool_idle_timeout_ms: 3000
limits:
  max_header_bytes: 4096
  relay_buffer_bytes: 65536
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
  mirror_recheck_ms: 250
  write_through: false
  max_write_object_bytes: 1000
)");
  EXPECT_EQ(config.listen.port, 8081);
  EXPECT_EQ(config.admin_listen.host, "::1");
  EXPECT_EQ(config.threads, 3);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.shutdown_grace_ms, 2500);
  EXPECT_FALSE(config.upstream.url.tls);
  EXPECT_EQ(config.upstream.url.to_string(), "http://minio.local:9000");
  EXPECT_FALSE(config.upstream.verify_tls);
  EXPECT_EQ(config.upstream.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(config.upstream.connect_timeout_ms, 1000);
  EXPECT_EQ(config.upstream.response_timeout_ms, 2000);
  EXPECT_EQ(config.upstream.pool_max_idle, 8u);
  EXPECT_EQ(config.upstream.pool_idle_timeout_ms, 3000);
  EXPECT_EQ(config.limits.max_header_bytes, 4096u);
  EXPECT_EQ(config.limits.relay_buffer_bytes, 65536u);
  EXPECT_EQ(config.timeouts.client_idle_ms, 5000);
  EXPECT_EQ(config.timeouts.client_read_ms, 600);
  EXPECT_EQ(config.cache.dir, "/mnt/s3hc");
  EXPECT_EQ(config.cache.get_ttl_ms, 0);
  EXPECT_EQ(config.cache.head_ttl_ms, 31'536'000'000);
  EXPECT_EQ(config.cache.put_ttl_ms, 5000);
  EXPECT_EQ(config.cache.block_size, 65536u);
  EXPECT_EQ(config.cache.merge_gap_bytes, 0u);
  EXPECT_EQ(config.cache.io_threads, 2);
  EXPECT_EQ(config.cache.mirror_dir, "/var/lib/s3hc/mirror");
  EXPECT_EQ(config.cache.mirror_recheck_ms, 250);
  EXPECT_FALSE(config.cache.write_through);
  EXPECT_EQ(config.cache.max_write_object_bytes, 1000u);
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

TEST(ConfigTest, MissingFileIsAClearError) {
  EXPECT_THROW(load_config_file("/nonexistent/s3hc.yaml"), std::invalid_argument);
}

}  // namespace
}  // namespace s3hc::config
