#include "obs/prometheus_text.h"

#include <cmath>
#include <variant>

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

}  // namespace

std::string prometheus_text(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const auto& family : families) render_family(out, family);
  return out;
}

std::string prometheus_labels(const std::vector<std::string>& names,
                              const std::vector<std::string>& values) {
  return label_block(names, values);
}

}  // namespace s3hc::obs
