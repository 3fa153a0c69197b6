// The access log file (docs/OBSERVABILITY.md), written off the request path: requests hand
// their line over (a short lock, no I/O) and a thread of its own appends them, so a slow or
// full disk never delays an answer: past kMaxPendingLines waiting lines, new ones are dropped
// and counted. The file is rotated by size and by age (renamed with its UTC time, the oldest
// beyond `keep_files` deleted).
//
// Thread-safety: append() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "obs/metrics.h"

namespace s3hc::obs {

struct AccessLogOptions {
  // The log file; empty: no access log. Default: "".
  std::string path;
  // Rotated once this large... Default: 100 MiB.
  std::uint64_t rotate_bytes = 100ull << 20;
  // ...or this old. Default: 1 hour.
  std::chrono::milliseconds rotate_interval{3'600'000};
  // Rotated files kept; older ones are deleted. Default: 24.
  int keep_files = 24;
};

class AccessLog {
 public:
  static constexpr std::size_t kMaxPendingLines = 65536;

  // Opens (appends to) options.path; throws std::runtime_error when it cannot.
  AccessLog(AccessLogOptions options, MetricsRegistry& registry);
  // Writes what is pending, then stops.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues one line (without its end of line).
  void append(std::string line);

 private:
  void run();
  void write(const std::deque<std::string>& lines);
  void rotate();
  void open();

  const AccessLogOptions options_;
  Counter& written_;
  Counter& dropped_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> pending_;
  bool stopping_ = false;
  // The writer thread's own:
  std::ofstream file_;
  std::uint64_t file_bytes_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  std::thread writer_;  // last: starts once everything above is ready
};

}  // namespace s3hc::obs
