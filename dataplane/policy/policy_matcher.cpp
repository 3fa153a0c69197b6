#include "policy/policy_matcher.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "util/glob.h"

namespace s3hc::policy {
namespace {

// Larger is more specific (the header's precedence; the negated index puts the rule listed
// first ahead of later ones).
auto specificity(const v1::PolicyRule& rule, int index) {
  const std::size_t literal =
      !rule.prefix().empty() ? rule.prefix().size() : util::glob_literal_length(rule.glob());
  return std::make_tuple(!rule.bucket().empty(), literal, !rule.prefix().empty(), -index);
}

using Rules = google::protobuf::RepeatedPtrField<v1::PolicyRule>;

// Orders indices of `rules` most specific first.
void sort_by_precedence(std::vector<int>& indices, const Rules& rules) {
  std::sort(indices.begin(), indices.end(), [&rules](int a, int b) {
    return specificity(rules[a], a) > specificity(rules[b], b);
  });
}

bool matches(const v1::PolicyRule& rule, std::string_view bucket, std::string_view key) {
  if (!rule.bucket().empty() && rule.bucket() != bucket) return false;
  if (!rule.prefix().empty()) return key.starts_with(rule.prefix());
  if (!rule.glob().empty()) return util::glob_matches(rule.glob(), key);
  return true;
}

void check_settings(const v1::PolicySettings& settings, const std::string& where,
                    std::vector<std::string>& errors) {
  const std::pair<bool, const char*> negative[] = {
      {settings.has_get_ttl_ms() && settings.get_ttl_ms() < 0, "get_ttl_ms"},
      {settings.has_head_ttl_ms() && settings.head_ttl_ms() < 0, "head_ttl_ms"},
      {settings.has_put_ttl_ms() && settings.put_ttl_ms() < 0, "put_ttl_ms"},
      {settings.has_negative_ttl_ms() && settings.negative_ttl_ms() < 0, "negative_ttl_ms"},
  };
  for (const auto& [is_negative, name] : negative) {
    if (is_negative) errors.push_back(where + "." + name + ": must not be negative");
  }
}

std::vector<std::string> check(const v1::PolicySnapshot& snapshot) {
  std::vector<std::string> errors;
  check_settings(snapshot.defaults(), "defaults", errors);
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (int i = 0; i < snapshot.rules_size(); ++i) {
    const auto& rule = snapshot.rules(i);
    const auto where = "rules[" + std::to_string(i) + "]";
    if (rule.bucket().find_first_of("/*?") != std::string::npos) {
      errors.push_back(where + ".bucket: a bucket is named exactly (no '/', '*' or '?')");
    }
    if (!rule.prefix().empty() && !rule.glob().empty()) {
      errors.push_back(where + ": a prefix or a glob, not both");
    }
    if (!seen.insert({rule.bucket(), rule.prefix(), rule.glob()}).second) {
      errors.push_back(where + ": the same objects as an earlier rule (merge the two)");
    }
    check_settings(rule.settings(), where + ".settings", errors);
  }
  return errors;
}

}  // namespace

CompiledPolicy PolicyMatcher::compile(v1::PolicySnapshot snapshot) {
  auto errors = check(snapshot);
  if (!errors.empty()) return {.matcher = std::nullopt, .errors = std::move(errors)};
  return {.matcher = PolicyMatcher(std::move(snapshot)), .errors = {}};
}

PolicyMatcher::PolicyMatcher(v1::PolicySnapshot snapshot) : snapshot_(std::move(snapshot)) {
  const auto& rules = snapshot_.rules();
  for (int i = 0; i < rules.size(); ++i) {
    if (rules[i].bucket().empty()) {
      any_bucket_.push_back(i);
    } else {
      by_bucket_[rules[i].bucket()].push_back(i);
    }
  }
  sort_by_precedence(any_bucket_, rules);
  for (auto& [bucket, indices] : by_bucket_) {
    indices.insert(indices.end(), any_bucket_.begin(), any_bucket_.end());
    sort_by_precedence(indices, rules);
  }
}

const std::vector<int>& PolicyMatcher::candidates(std::string_view bucket) const {
  const auto found = by_bucket_.find(std::string(bucket));
  return found == by_bucket_.end() ? any_bucket_ : found->second;
}

std::vector<const v1::PolicyRule*> PolicyMatcher::by_precedence() const {
  std::vector<int> indices(static_cast<std::size_t>(snapshot_.rules_size()));
  for (int i = 0; i < snapshot_.rules_size(); ++i) indices[static_cast<std::size_t>(i)] = i;
  sort_by_precedence(indices, snapshot_.rules());
  std::vector<const v1::PolicyRule*> ordered;
  for (const int i : indices) ordered.push_back(&snapshot_.rules(i));
  return ordered;
}

std::vector<const v1::PolicyRule*> PolicyMatcher::matching(std::string_view bucket,
                                                           std::string_view key) const {
  std::vector<const v1::PolicyRule*> found;
  for (const int i : candidates(bucket)) {
    const auto& rule = snapshot_.rules(i);
    if (matches(rule, bucket, key)) found.push_back(&rule);
  }
  return found;
}

v1::PolicySettings PolicyMatcher::settings_for(std::string_view bucket,
                                               std::string_view key) const {
  auto settings = snapshot_.defaults();
  const auto rules = matching(bucket, key);
  for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
    settings.MergeFrom((*rule)->settings());
  }
  return settings;
}

}  // namespace s3hc::policy
