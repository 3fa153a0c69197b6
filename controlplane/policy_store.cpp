#include "controlplane/policy_store.h"

#include <cstdio>

#include "policy/policy_matcher.h"
#include "util/wall_clock.h"

namespace s3hc::control {

namespace {

constexpr std::string_view kPolicyPrefix = "policy/";

std::string key_of(std::uint64_t version) {
  char digits[21];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(version));
  return std::string(kPolicyPrefix) + digits;
}

}  // namespace

PolicyStore::PolicyStore(ControlDatabase& database) : database_(database) {
  const auto newest = history(1);
  if (!newest.empty()) in_force_ = newest.front().version();
}

std::optional<v1::PolicyRevision> PolicyStore::current() const {
  std::uint64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    version = in_force_;
  }
  return version == 0 ? std::nullopt : at(version);
}

std::optional<v1::PolicyRevision> PolicyStore::at(std::uint64_t version) const {
  const auto value = database_.get(key_of(version));
  v1::PolicyRevision revision;
  if (!value || !revision.ParseFromString(*value)) return std::nullopt;
  return revision;
}

std::vector<v1::PolicyRevision> PolicyStore::history(std::size_t limit) const {
  std::vector<v1::PolicyRevision> revisions;
  database_.scan(kPolicyPrefix, true, [&](std::string_view, std::string_view value) {
    v1::PolicyRevision revision;
    if (revision.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      revisions.push_back(std::move(revision));
    }
    return limit == 0 || revisions.size() < limit;
  });
  return revisions;
}

PolicyChange PolicyStore::put(v1::PolicySnapshot snapshot, std::uint64_t expected_version,
                              std::string comment) {
  return store(std::move(snapshot), expected_version, std::move(comment), 0);
}

PolicyChange PolicyStore::rollback(std::uint64_t to, std::uint64_t expected_version,
                                   std::string comment) {
  auto earlier = at(to);
  if (!earlier) return PolicyVersionUnknown{};
  return store(std::move(*earlier->mutable_snapshot()), expected_version, std::move(comment),
               to);
}

PolicyChange PolicyStore::store(v1::PolicySnapshot snapshot, std::uint64_t expected_version,
                                std::string comment, std::uint64_t rolled_back_to) {
  std::unique_lock lock(mutex_);
  if (expected_version != in_force_) return PolicyConflict{in_force_};
  const auto version = in_force_ + 1;
  snapshot.set_version(version);
  auto compiled = policy::PolicyMatcher::compile(snapshot);
  if (!compiled.matcher) return PolicyInvalid{std::move(compiled.errors)};
  v1::PolicyRevision revision;
  revision.set_version(version);
  *revision.mutable_snapshot() = std::move(snapshot);
  revision.set_set_unix_ms(util::unix_now_ms());
  revision.set_comment(std::move(comment));
  revision.set_rolled_back_to(rolled_back_to);
  database_.put(key_of(version), revision.SerializeAsString(), true);
  in_force_ = version;
  lock.unlock();
  changed_.notify_all();
  return revision;
}

std::optional<v1::PolicyRevision> PolicyStore::wait_for_newer(
    std::uint64_t known, std::chrono::steady_clock::time_point deadline) const {
  std::uint64_t version = 0;
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [&] { return in_force_ > known; })) {
      return std::nullopt;
    }
    version = in_force_;
  }
  return at(version);
}

}  // namespace s3hc::control
