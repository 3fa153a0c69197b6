// A small Prometheus-style metrics registry: counters, gauges and histograms, optionally with
// labels. The one home of s3hc's metrics: collect() takes a snapshot of all of them, which the
// Prometheus text exposition (render_prometheus, version 0.0.4) and the OTLP export
// (otlp_metrics.h) both render.
//
// Thread-safety: every method may be called from any thread. Updating a metric is lock-free;
// looking up a labelled child takes a short lock, so hot paths keep the returned reference
// (it stays valid for the registry's lifetime unless its owner removes the child).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace s3hc::obs {

class Counter {
 public:
  void inc(std::uint64_t amount = 1) noexcept { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  // Returns the value after the change, as one atomic step (a limit can be checked on it).
  std::int64_t add(std::int64_t delta) noexcept {
    return value_.fetch_add(delta, std::memory_order_relaxed) + delta;
  }
  void set(std::int64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Cumulative-bucket histogram with fixed upper bounds (+Inf is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value) noexcept;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Observations <= upper_bounds()[i], cumulative; the last entry is the +Inf bucket.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;  // non-cumulative, +Inf last
  std::atomic<double> sum_{0.0};
};

// Exponential bounds: start, start*factor, ... (count values).
std::vector<double> exponential_buckets(double start, double factor, int count);

enum class MetricType { kCounter, kGauge, kHistogram };

// A histogram's state at one moment: every count read once, so count() is the sum of the
// buckets.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;               // +Inf implicit
  std::vector<std::uint64_t> cumulative_counts;  // one per bound, then the +Inf bucket
  double sum = 0;

  std::uint64_t count() const { return cumulative_counts.back(); }
};

// One labelled child: a counter's value, a gauge's, or a histogram's state.
struct MetricSnapshot {
  std::vector<std::string> label_values;  // in the order of the family's label names
  std::variant<std::uint64_t, std::int64_t, HistogramSnapshot> value;
};

// A family at one moment: its children in label-value order (none yet is possible).
struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type;
  std::vector<std::string> label_names;
  std::vector<MetricSnapshot> children;
};

// Base of a named metric with its children keyed by label values.
class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  virtual FamilySnapshot snapshot() const = 0;
};

template <typename Metric>
class Family final : public MetricFamilyBase {
 public:
  template <typename... MetricArgs>
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         MetricArgs... metric_args);

  // The child for these label values (same order as the label names), created on first use.
  Metric& with(const std::vector<std::string>& label_values);
  // Drops the child for these label values (its series ends), if any. References to it must
  // not be used afterwards: only the owner of a family's labels (obs/bucket_metrics.h) does
  // this, under its own lock.
  void remove(const std::vector<std::string>& label_values);

  FamilySnapshot snapshot() const override;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_metric_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class MetricsRegistry {
 public:
  Family<Counter>& counter_family(std::string name, std::string help,
                                  std::vector<std::string> label_names);
  Family<Gauge>& gauge_family(std::string name, std::string help,
                              std::vector<std::string> label_names);
  Family<Histogram>& histogram_family(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> upper_bounds);

  // Unlabelled shorthands.
  Counter& counter(std::string name, std::string help);
  Gauge& gauge(std::string name, std::string help);
  Histogram& histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  // Every metric, in registration order. Each value is read once; metrics updated meanwhile
  // may show the update or not.
  std::vector<FamilySnapshot> collect() const;

  // Prometheus text exposition of collect().
  std::string render_prometheus() const;

 private:
  template <typename FamilyType, typename... Args>
  FamilyType& add(Args&&... args);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;
};

}  // namespace s3hc::obs
