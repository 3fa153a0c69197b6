// The rules the read and write paths follow for every cached object: freshness, partial-hit
// merging, write-through, coalescing, abandoned and parallel fills. Keys of the YAML section `cache`
// (docs/CONFIGURATION.md), loaded once at start-up; a policy file (docs/POLICY.md) may change
// some of them per object, for one request at a time (object_policy.h).
#pragma once

#include <chrono>
#include <cstdint>

namespace s3hc::pipeline {

// When a fill with no reader left still finishes (fill_producer.h).
struct AbandonedFills {
  // When the bytes it fetches are at most this many... Default: 64 MiB.
  std::uint64_t finish_below_bytes = 64 * 1024 * 1024;
  // ...or when at least this percentage of them has arrived. Default: 50.
  int finish_percent = 50;

  // `done` of `total` bytes fetched.
  bool finishes(std::uint64_t done, std::uint64_t total) const {
    return total <= finish_below_bytes ||
           done * 100 >= total * static_cast<std::uint64_t>(finish_percent);
  }
};

// When a miss of a whole object is fetched as several concurrent ranged requests
// (ranged_body.h): only for a plain GET whose signature leaves Range and If-Match to the proxy.
struct ParallelFills {
  // Objects larger than this. 0: never. Default: 64 MiB.
  std::uint64_t threshold_bytes = 64 * 1024 * 1024;
  // The bytes each ranged request asks for. Default: 8 MiB.
  std::uint64_t chunk_bytes = 8 * 1024 * 1024;
  // Origin requests at a time per object (the first, whole-object one included), and chunks
  // held in memory while they wait for their turn. Default: 4.
  int streams = 4;

  bool apply_to(std::uint64_t object_bytes) const {
    return threshold_bytes > 0 && chunk_bytes > 0 && streams > 1 &&
           object_bytes > threshold_bytes && object_bytes > chunk_bytes;
  }
};

// Sequential read-ahead (read_ahead.h): the ranges that follow a client's consecutive ranged
// reads of an object, fetched into the cache ahead of it when its signature leaves Range to the
// proxy.
struct ReadAhead {
  // Default: true.
  bool enabled = true;
  // Ranges of the client's own length fetched ahead of the one it reads. 0: none. Default: 2.
  int ranges = 2;
  // The most bytes ahead of the one it reads. Default: 32 MiB.
  std::uint64_t max_bytes = 32 * 1024 * 1024;

  bool on() const { return enabled && ranges > 0 && max_bytes > 0; }
};

struct CachePolicy {
  // How long a cached object answers without asking the origin, from the origin's last
  // confirmation: for GET, for HEAD, and (both) for objects written through the proxy. 0:
  // every read is revalidated with the client's own request. Defaults: 60 s each.
  std::int64_t get_ttl_ms = 60'000;
  std::int64_t head_ttl_ms = 60'000;
  std::int64_t put_ttl_ms = 60'000;
  // How long S3's 404 to a read is answered from the cache (negative caching), from when it
  // was asked; any write of the key through the fleet ends it at once. 0: never (the default:
  // a key created straight at S3 would otherwise stay missing this long).
  std::int64_t negative_ttl_ms = 0;
  // A cached stretch shorter than this between two missing parts of a request is fetched
  // again with them: one origin request instead of two. Default: 256 KiB.
  std::uint64_t merge_gap_bytes = 256 * 1024;
  // Reads are answered from and fill the cache. No key: set per object by the policy file
  // (docs/POLICY.md). Default: true.
  bool read_caching = true;
  // A client's Cache-Control is honoured: no-cache (or Pragma: no-cache) fetches from the
  // origin and refreshes the cache, no-store forwards without caching. No key: set per object
  // by the policy file. Default: true.
  bool client_cache_control = true;
  // Cached bytes may be compressed (cache/store/compression_policy.h still decides which), and
  // answers of a fitting size are kept in the RAM tier. No keys: set per object by the policy
  // file. Defaults: true.
  bool compression = true;
  bool ram_tier = true;
  // PutObject bodies and multipart uploads are cached as they stream. Default: true.
  bool write_through = true;
  // Larger written objects are forwarded but not cached. Default: 1 GiB.
  std::uint64_t max_write_object_bytes = 1ull << 30;
  // Larger objects read are forwarded but not cached. No key: set per object by the policy
  // file. Default: no limit.
  std::uint64_t max_read_object_bytes = ~std::uint64_t{0};
  // Longest a miss waits for another request's fill of the same bytes (coalescing); zero: no
  // coalescing. Default: 30 s.
  std::chrono::milliseconds coalesce_timeout{30'000};
  AbandonedFills abandoned_fills;
  ParallelFills parallel_fills;
  ReadAhead read_ahead;
};

}  // namespace s3hc::pipeline
