#include "cache/fleet/fleet_engine.h"
#include "util/wall_clock.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <random>

namespace s3hc::cache {
namespace {

// What a new object costs on disk beyond its bytes: its directory, its record, the range
// file's header, index and block rounding (du counts allocated blocks).
constexpr std::uint64_t kDirectoryOverheadBytes = 16 * 1024;

void raise_to(std::atomic<std::uint64_t>& value, std::uint64_t at_least) {
  auto seen = value.load(std::memory_order_relaxed);
  while (seen < at_least && !value.compare_exchange_weak(seen, at_least)) {
  }
}

}  // namespace

FleetEngine::FleetEngine(CacheLayout layout, std::string proxy_id, FleetOptions options,
                         RoundObserver on_round, std::shared_ptr<const CapacityProbe> probe,
                         std::shared_ptr<RecordChanges> changes)
    : options_(options),
      changes_(changes),
      journal_(FleetMaintainer::journal_dir(layout), proxy_id, options.ttls),
      maintainer_(std::move(layout), std::move(proxy_id), options, std::move(probe),
                  std::move(changes)),
      on_round_(std::move(on_round)) {}

FleetEngine::~FleetEngine() { stop(); }

std::string FleetEngine::new_proxy_id() {
  char host[64] = {};
  ::gethostname(host, sizeof(host) - 1);
  std::string id;
  for (const char* c = host; *c; ++c) {
    const bool safe = std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '_';
    id += safe ? *c : '_';
  }
  std::random_device random;
  id += '-';
  id += std::to_string(random());
  return id;
}

void FleetEngine::start() { thread_ = std::thread([this] { run(); }); }

void FleetEngine::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void FleetEngine::run() {
  std::unique_lock lock(mutex_);
  for (int round = 0; !stopping_; ++round) {
    lock.unlock();
    tick(util::unix_now_ms(), round);
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
  lock.unlock();
  // Last news out and the lease given up, so that another proxy takes over at once.
  try {
    journal_.flush();
    maintainer_.release(util::unix_now_ms());
  } catch (const std::exception& error) {
    spdlog::warn("cache maintenance: {}", error.what());
  }
}

void FleetEngine::tick(std::int64_t now_ms, int round) {
  const auto news = take_space_news();
  // A failing shared directory (full, unmounted, deleted) must not end the thread: the next
  // round tries again.
  try {
    if (changes_) changes_->follow_path();
    if (round % kJournalRotationRounds == kJournalRotationRounds - 1) journal_.rotate();
    journal_.lacked_room(news);
    journal_.flush();
    maintainer_.round(now_ms, news);
    if (on_round_) on_round_(maintainer_.stats());
  } catch (const std::exception& error) {
    spdlog::warn("cache maintenance: {}", error.what());
  }
  // One line per round, however many fills the full file system cost.
  if (news.no_space != 0) {
    spdlog::warn(
        "cache file system full: {} fills dropped for lack of space in the last {} ms; the cache "
        "may now take {} bytes (0: unlimited); the lease holder evicts to make room",
        news.no_space, last_round_ms_ ? now_ms - last_round_ms_ : 0,
        maintainer_.stats().capacity_bytes);
  }
  last_round_ms_ = now_ms;
}

SpaceNews FleetEngine::take_space_news() {
  return {.refused = refused_.exchange(0),
          .no_space = no_space_.exchange(0),
          .largest_bytes = largest_lacking_.exchange(0)};
}

void FleetEngine::lacked_space(std::uint64_t bytes) {
  no_space_.fetch_add(1);
  raise_to(largest_lacking_, bytes + kDirectoryOverheadBytes);
}

bool FleetEngine::admits(std::uint64_t bytes, bool from_write) const {
  const auto usage = maintainer_.usage();
  if (!usage) return true;  // nothing published yet: an empty cache
  // The holder's effective capacity (the file system's share), never above our own max_size.
  const auto limit = tighter_limit(options_.max_size_bytes, usage->effective_capacity_bytes());
  if (limit == 0) return true;
  const auto after =
      journal_.unaccounted_growth(usage->at_unix_ms()) + bytes + kDirectoryOverheadBytes;
  if (usage->total_bytes() + after > limit) {
    // The holder makes room for it at its next round (cache/capacity.h, eviction_target).
    refused_.fetch_add(1);
    raise_to(largest_lacking_, bytes + kDirectoryOverheadBytes);
    return false;
  }
  return !from_write ||
         usage->written_bytes() + after <=
             static_cast<std::uint64_t>(static_cast<double>(limit) * options_.max_written_share);
}

}  // namespace s3hc::cache
