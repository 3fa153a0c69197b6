#include "obs/metrics.h"

#include "obs/prometheus_text.h"

#include <algorithm>
#include <stdexcept>

namespace s3hc::obs {
namespace {

template <typename Metric>
constexpr MetricType type_of() {
  if constexpr (std::is_same_v<Metric, Counter>) return MetricType::kCounter;
  if constexpr (std::is_same_v<Metric, Gauge>) return MetricType::kGauge;
  return MetricType::kHistogram;
}

std::uint64_t value_of(const Counter& counter) { return counter.value(); }
std::int64_t value_of(const Gauge& gauge) { return gauge.value(); }
HistogramSnapshot value_of(const Histogram& histogram) {
  return {histogram.upper_bounds(), histogram.cumulative_counts(), histogram.sum()};
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<std::uint64_t>[upper_bounds_.size() + 1]) {
  if (!std::is_sorted(upper_bounds_.begin(), upper_bounds_.end())) {
    throw std::invalid_argument("histogram bounds must be sorted");
  }
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) bucket_counts_[i] = 0;
}

void Histogram::observe(double value) noexcept {
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
                      upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> counts(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    counts[i] = running;
  }
  return counts;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> bounds;
  for (double bound = start; count-- > 0; bound *= factor) bounds.push_back(bound);
  return bounds;
}

template <typename Metric>
template <typename... MetricArgs>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       MetricArgs... metric_args)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      make_metric_([=] { return std::make_unique<Metric>(metric_args...); }) {}

template <typename Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": wrong number of label values");
  }
  std::lock_guard lock(mutex_);
  auto& child = children_[label_values];
  if (!child) child = make_metric_();
  return *child;
}

template <typename Metric>
void Family<Metric>::remove(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mutex_);
  children_.erase(label_values);
}

template <typename Metric>
FamilySnapshot Family<Metric>::snapshot() const {
  FamilySnapshot family{name_, help_, type_of<Metric>(), label_names_, {}};
  std::lock_guard lock(mutex_);
  family.children.reserve(children_.size());
  for (const auto& [values, metric] : children_) {
    family.children.push_back({values, value_of(*metric)});
  }
  return family;
}

template <typename FamilyType, typename... Args>
FamilyType& MetricsRegistry::add(Args&&... args) {
  auto family = std::make_unique<FamilyType>(std::forward<Args>(args)...);
  auto& ref = *family;
  std::lock_guard lock(mutex_);
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& MetricsRegistry::counter_family(std::string name, std::string help,
                                                 std::vector<std::string> label_names) {
  return add<Family<Counter>>(std::move(name), std::move(help), std::move(label_names));
}

Family<Gauge>& MetricsRegistry::gauge_family(std::string name, std::string help,
                                             std::vector<std::string> label_names) {
  return add<Family<Gauge>>(std::move(name), std::move(help), std::move(label_names));
}

Family<Histogram>& MetricsRegistry::histogram_family(std::string name, std::string help,
                                                     std::vector<std::string> label_names,
                                                     std::vector<double> upper_bounds) {
  return add<Family<Histogram>>(std::move(name), std::move(help), std::move(label_names),
                                std::move(upper_bounds));
}

Counter& MetricsRegistry::counter(std::string name, std::string help) {
  return counter_family(std::move(name), std::move(help), {}).with({});
}

Gauge& MetricsRegistry::gauge(std::string name, std::string help) {
  return gauge_family(std::move(name), std::move(help), {}).with({});
}

Histogram& MetricsRegistry::histogram(std::string name, std::string help,
                                      std::vector<double> upper_bounds) {
  return histogram_family(std::move(name), std::move(help), {}, std::move(upper_bounds)).with({});
}

std::vector<FamilySnapshot> MetricsRegistry::collect() const {
  std::vector<FamilySnapshot> families;
  std::lock_guard lock(mutex_);
  families.reserve(families_.size());
  for (const auto& family : families_) families.push_back(family->snapshot());
  return families;
}

std::string MetricsRegistry::render_prometheus() const { return prometheus_text(collect()); }

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace s3hc::obs
