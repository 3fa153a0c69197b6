// Options of s3hc-proxy, as plain structs with their defaults, set by the keys of its YAML file
// (docs/CONFIGURATION.md; tests/unit/config_docs_test.cpp checks that it documents every key
// the loader knows, and no other). A key's default is written once: in the options struct of
// the module it configures, which the sections here embed (http::UpstreamOptions, the cache
// modules' options, pipeline::CachePolicy, obs::OtlpExporterOptions, http::AdmissionOptions,
// passthrough::PassthroughOptions, control::ControlOptions), or here for the proxy's own keys. Loaded once at start-up;
// nothing here changes at run time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/fleet/fleet_maintainer.h"
#include "cache/store/object_store.h"
#include "control/control_options.h"
#include "http/admission.h"
#include "http/endpoint.h"
#include "http/upstream_options.h"
#include "obs/access_log.h"
#include "obs/bucket_metrics.h"
#include "obs/otlp_exporter.h"
#include "passthrough/passthrough_options.h"
#include "pipeline/cache_policy.h"

namespace s3hc::config {

struct LimitsOptions {
  // Largest request header section accepted from a client (request line included). Default: 16384.
  std::size_t max_header_bytes = 16 * 1024;
  // Size of each relay buffer (one per direction per connection): bounds memory per
  // connection whatever the object size. Default: 131072.
  std::size_t relay_buffer_bytes = 128 * 1024;
  // Overload protection (max_concurrent_requests, max_buffered_bytes): defaults in its struct.
  http::AdmissionOptions admission;
};

struct TimeoutOptions {
  // A keep-alive connection with no request started is closed after this. Default: 60000.
  int client_idle_ms = 60000;
  // A client that stalls this long inside a request (headers or body) gets 400 RequestTimeout.
  // Also bounds each write to a client. Default: 20000.
  int client_read_ms = 20000;
};

struct CacheOptions {
  // The cache directory, shared by every proxy of a fleet (an NFS mount in production).
  // Empty = no caching: every request is forwarded. Default: "".
  std::string dir;
  // Threads doing cache file I/O, so a slow disk or NFS server never stalls an event loop.
  // 0: the event loops do it themselves (faster for a local disk whose files the page cache
  // holds; never for NFS). Default: 4.
  int io_threads = 4;
  // Local RocksDB mirror of the records this proxy has seen, on a local disk (never the shared
  // directory); empty = every lookup reads the shared record. Default: "".
  std::string mirror_dir;
  // Per-bucket/prefix policy file (docs/POLICY.md), YAML or JSON; empty = the keys below apply
  // to every object. Read again when it changes (inotify, and a stat every policy_reload_ms).
  // Defaults: "", 2000.
  std::string policy_file;
  int policy_reload_ms = 2000;
  // The section's other keys configure the cache's modules and the read and write paths: their
  // defaults are those of these options structs, and proxy_config.cpp maps each key onto its
  // field. Fields no key sets (the store's cheap_stats and max_fill_age, the fleet's
  // snapshot_interval and ttls) the proxy works out from the others when it opens the cache.
  cache::ObjectStoreOptions store;
  cache::FleetOptions fleet;
  pipeline::CachePolicy policy;
};

struct ObservabilityOptions {
  // This proxy's name among its fleet's, as OTLP exports report it (service.instance.id).
  // Empty: HOST:PORT, the host's name and the S3 listener's port. Default: "".
  std::string instance_id;
  // The OTLP/HTTP metrics export (docs/OBSERVABILITY.md): off until an endpoint is set.
  obs::OtlpExporterOptions otlp;
  // Which buckets get metrics of their own (docs/OBSERVABILITY.md).
  obs::BucketMetricsOptions buckets;
  // The access log in S3's format (docs/OBSERVABILITY.md): off until a path is set.
  obs::AccessLogOptions access_log;
};

struct ProxyConfig {
  // S3 listener for clients; port 0 = any free port (see ports_file). YAML: listen.
  // Default: 0.0.0.0:8080
  http::HostPort listen{"0.0.0.0", 8080};
  // Health and metrics listener; port 0 = any free port. YAML: admin_listen.
  // Default: 127.0.0.1:9090
  http::HostPort admin_listen{"127.0.0.1", 9090};
  // Once every listener is bound, and before any client is served, their ports are written
  // here as {"listen":P,"admin":A} (and "passthrough":T when that listener is on; atomically:
  // a reader sees all of it or nothing), so whoever gave port 0 learns the ports chosen.
  // Empty = no file. YAML: ports_file.
  // Default: "".
  std::string ports_file;
  // Worker threads, each with its own event loop; 0 = one per core. Default: 0.
  int threads = 0;
  // trace, debug, info, warn, error or off. Default: info.
  std::string log_level = "info";
  // On SIGTERM/SIGINT: stop accepting, let requests in flight finish for up to this long,
  // then exit. Default: 10000.
  int shutdown_grace_ms = 10000;
  http::UpstreamOptions upstream;
  LimitsOptions limits;
  TimeoutOptions timeouts;
  CacheOptions cache;
  ObservabilityOptions observability;
  passthrough::PassthroughOptions passthrough;
  control::ControlOptions control;
};

// Parses YAML text into a config starting from the defaults. Unknown keys and values of the
// wrong type or range throw std::invalid_argument naming the key.
ProxyConfig parse_config_yaml(const std::string& yaml_text);

// Every key parse_config_yaml accepts, dotted ("cache.dir"), in the loader's order.
std::vector<std::string> config_keys();

// Parses a listen address: HOST:PORT as http::parse_host_port does, and also HOST:0, "any
// free port". Throws std::invalid_argument naming the text.
http::HostPort parse_listen_address(std::string_view text);

// An optional listen address: "" for none, else as parse_listen_address.
std::optional<http::HostPort> parse_optional_listen_address(std::string_view text);

// Reads and parses a file; also throws std::invalid_argument when it cannot be read.
ProxyConfig load_config_file(const std::string& path);

// Checks cross-field constraints (called after command-line overrides are applied).
void validate(const ProxyConfig& config);

}  // namespace s3hc::config
