// Binding a YAML document to option structs. Each key of a mapping is bound either to one
// field, whose setter parses the key's scalar into it (checking its type and range, and naming
// the key in every error), or to a section of further keys. A key bound to nothing is an
// error, so typos surface; and the bindings, being the only list of keys, can be listed.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace s3hc::config {

// Parses `value`, the scalar of `key` (its dotted name), into a field; throws
// std::invalid_argument naming the key.
using FieldSetter = std::function<void(const YAML::Node& value, const std::string& key)>;

// One key of a mapping: a scalar parsed into a field, or a section of further keys.
struct KeyBinding {
  KeyBinding(std::string name, FieldSetter set) : name(std::move(name)), set(std::move(set)) {}
  KeyBinding(std::string name, std::vector<KeyBinding> section)
      : name(std::move(name)), section(std::move(section)) {}

  std::string name;
  FieldSetter set;                  // empty for a section
  std::vector<KeyBinding> section;  // empty for a scalar
};
using KeyBindings = std::vector<KeyBinding>;

// Applies a YAML mapping to the fields its keys are bound to; `prefix` is the mapping's own
// dotted name ("" for the document).
void apply_mapping(const YAML::Node& mapping, const std::string& prefix,
                   const KeyBindings& keys);

// The dotted names of the scalar keys ("cache.dir"), in the order they are bound.
std::vector<std::string> key_names(const KeyBindings& keys);

// Field setters, one per kind of value.

template <typename T>
T scalar_as(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw std::invalid_argument(key + ": expected a scalar value");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(key + ": invalid value '" + node.Scalar() + "'");
  }
}

// An integer, or a std::chrono::duration counted in its own unit, within an inclusive range;
// out-of-range values name the range in the error.
template <typename T>
FieldSetter bounded(T& field, long long min, long long max) {
  return [&field, min, max](const YAML::Node& node, const std::string& key) {
    const auto value = scalar_as<long long>(node, key);
    if (value < min || value > max) {
      throw std::invalid_argument(key + ": must be between " + std::to_string(min) + " and " +
                                  std::to_string(max));
    }
    field = static_cast<T>(value);
  };
}

// Durations in milliseconds: at least 1 ms, at most a day.
template <typename T>
FieldSetter duration_ms(T& field) {
  return bounded(field, 1, 86'400'000);
}

// Cache lifetimes in milliseconds: 0 (always revalidate) up to a year.
template <typename T>
FieldSetter ttl_ms(T& field) {
  return bounded(field, 0, 365ll * 86'400'000);
}

// Shares of a whole: 0 to 1.
FieldSetter fraction(double& field);

// One of a few words, each standing for a value of the field.
template <typename T>
FieldSetter choice(T& field, std::vector<std::pair<std::string, T>> words) {
  return [&field, words = std::move(words)](const YAML::Node& node, const std::string& key) {
    const auto value = scalar_as<std::string>(node, key);
    std::string list;
    for (const auto& [word, meaning] : words) {
      if (word == value) {
        field = meaning;
        return;
      }
      list += (list.empty() ? "" : ", ") + word;
    }
    throw std::invalid_argument(key + ": must be one of " + list);
  };
}

FieldSetter string_field(std::string& field);
FieldSetter bool_field(bool& field);

// The scalar `node` parsed by `parser`, which throws std::invalid_argument saying what is
// wrong; the error names the key.
template <typename Parser>
auto parse_scalar(const YAML::Node& node, const std::string& key, const Parser& parser) {
  try {
    return parser(scalar_as<std::string>(node, key));
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(key + ": " + error.what());
  }
}

// A scalar parsed by `parser`.
template <typename T, typename Parser>
FieldSetter parsed_field(T& field, Parser parser) {
  return [&field, parser](const YAML::Node& node, const std::string& key) {
    field = parse_scalar(node, key, parser);
  };
}

// A list of scalars, each parsed by `parser`; replaces the field's default list.
template <typename T, typename Parser>
FieldSetter parsed_list(std::vector<T>& field, Parser parser) {
  return [&field, parser](const YAML::Node& node, const std::string& key) {
    if (!node.IsSequence()) throw std::invalid_argument(key + ": expected a list");
    field.clear();
    for (const auto& item : node) field.push_back(parse_scalar(item, key, parser));
  };
}

// Byte counts: a number, or a number with a KiB, MiB, GiB or TiB suffix.
std::uint64_t parse_byte_size(const std::string& text);

template <typename T>
FieldSetter byte_size(T& field) {
  return parsed_field(field, parse_byte_size);
}

}  // namespace s3hc::config
