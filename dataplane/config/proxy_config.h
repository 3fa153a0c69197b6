// Options of s3hc-proxy, as plain structs with their defaults. docs/CONFIGURATION.md documents
// every field here under the same YAML key; keep the two in step. Loaded once at start-up;
// nothing here changes at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/endpoint.h"

namespace s3hc::config {

struct UpstreamOptions {
  // Where every request is forwarded. YAML: upstream.url. Default: https://s3.amazonaws.com
  http::UpstreamUrl url = http::parse_upstream_url("https://s3.amazonaws.com");
  // Verify the origin's certificate chain and name (HTTPS only). Default: true.
  bool verify_tls = true;
  // PEM bundle of trusted CAs; empty = the system store. Default: "".
  std::string ca_file;
  // Time allowed to resolve and connect (and finish the TLS handshake). Default: 5000.
  int connect_timeout_ms = 5000;
  // Time allowed between sending a request and the first response header byte, and
  // between two reads or writes of a body. Default: 60000.
  int response_timeout_ms = 60000;
  // Idle keep-alive connections kept per worker thread. Default: 64.
  std::size_t pool_max_idle = 64;
  // An idle pooled connection older than this is closed, not reused. Default: 15000.
  int pool_idle_timeout_ms = 15000;
};

struct LimitsOptions {
  // Largest request header section accepted from a client (request line included). Default: 16384.
  std::size_t max_header_bytes = 16 * 1024;
  // Size of each relay buffer (one per direction per connection): bounds memory per
  // connection whatever the object size. Default: 131072.
  std::size_t relay_buffer_bytes = 128 * 1024;
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
  // Empty = no caching: every request is forwarded. YAML: cache.dir. Default: "".
  std::string dir;
  // How long a cached object is served without asking the origin, from the last time the
  // origin confirmed it: for GET, for HEAD, and for objects written through the proxy.
  // 0 = every read is revalidated with the client's own request (IAM decides every access).
  // Defaults: 60000 each.
  std::int64_t get_ttl_ms = 60'000;
  std::int64_t head_ttl_ms = 60'000;
  std::int64_t put_ttl_ms = 60'000;
  // Decoded bytes per block of a range file, the unit of partial reads. Default: 1048576.
  std::size_t block_size = 1024 * 1024;
  // A cached stretch shorter than this between two missing parts of a request is fetched
  // again with them: one origin request instead of two. Default: 262144.
  std::size_t merge_gap_bytes = 256 * 1024;
  // Threads doing cache file I/O, so a slow disk or NFS server never stalls an event loop.
  // 0: the event loops do it themselves (faster for a local disk whose files the page cache
  // holds; never for NFS). Default: 4.
  int io_threads = 4;
  // Local RocksDB mirror of the records this proxy has seen, on a local disk (never the shared
  // directory); empty = every lookup reads the shared record. Default: "".
  std::string mirror_dir;
  // Staleness allowed across proxies: how long a record this proxy holds (mirror, RAM tier)
  // is served without confirming that the shared one is still the same. 0 = strict: a write
  // through any proxy is seen by every read through every proxy that starts after it was
  // answered, at the cost of one stat of the shared record per hit. Default: 0.
  int max_staleness_ms = 0;
  // Objects written through the proxy (PUT, multipart uploads) are cached as they stream.
  // Default: true.
  bool write_through = true;
  // Larger written objects are forwarded but not cached. Default: 1073741824 (1 GiB).
  std::uint64_t max_write_object_bytes = 1ull << 30;

  // Capacity of the shared directory, as du counts it; bytes, or with a KiB/MiB/GiB/TiB
  // suffix. 0 = unlimited (sizes are still accounted). Default: 0.
  std::uint64_t max_size = 0;
  // Eviction starts above high_watermark x max_size and stops at low_watermark x max_size.
  // Defaults: 0.9 and 0.8.
  double high_watermark = 0.9;
  double low_watermark = 0.8;
  // Share of max_size that objects written through the proxies may take; beyond it writes
  // are forwarded without being cached. Default: 0.5.
  double max_written_share = 0.5;
  // Eviction policy: tinylfu (frequency and recency, scan-resistant) or lru. Default: tinylfu.
  std::string eviction = "tinylfu";
  // lazy: expired objects stay until evicted (preferred as victims) and are revalidated when
  // read; active: the maintenance lease holder also drops them before the cache is full.
  // Default: lazy.
  std::string expiry = "lazy";
  // Period of the fleet engine's rounds (journal flush, maintenance by the lease holder).
  // Default: 1000.
  int maintenance_interval_ms = 1000;
  // How long the maintenance lease lasts without renewal: a killed holder's successor takes
  // over after this (plus a fifth for clock skew). Default: 10000.
  int lease_ms = 10000;
  // Objects stored or read less than this long ago are never evicted. Default: 10000.
  int protect_ms = 10000;
  // Temp files and unnamed range files older than this are a dead writer's and are swept;
  // also the longest a fill may take and still be committed. Default: 3600000 (1 h).
  int orphan_age_ms = 3'600'000;
  // Invalidation tombstones are kept this long. Default: 3600000 (1 h).
  int tombstone_retention_ms = 3'600'000;
  // Multipart uploads untouched this long are abandoned and swept. Default: 604800000 (7 d).
  std::int64_t upload_retention_ms = 7ll * 86'400'000;
  // The RAM tier: bytes of this proxy's memory for hot records and small ranges (bytes or
  // with a KiB/MiB/GiB suffix); 0 = none. Default: 67108864 (64 MiB).
  std::uint64_t ram_size = 64ull << 20;
  // Longest range kept in the RAM tier (one block by default). Default: 1048576 (1 MiB).
  std::uint64_t ram_max_entry_bytes = 1024 * 1024;
  // Longest a miss waits for another request (on any proxy) filling the same bytes before
  // fetching them itself; 0 = no coalescing. Default: 30000.
  int coalesce_timeout_ms = 30'000;
  // A fill whose every reader hung up still finishes when the bytes it fetches are at most
  // this many (bytes or with a KiB/MiB/GiB suffix)... Default: 67108864 (64 MiB).
  std::uint64_t finish_abandoned_fill_below = 64ull << 20;
  // ...or when at least this percentage of them has arrived; otherwise it stops, committing
  // nothing. 0-100. Default: 50.
  int finish_abandoned_fill_percent = 50;
  // Cache directories the sweeper visits per round. Default: 256.
  int sweep_per_round = 256;
};

struct ProxyConfig {
  // S3 listener for clients; port 0 = any free port (see ports_file). YAML: listen.
  // Default: 0.0.0.0:8080
  http::HostPort listen{"0.0.0.0", 8080};
  // Health and metrics listener; port 0 = any free port. YAML: admin_listen.
  // Default: 127.0.0.1:9090
  http::HostPort admin_listen{"127.0.0.1", 9090};
  // Once both listeners are bound, and before any client is served, their ports are written
  // here as {"listen":P,"admin":A} (atomically: a reader sees all of it or nothing), so
  // whoever gave port 0 learns the ports chosen. Empty = no file. YAML: ports_file.
  // Default: "".
  std::string ports_file;
  // Worker threads, each with its own event loop; 0 = one per core. Default: 0.
  int threads = 0;
  // trace, debug, info, warn, error or off. Default: info.
  std::string log_level = "info";
  // On SIGTERM/SIGINT: stop accepting, let requests in flight finish for up to this long,
  // then exit. Default: 10000.
  int shutdown_grace_ms = 10000;
  UpstreamOptions upstream;
  LimitsOptions limits;
  TimeoutOptions timeouts;
  CacheOptions cache;
};

// Parses YAML text into a config starting from the defaults. Unknown keys and values of the
// wrong type or range throw std::invalid_argument naming the key.
ProxyConfig parse_config_yaml(const std::string& yaml_text);

// Parses a listen address: HOST:PORT as http::parse_host_port does, and also HOST:0, "any
// free port". Throws std::invalid_argument naming the text.
http::HostPort parse_listen_address(std::string_view text);

// Reads and parses a file; also throws std::invalid_argument when it cannot be read.
ProxyConfig load_config_file(const std::string& path);

// Checks cross-field constraints (called after command-line overrides are applied).
void validate(const ProxyConfig& config);

}  // namespace s3hc::config
