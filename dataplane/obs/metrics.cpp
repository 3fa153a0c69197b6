#include "obs/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace s3hc::obs {
namespace {

// Label values may hold anything; the exposition format escapes \, " and newline.
std::string escape_label_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// "{a="x",b="y"}" plus an optional extra label (used for histogram "le").
std::string label_block(const std::vector<std::string>& names,
                        const std::vector<std::string>& values, const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + escape_label_value(values[i]) + '"';
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  return out + '}';
}

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void render_histogram(std::string& out, const FamilySnapshot& family, const MetricSnapshot& child,
                      const HistogramSnapshot& histogram) {
  const auto& names = family.label_names;
  const auto& values = child.label_values;
  const auto& counts = histogram.cumulative_counts;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double bound = i < histogram.upper_bounds.size() ? histogram.upper_bounds[i] : INFINITY;
    out += family.name + "_bucket" +
           label_block(names, values, "le=\"" + format_number(bound) + '"') + ' ' +
           std::to_string(counts[i]) + '\n';
  }
  out += family.name + "_sum" + label_block(names, values) + ' ' + format_number(histogram.sum) +
         '\n';
  out += family.name + "_count" + label_block(names, values) + ' ' +
         std::to_string(histogram.count()) + '\n';
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      break;
  }
  return "histogram";
}

void render_family(std::string& out, const FamilySnapshot& family) {
  out += "# HELP " + family.name + ' ' + family.help + '\n';
  out += "# TYPE " + family.name + ' ' + type_name(family.type) + '\n';
  for (const auto& child : family.children) {
    if (const auto* histogram = std::get_if<HistogramSnapshot>(&child.value)) {
      render_histogram(out, family, child, *histogram);
      continue;
    }
    const auto* counter = std::get_if<std::uint64_t>(&child.value);
    const auto value = counter ? std::to_string(*counter)
                               : std::to_string(std::get<std::int64_t>(child.value));
    out += family.name + label_block(family.label_names, child.label_values) + ' ' + value + '\n';
  }
}

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

std::string MetricsRegistry::render_prometheus() const {
  std::string out;
  for (const auto& family : collect()) render_family(out, family);
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace s3hc::obs
