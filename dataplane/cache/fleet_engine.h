// One proxy's part in the fleet engine: its journal (the object store's observer), its
// maintainer (which does the fleet's housekeeping while it holds the maintenance lease), and
// the background thread that flushes the one and runs the other every interval. It also
// admits or holds back new fills by the fill level the lease holder last published.
//
// Lifetime: construct, hand observer() to the ObjectStore, start(); stop() (or the destructor)
// joins the thread and gives the lease up. Thread-safety: admits() and stats() from any
// thread; start() and stop() from the owner's.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cache/fill_admission.h"
#include "cache/fleet_journal.h"
#include "cache/fleet_maintainer.h"

namespace s3hc::cache {

class FleetEngine final : public FillAdmission {
 public:
  // `proxy_id`: unique per process start ([A-Za-z0-9_-]+; see new_proxy_id()). `on_round`
  // (may be empty) is called on the engine's thread after every round, for metrics.
  using RoundObserver = std::function<void(const FleetStats&)>;
  FleetEngine(CacheLayout layout, std::string proxy_id, FleetOptions options,
              RoundObserver on_round = {});
  ~FleetEngine() override;

  StoreObserver& observer() { return journal_; }

  void start();
  void stop();

  bool admits(std::uint64_t bytes, bool from_write) const override;
  FleetStats stats() const { return maintainer_.stats(); }

  // A fresh id for this process: host name and a random suffix.
  static std::string new_proxy_id();

 private:
  void run();
  void tick(std::int64_t now_ms, int round);

  FleetOptions options_;
  FleetJournal journal_;
  FleetMaintainer maintainer_;
  RoundObserver on_round_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace s3hc::cache
