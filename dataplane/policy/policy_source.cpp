#include "policy/policy_source.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "policy/policy_file.h"

namespace s3hc::policy {

PolicySource::PolicySource(std::string path, std::chrono::milliseconds interval,
                           LoadObserver on_load, Numbering numbering)
    : path_(std::move(path)),
      interval_(interval),
      on_load_(std::move(on_load)),
      numbering_(numbering),
      stop_(::eventfd(0, EFD_CLOEXEC)),
      inotify_(watch_directory()) {
  const auto seen = cache::stamp_of_path(path_);
  auto compiled = load_policy_file(path_);
  if (!compiled.matcher) {
    std::string faults;
    for (const auto& error : compiled.errors) faults += "\n  " + error;
    throw std::runtime_error("policy " + path_ + " is invalid:" + faults);
  }
  last_seen_ = seen;
  current_.store(std::make_shared<const PolicyMatcher>(std::move(*compiled.matcher)));
  applied_ = 1;
  version_ = version_of(*current_.load());
  if (on_load_) on_load_(version_, false);
  spdlog::info("policy {}: version {}, {} rules", path_, version_.load(),
               current_.load()->snapshot().rules_size());
  thread_ = std::thread([this] { watch(); });
}

PolicySource::~PolicySource() {
  const std::uint64_t one = 1;
  if (::write(stop_.get(), &one, sizeof(one)) < 0) spdlog::warn("policy watcher: cannot stop");
  if (thread_.joinable()) thread_.join();
}

bool PolicySource::reload_if_changed() {
  std::lock_guard lock(reload_mutex_);
  const auto seen = cache::stamp_of_path(path_);
  if (seen == last_seen_) return false;
  last_seen_ = seen;  // a faulty file is reported once, not every interval
  return apply(seen);
}

bool PolicySource::apply(const std::optional<cache::FileStamp>& seen) {
  auto compiled = !seen ? CompiledPolicy{.matcher = std::nullopt, .errors = {"the file is gone"}}
                        : load_policy_file(path_);
  if (!compiled.matcher) {
    spdlog::error("policy {}: not applied, version {} stays in force:", path_, version_.load());
    for (const auto& error : compiled.errors) spdlog::error("  {}", error);
    if (on_load_) on_load_(version_, true);
    return false;
  }
  auto matcher = std::make_shared<const PolicyMatcher>(std::move(*compiled.matcher));
  ++applied_;
  const auto version = version_of(*matcher);
  spdlog::info("policy {}: version {} applied, {} rules", path_, version,
               matcher->snapshot().rules_size());
  current_.store(std::move(matcher));
  version_ = version;
  if (on_load_) on_load_(version, false);
  return true;
}

std::uint64_t PolicySource::version_of(const PolicyMatcher& matcher) const {
  const auto numbered = matcher.snapshot().version();
  return numbered != 0 || numbering_ == Numbering::kSnapshotOnly ? numbered : applied_;
}

util::UniqueFd PolicySource::watch_directory() const {
  // The directory is watched, not the file: tools replace a file by renaming a new one over
  // it, which a watch on the old file would miss. Without inotify (out of watches, say) the
  // periodic stat alone still finds every change.
  util::UniqueFd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  const auto dir = std::filesystem::path(path_).parent_path().string();
  if (inotify.get() < 0 ||
      ::inotify_add_watch(inotify.get(), dir.empty() ? "." : dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
    spdlog::warn("policy {}: no inotify watch ({}); looked at every {} ms", path_,
                 std::strerror(errno), interval_.count());
  }
  return inotify;
}

void PolicySource::watch() {
  std::array<pollfd, 2> fds{{{stop_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}}};
  for (;;) {
    fds[0].revents = fds[1].revents = 0;
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(interval_.count()));
    if (ready > 0 && (fds[0].revents & POLLIN)) return;
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      std::array<char, 4096> events;  // drained; which file changed does not matter
      while (::read(inotify_.get(), events.data(), events.size()) > 0) {
      }
    }
    reload_if_changed();
  }
}

}  // namespace s3hc::policy
