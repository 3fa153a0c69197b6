#include "policy/policy_source.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <stdexcept>

#include "policy/policy_file.h"

namespace s3hc::policy {

PolicySource::PolicySource(std::string path, std::chrono::milliseconds interval,
                           LoadObserver on_load)
    : path_(std::move(path)), interval_(interval), on_load_(std::move(on_load)) {
  const auto seen = identity();
  auto compiled = load_policy_file(path_);
  if (!compiled.matcher) {
    std::string faults;
    for (const auto& error : compiled.errors) faults += "\n  " + error;
    throw std::runtime_error("policy " + path_ + " is invalid:" + faults);
  }
  last_seen_ = seen;
  current_.store(std::make_shared<const PolicyMatcher>(std::move(*compiled.matcher)));
  applied_ = 1;
  version_ = current_.load()->snapshot().version() ? current_.load()->snapshot().version() : 1;
  if (on_load_) on_load_(version_, false);
  spdlog::info("policy {}: version {}, {} rules", path_, version_.load(),
               current_.load()->snapshot().rules_size());
  thread_ = std::thread([this] { watch(); });
}

PolicySource::~PolicySource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PolicySource::FileIdentity PolicySource::identity() const {
  struct stat status {};
  if (::stat(path_.c_str(), &status) != 0) return {};
  return {.inode = status.st_ino,
          .size = static_cast<std::uint64_t>(status.st_size),
          .mtime_ns = status.st_mtim.tv_sec * 1'000'000'000LL + status.st_mtim.tv_nsec};
}

bool PolicySource::reload_if_changed() {
  std::lock_guard lock(reload_mutex_);
  const auto seen = identity();
  if (seen == last_seen_) return false;
  last_seen_ = seen;  // a faulty file is reported once, not every interval
  return apply(seen);
}

bool PolicySource::apply(const FileIdentity& seen) {
  auto compiled = seen == FileIdentity{} ? CompiledPolicy{.matcher = std::nullopt,
                                                          .errors = {"the file is gone"}}
                                         : load_policy_file(path_);
  if (!compiled.matcher) {
    spdlog::error("policy {}: not applied, version {} stays in force:", path_, version_.load());
    for (const auto& error : compiled.errors) spdlog::error("  {}", error);
    if (on_load_) on_load_(version_, true);
    return false;
  }
  auto matcher = std::make_shared<const PolicyMatcher>(std::move(*compiled.matcher));
  ++applied_;
  const auto version = matcher->snapshot().version() ? matcher->snapshot().version() : applied_;
  spdlog::info("policy {}: version {} applied, {} rules", path_, version,
               matcher->snapshot().rules_size());
  current_.store(std::move(matcher));
  version_ = version;
  if (on_load_) on_load_(version, false);
  return true;
}

void PolicySource::watch() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    reload_if_changed();
    lock.lock();
  }
}

}  // namespace s3hc::policy
