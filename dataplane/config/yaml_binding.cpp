#include "config/yaml_binding.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>

namespace s3hc::config {

namespace {

void collect_names(const KeyBindings& keys, const std::string& prefix,
                   std::vector<std::string>& names) {
  for (const auto& key : keys) {
    const auto name = prefix.empty() ? key.name : prefix + "." + key.name;
    if (key.set) {
      names.push_back(name);
    } else {
      collect_names(key.section, name, names);
    }
  }
}

}  // namespace

void apply_mapping(const YAML::Node& mapping, const std::string& prefix,
                   const KeyBindings& keys) {
  if (!mapping.IsMap()) {
    throw std::invalid_argument((prefix.empty() ? "config" : prefix) + ": expected a mapping");
  }
  for (const auto& entry : mapping) {
    const auto name = entry.first.as<std::string>();
    const auto key = prefix.empty() ? name : prefix + "." + name;
    const auto bound = std::find_if(keys.begin(), keys.end(),
                                    [&name](const KeyBinding& each) { return each.name == name; });
    if (bound == keys.end()) throw std::invalid_argument(key + ": unknown key");
    if (bound->set) {
      bound->set(entry.second, key);
    } else {
      apply_mapping(entry.second, key, bound->section);
    }
  }
}

std::vector<std::string> key_names(const KeyBindings& keys) {
  std::vector<std::string> names;
  collect_names(keys, "", names);
  return names;
}

FieldSetter fraction(double& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    const auto value = scalar_as<double>(node, key);
    if (!(value >= 0.0 && value <= 1.0)) throw std::invalid_argument(key + ": must be between 0 and 1");
    field = value;
  };
}

FieldSetter string_field(std::string& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    field = scalar_as<std::string>(node, key);
  };
}

FieldSetter bool_field(bool& field) {
  return [&field](const YAML::Node& node, const std::string& key) {
    field = scalar_as<bool>(node, key);
  };
}

std::uint64_t parse_byte_size(const std::string& text) {
  static const std::pair<std::string_view, std::uint64_t> kSuffixes[] = {
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40}};
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) throw std::invalid_argument("expected bytes, e.g. 500GiB");
  const auto number = std::stoull(text.substr(0, digits));
  const std::string_view suffix = std::string_view(text).substr(digits);
  if (suffix.empty()) return number;
  for (const auto& [name, unit] : kSuffixes) {
    if (suffix != name) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit) {
      throw std::invalid_argument("too large");
    }
    return number * unit;
  }
  throw std::invalid_argument("unknown unit '" + std::string(suffix) + "' (KiB, MiB, GiB, TiB)");
}

}  // namespace s3hc::config
