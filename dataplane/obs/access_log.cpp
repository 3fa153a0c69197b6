#include "obs/access_log.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace s3hc::obs {

namespace fs = std::filesystem;

namespace {

// PATH.20261202T205345Z (then .1, .2 ... should that name be taken within one second).
fs::path rotated_name(const std::string& path) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, ".%Y%m%dT%H%M%SZ", &utc);
  fs::path name = path + stamp;
  for (int n = 1; fs::exists(name); ++n) name = path + stamp + "." + std::to_string(n);
  return name;
}

// The rotated files of `path`, oldest first (their names sort by time).
std::vector<fs::path> rotated_files(const std::string& path) {
  const fs::path log(path);
  const auto prefix = log.filename().string() + ".";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(log.parent_path().empty() ? "." : log.parent_path(), ec)) {
    if (entry.path().filename().string().starts_with(prefix)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

AccessLog::AccessLog(AccessLogOptions options, MetricsRegistry& registry)
    : options_(std::move(options)),
      written_(registry.counter("s3hc_access_log_lines_total",
                                "Lines written to the access log.")),
      dropped_(registry.counter("s3hc_access_log_dropped_total",
                                "Access log lines dropped: the writer fell behind.")) {
  open();
  writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void AccessLog::append(std::string line) {
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= kMaxPendingLines) {
      dropped_.inc();
      return;
    }
    pending_.push_back(std::move(line));
  }
  wake_.notify_one();
}

void AccessLog::run() {
  for (;;) {
    std::deque<std::string> lines;
    {
      std::unique_lock lock(mutex_);
      // Woken by lines, or at least once a minute so an idle log still rotates by age.
      wake_.wait_for(lock, std::chrono::minutes(1),
                     [this] { return stopping_ || !pending_.empty(); });
      lines.swap(pending_);
      if (lines.empty() && stopping_) return;
    }
    write(lines);
  }
}

void AccessLog::write(const std::deque<std::string>& lines) {
  try {
    if (!file_.is_open()) open();  // after a rotation that could not reopen
    if (file_bytes_ >= options_.rotate_bytes ||
        std::chrono::steady_clock::now() - opened_at_ >= options_.rotate_interval) {
      rotate();
    }
  } catch (const std::exception&) {
    dropped_.inc(lines.size());  // the directory is gone or unwritable: tried again next time
    return;
  }
  for (const auto& line : lines) {
    file_ << line << '\n';
    file_bytes_ += line.size() + 1;
  }
  file_.flush();
  written_.inc(lines.size());
}

void AccessLog::rotate() {
  if (file_bytes_ == 0) {  // nothing to keep: the same file goes on
    opened_at_ = std::chrono::steady_clock::now();
    return;
  }
  file_.close();
  std::error_code ec;
  fs::rename(options_.path, rotated_name(options_.path), ec);
  auto old = rotated_files(options_.path);
  const auto keep = static_cast<std::size_t>(std::max(options_.keep_files, 0));
  for (std::size_t i = 0; i + keep < old.size(); ++i) fs::remove(old[i], ec);
  open();
}

void AccessLog::open() {
  file_.open(options_.path, std::ios::app);
  if (!file_) throw std::runtime_error("cannot open the access log " + options_.path);
  std::error_code ec;
  const auto size = fs::file_size(options_.path, ec);
  file_bytes_ = ec ? 0 : size;
  opened_at_ = std::chrono::steady_clock::now();
}

}  // namespace s3hc::obs
