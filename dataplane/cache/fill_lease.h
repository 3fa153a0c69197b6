// Coalescing of concurrent misses across proxies (and across clients of one proxy): the first
// request to miss some bytes of an object takes a fill lease, a file created with
// O_CREAT|O_EXCL in <root>/fleet/fills/ (not in the object's directory, which a fill the cache
// then refuses would leave behind, unaccounted), and fetches them; the others find the lease and wait
// until it is gone (the fill committed, or failed), then look in the cache again instead of
// fetching. The filler refreshes the file's mtime while its bytes stream in, so a lease whose
// filler died is recognised by its age and taken over; a waiter also gives up after a
// deadline and fetches itself.
//
// A lease is named by the object and what is being filled (the whole object, a Range header, a
// part), hashed: only identical requests coalesce. Its name carries the ".tmp." marker of
// writes in flight, so the sweeper removes one a dead proxy left after orphan_age.
//
// Thread-safety: a FillLease is used by one request at a time; the static functions from any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace s3hc::cache {

// Below the cache root.
inline constexpr std::string_view kFillLeaseDir = "fleet/fills";

enum class FillLeaseState {
  kNone,   // no fill in flight
  kLive,   // another fill is in flight
  kStale,  // a fill whose filler stopped refreshing it: take it over
};

class FillLease {
 public:
  // `fills_dir`: <root>/fleet/fills; `what`: the object's id and what of it is filled.
  // Becomes the filler of `what` (the directory is created if missing); null when a lease
  // exists (live or stale: see probe()).
  static std::unique_ptr<FillLease> try_acquire(const std::string& fills_dir,
                                                std::string_view what);
  // Whether a fill of `what` is in flight: a lease not refreshed for `stale_after` is stale.
  static FillLeaseState probe(const std::string& fills_dir, std::string_view what,
                              std::chrono::milliseconds stale_after);
  // Removes a stale lease so that a waiter can take the fill over.
  static void break_stale(const std::string& fills_dir, std::string_view what);

  ~FillLease();  // the fill is over: waiters look in the cache again
  FillLease(const FillLease&) = delete;
  FillLease& operator=(const FillLease&) = delete;

  // The fill is making progress (bytes arrived); touches the file at most once per second.
  void refresh();

 private:
  explicit FillLease(std::string path) : path_(std::move(path)) {}
  static std::string path_for(const std::string& fills_dir, std::string_view what);

  std::string path_;
  std::chrono::steady_clock::time_point refreshed_ = std::chrono::steady_clock::now();
};

}  // namespace s3hc::cache
