// One proxy's part in the fleet engine: its journal (the object store's observer), its
// maintainer (which does the fleet's housekeeping while it holds the maintenance lease), and
// the background thread that flushes the one and runs the other every interval. It also
// admits or holds back new fills by the fill level and effective capacity the lease holder
// last published, and gathers the fills that found no room (refused here, or ENOSPC reported
// by the request paths): journaled for the holder, told to its own maintainer, and logged
// once per round.
//
// Lifetime: construct, hand observer() to the ObjectStore, start(); stop() (or the destructor)
// joins the thread and gives the lease up. Thread-safety: admits(), lacked_space() and stats()
// from any thread; start() and stop() from the owner's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cache/fill_admission.h"
#include "cache/fleet/fleet_journal.h"
#include "cache/fleet/fleet_maintainer.h"

namespace s3hc::cache {

class FleetEngine final : public FillAdmission {
 public:
  // `proxy_id`: unique per process start ([A-Za-z0-9_-]+; see new_proxy_id()). `on_round`
  // (may be empty) is called on the engine's thread after every round, for metrics. `probe`:
  // the file system's size and free space (null: statvfs of the cache directory). `changes`
  // (may be null): the table of record changes, which counts the records the maintainer
  // removes and is kept on the directory's current file every round (record_changes.h).
  using RoundObserver = std::function<void(const FleetStats&)>;
  FleetEngine(CacheLayout layout, std::string proxy_id, FleetOptions options,
              RoundObserver on_round = {}, std::shared_ptr<const CapacityProbe> probe = nullptr,
              std::shared_ptr<RecordChanges> changes = nullptr);
  ~FleetEngine() override;

  StoreObserver& observer() { return journal_; }

  void start();
  void stop();

  bool admits(std::uint64_t bytes, bool from_write) const override;
  void lacked_space(std::uint64_t bytes) override;
  FleetStats stats() const { return maintainer_.stats(); }

  // One round now, on the caller's thread (tests; the engine's thread does it otherwise).
  void run_round(std::int64_t now_ms) { tick(now_ms, 0); }

  // A fresh id for this process: host name and a random suffix.
  static std::string new_proxy_id();

 private:
  void run();
  void tick(std::int64_t now_ms, int round);
  // Takes the news gathered since the last call.
  SpaceNews take_space_news();

  FleetOptions options_;
  std::shared_ptr<RecordChanges> changes_;
  FleetJournal journal_;
  FleetMaintainer maintainer_;
  RoundObserver on_round_;
  // Fills that found no room since the last round (see SpaceNews).
  mutable std::atomic<std::uint32_t> refused_{0};
  std::atomic<std::uint32_t> no_space_{0};
  mutable std::atomic<std::uint64_t> largest_lacking_{0};
  std::int64_t last_round_ms_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace s3hc::cache
