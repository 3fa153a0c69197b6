#include "obs/bucket_metrics.h"

#include <algorithm>

namespace s3hc::obs {

namespace {

// Answers whose bytes came from the cache (saved from the origin), and those that came from
// the origin, by X-Cache word. A partial hit's bytes came from both: counted as the origin's,
// the cautious side of a saving.
bool from_cache(std::string_view status) {
  return status == "HIT" || status == "REVALIDATED" || status == "COALESCED";
}

// What a request weighs in a bucket's score besides its bytes: at S3's list prices a GET
// request costs about what 4 KiB of transfer out does.
constexpr std::uint64_t kRequestScore = 4096;

std::size_t status_index(std::string_view status) {
  constexpr auto& statuses = BucketMetrics::kStatuses;
  const auto found = std::find(statuses.begin(), statuses.end() - 1, status);
  return static_cast<std::size_t>(found - statuses.begin());  // "none" when not found
}

// One histogram per cache status of the family.
template <std::size_t N>
std::array<Histogram*, N> by_status(Family<Histogram>& family,
                                    const std::array<std::string_view, N>& statuses) {
  std::array<Histogram*, N> histograms{};
  for (std::size_t i = 0; i < N; ++i) histograms[i] = &family.with({std::string(statuses[i])});
  return histograms;
}

}  // namespace

BucketMetrics::BucketMetrics(MetricsRegistry& registry, BucketMetricsOptions options)
    : options_(std::move(options)),
      requests_(registry.counter_family("s3hc_bucket_requests_total",
                                        "Requests by bucket and cache status (X-Cache; none "
                                        "for requests without one).",
                                        {"bucket", "cache_status"})),
      sent_(registry.counter_family("s3hc_bucket_sent_bytes_total",
                                    "Bytes sent to clients (headers included), by bucket.",
                                    {"bucket"})),
      from_origin_(registry.counter_family(
          "s3hc_bucket_origin_bytes_total",
          "Bytes sent to clients that came from the origin (MISS, BYPASS, PARTIAL, no cache "
          "status), by bucket.",
          {"bucket"})),
      saved_(registry.counter_family(
          "s3hc_bucket_saved_bytes_total",
          "Bytes sent to clients from the cache instead of the origin (HIT, REVALIDATED, "
          "COALESCED), by bucket.",
          {"bucket"})),
      written_(registry.counter_family(
          "s3hc_bucket_written_bytes_total",
          "Bytes received from clients writing objects (headers included), by bucket.",
          {"bucket"})),
      first_byte_(by_status(
          registry.histogram_family("s3hc_request_first_byte_seconds",
                                    "Time to the first byte of the answer, by cache status.",
                                    {"cache_status"}, exponential_buckets(0.0005, 2, 16)),
          kStatuses)),
      total_(by_status(
          registry.histogram_family("s3hc_request_seconds",
                                    "Time to the answer's last byte, by cache status.",
                                    {"cache_status"}, exponential_buckets(0.0005, 2, 16)),
          kStatuses)) {}

const std::string* BucketMetrics::prefix_entry(std::string_view bucket,
                                               std::string_view key) const {
  const std::string* longest = nullptr;
  for (const auto& entry : options_.buckets) {
    const auto slash = entry.find('/');
    if (slash == std::string::npos || std::string_view(entry).substr(0, slash) != bucket) continue;
    const bool under = key.starts_with(std::string_view(entry).substr(slash + 1));
    if (under && (!longest || entry.size() > longest->size())) longest = &entry;
  }
  return longest;
}

BucketMetrics::Counters BucketMetrics::make_counters(const std::string& label, bool ranked) {
  const std::vector<std::string> labels{label};
  Counters counters;
  counters.ranked = ranked;
  counters.sent = &sent_.with(labels);
  counters.from_origin = &from_origin_.with(labels);
  counters.saved = &saved_.with(labels);
  counters.written = &written_.with(labels);
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    counters.requests[i] = &requests_.with({label, std::string(kStatuses[i])});
  }
  return counters;
}

BucketMetrics::Counters& BucketMetrics::counters_of(std::string_view bucket,
                                                    std::string_view key, std::uint64_t score) {
  const auto* prefix = prefix_entry(bucket, key);
  const std::string name(prefix ? std::string_view(*prefix) : bucket);
  if (const auto found = labelled_.find(name); found != labelled_.end()) {
    found->second.score += score;
    return found->second;
  }
  const bool configured =
      prefix ||
      std::find(options_.buckets.begin(), options_.buckets.end(), bucket) != options_.buckets.end();
  if (configured) return labelled_.emplace(name, make_counters(name, false)).first->second;
  if (unconfigured_ < options_.max_buckets) {  // a free label
    ++unconfigured_;
    auto& counters = labelled_.emplace(name, make_counters(name, true)).first->second;
    counters.score = score;
    return counters;
  }
  count_unlabelled(name, score);
  const std::string other(kOther);
  if (const auto found = labelled_.find(other); found != labelled_.end()) return found->second;
  return labelled_.emplace(other, make_counters(other, false)).first->second;
}

void BucketMetrics::count_unlabelled(std::string_view bucket, std::uint64_t score) {
  const std::string name(bucket);
  if (const auto found = unlabelled_.find(name); found != unlabelled_.end()) {
    found->second.score += score;
    return;
  }
  const auto capacity = 4 * options_.max_buckets;
  if (capacity == 0) return;  // no label to win
  std::uint64_t inherited = 0;
  if (unlabelled_.size() >= capacity) {
    const auto least = std::min_element(
        unlabelled_.begin(), unlabelled_.end(),
        [](const auto& a, const auto& b) { return a.second.score < b.second.score; });
    inherited = least->second.score;
    unlabelled_.erase(least);
  }
  unlabelled_.emplace(name, Tracked{.score = inherited + score, .inherited = inherited});
}

void BucketMetrics::demote(const std::string& bucket) {
  const auto found = labelled_.find(bucket);
  const Counters gone = found->second;
  labelled_.erase(found);
  --unconfigured_;
  const std::string other(kOther);
  auto into = labelled_.find(other);
  if (into == labelled_.end()) into = labelled_.emplace(other, make_counters(other, false)).first;
  auto& kept = into->second;
  kept.sent->inc(gone.sent->value());
  kept.from_origin->inc(gone.from_origin->value());
  kept.saved->inc(gone.saved->value());
  kept.written->inc(gone.written->value());
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    kept.requests[i]->inc(gone.requests[i]->value());
    requests_.remove({bucket, std::string(kStatuses[i])});
  }
  const std::vector<std::string> labels{bucket};
  for (auto* family : {&sent_, &from_origin_, &saved_, &written_}) family->remove(labels);
  unlabelled_.emplace(bucket, Tracked{.score = gone.score, .inherited = 0});
}

void BucketMetrics::rerank() {
  std::lock_guard lock(mutex_);
  rerank_locked();
}

void BucketMetrics::rerank_locked() {
  std::vector<std::pair<std::uint64_t, std::string>> held;  // quietest first
  for (const auto& [label, counters] : labelled_) {
    if (counters.ranked) held.emplace_back(counters.score, label);
  }
  std::sort(held.begin(), held.end());
  // Busiest first, by what they surely did: a score inherited from an evicted entry may be
  // none of theirs.
  std::vector<std::pair<std::uint64_t, std::string>> waiting;
  for (const auto& [bucket, tracked] : unlabelled_) {
    waiting.emplace_back(tracked.score - tracked.inherited, bucket);
  }
  std::sort(waiting.begin(), waiting.end(), std::greater<>());
  for (std::size_t i = 0; i < std::min(held.size(), waiting.size()); ++i) {
    const auto& [score, bucket] = waiting[i];
    if (score < 2 * held[i].first + 1) break;  // twice as busy, or no change
    demote(held[i].second);
    unlabelled_.erase(bucket);
    ++unconfigured_;
    labelled_.emplace(bucket, make_counters(bucket, true)).first->second.score = score;
  }
  for (auto& [label, counters] : labelled_) counters.score /= 2;
  for (auto& [bucket, tracked] : unlabelled_) {
    tracked.score /= 2;
    tracked.inherited /= 2;
  }
}

void BucketMetrics::record(const BucketRequest& request) {
  const auto status = status_index(request.cache_status);
  const auto score = request.sent_bytes + request.received_bytes + kRequestScore;
  {
    // Counted under the lock: a ranking may remove the series of a label meanwhile.
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_rerank_) {
      if (next_rerank_ != std::chrono::steady_clock::time_point()) rerank_locked();
      next_rerank_ = now + options_.rerank_interval;
    }
    auto& counters = counters_of(request.bucket, request.key, score);
    counters.sent->inc(request.sent_bytes);
    (from_cache(request.cache_status) ? counters.saved : counters.from_origin)
        ->inc(request.sent_bytes);
    if (request.write) counters.written->inc(request.received_bytes);
    counters.requests[status]->inc();
  }
  if (request.first_byte_seconds >= 0) first_byte_[status]->observe(request.first_byte_seconds);
  total_[status]->observe(request.total_seconds);
}

}  // namespace s3hc::obs
