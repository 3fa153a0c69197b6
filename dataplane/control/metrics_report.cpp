#include "control/metrics_report.h"

#include <type_traits>

namespace s3hc::control {

namespace {

v1::MetricFamily::Type type_of(obs::MetricType type) {
  switch (type) {
    case obs::MetricType::kCounter:
      return v1::MetricFamily::COUNTER;
    case obs::MetricType::kGauge:
      return v1::MetricFamily::GAUGE;
    case obs::MetricType::kHistogram:
      return v1::MetricFamily::HISTOGRAM;
  }
  return v1::MetricFamily::GAUGE;
}

void set_value(v1::MetricPoint& point, const obs::MetricSnapshot& child) {
  std::visit(
      [&](const auto& value) {
        using Value = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::uint64_t>) {
          point.set_counter(value);
        } else if constexpr (std::is_same_v<Value, std::int64_t>) {
          point.set_gauge(value);
        } else {
          for (const auto bound : value.upper_bounds) point.add_upper_bounds(bound);
          for (const auto count : value.cumulative_counts) point.add_cumulative_counts(count);
          point.set_sum(value.sum);
        }
      },
      child.value);
}

}  // namespace

v1::MetricsReport metrics_report(const obs::MetricsRegistry& registry, const std::string& proxy_id,
                                 std::chrono::system_clock::time_point counting_since) {
  v1::MetricsReport report;
  report.set_proxy_id(proxy_id);
  report.set_counting_since_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        counting_since.time_since_epoch())
                                        .count());
  for (const auto& snapshot : registry.collect()) {
    auto& family = *report.add_families();
    family.set_name(snapshot.name);
    family.set_help(snapshot.help);
    family.set_type(type_of(snapshot.type));
    for (const auto& name : snapshot.label_names) family.add_label_names(name);
    for (const auto& child : snapshot.children) {
      auto& point = *family.add_points();
      for (const auto& value : child.label_values) point.add_label_values(value);
      set_value(point, child);
    }
  }
  return report;
}

}  // namespace s3hc::control
