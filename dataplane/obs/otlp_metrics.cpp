#include "obs/otlp_metrics.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace s3hc::obs {
namespace {

using nlohmann::json;

// AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE: every value counts from `start`.
constexpr int kCumulative = 2;

// fixed64 and int64 fields are strings in the protobuf JSON mapping (JavaScript numbers
// cannot hold them).
std::string int64_text(std::uint64_t value) { return std::to_string(value); }
std::string int64_text(std::int64_t value) { return std::to_string(value); }

std::string unix_nano(std::chrono::system_clock::time_point time) {
  return int64_text(static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count()));
}

// JSON has no infinity or NaN; the protobuf mapping spells them as strings.
json double_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

json string_attribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

json attributes(const FamilySnapshot& family, const MetricSnapshot& child) {
  json list = json::array();
  for (std::size_t i = 0; i < family.label_names.size(); ++i) {
    list.push_back(string_attribute(family.label_names[i], child.label_values[i]));
  }
  return list;
}

json histogram_point(const HistogramSnapshot& histogram) {
  json bucket_counts = json::array();
  std::uint64_t below = 0;
  for (const auto cumulative : histogram.cumulative_counts) {
    bucket_counts.push_back(int64_text(cumulative - below));
    below = cumulative;
  }
  json bounds = json::array();
  for (const auto bound : histogram.upper_bounds) bounds.push_back(double_value(bound));
  return {{"count", int64_text(histogram.count())},
          {"sum", double_value(histogram.sum)},
          {"bucketCounts", std::move(bucket_counts)},
          {"explicitBounds", std::move(bounds)}};
}

json metric(const FamilySnapshot& family, const std::string& start, const std::string& now) {
  json points = json::array();
  for (const auto& child : family.children) {
    json point = {{"attributes", attributes(family, child)}, {"timeUnixNano", now}};
    if (family.type != MetricType::kGauge) point["startTimeUnixNano"] = start;
    if (const auto* counter = std::get_if<std::uint64_t>(&child.value)) {
      point["asInt"] = int64_text(*counter);
    } else if (const auto* gauge = std::get_if<std::int64_t>(&child.value)) {
      point["asInt"] = int64_text(*gauge);
    } else {
      point.update(histogram_point(std::get<HistogramSnapshot>(child.value)));
    }
    points.push_back(std::move(point));
  }
  json out = {{"name", family.name}, {"description", family.help}};
  switch (family.type) {
    case MetricType::kCounter:
      out["sum"] = {{"dataPoints", std::move(points)},
                    {"aggregationTemporality", kCumulative},
                    {"isMonotonic", true}};
      break;
    case MetricType::kGauge:
      out["gauge"] = {{"dataPoints", std::move(points)}};
      break;
    case MetricType::kHistogram:
      out["histogram"] = {{"dataPoints", std::move(points)},
                          {"aggregationTemporality", kCumulative}};
      break;
  }
  return out;
}

}  // namespace

std::string encode_otlp_metrics(const std::vector<FamilySnapshot>& families,
                                const OtlpResource& resource,
                                std::chrono::system_clock::time_point start,
                                std::chrono::system_clock::time_point now) {
  const auto start_nano = unix_nano(start);
  const auto now_nano = unix_nano(now);
  json metrics = json::array();
  for (const auto& family : families) {
    if (!family.children.empty()) metrics.push_back(metric(family, start_nano, now_nano));
  }
  const json resource_json = json::object(
      {{"attributes",
        json::array({string_attribute("service.name", resource.service_name),
                     string_attribute("service.instance.id", resource.service_instance_id),
                     string_attribute("service.version", resource.service_version)})}});
  const json scope = {{"name", resource.service_name}, {"version", resource.service_version}};
  const json scope_metrics = {{"scope", scope}, {"metrics", std::move(metrics)}};
  const json resource_metrics = {{"resource", resource_json},
                                 {"scopeMetrics", json::array({scope_metrics})}};
  // Label values are not all ours to choose: bytes that are not UTF-8 are replaced, not thrown.
  return json{{"resourceMetrics", json::array({resource_metrics})}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

}  // namespace s3hc::obs
