#include "policy/yaml_message.h"

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <optional>

namespace s3hc::policy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

struct Filler {
  std::vector<std::string> errors;

  void error(const std::string& path, const std::string& what) {
    errors.push_back((path.empty() ? std::string("document") : path) + ": " + what);
  }

  template <typename T>
  std::optional<T> scalar(const YAML::Node& node, const std::string& path, const char* kind) {
    if (!node.IsScalar()) {
      error(path, std::string("expected ") + kind);
      return std::nullopt;
    }
    // A quoted scalar is a string, whatever it spells: `write_through: "true"` is no boolean.
    // Except for 64-bit integers, which protobuf's JSON mapping writes quoted ("3"): a policy
    // that tool wrote (s3hc-ctl policy get --json, the control plane's pushed file) reads back.
    const bool quoted = node.Tag() == "!";
    constexpr bool wide_integer =
        std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>;
    if constexpr (!std::is_same_v<T, std::string> && !wide_integer) {
      if (quoted) {
        error(path, std::string("expected ") + kind + ", not a quoted string");
        return std::nullopt;
      }
    }
    T value;
    if (!YAML::convert<T>::decode(node, value)) {
      error(path, std::string("expected ") + kind + ", not '" + node.Scalar() + "'");
      return std::nullopt;
    }
    return value;
  }

  // Parses the scalar as a T and sets (or, repeated, adds) it with the reflection's setter.
  template <typename T>
  using Setter = void (Reflection::*)(Message*, const FieldDescriptor*, T) const;
  template <typename T>
  void put(const YAML::Node& node, const std::string& path, const char* kind, Message& message,
           const FieldDescriptor& field, Setter<T> set, Setter<T> add) {
    if (auto value = scalar<T>(node, path, kind)) {
      (message.GetReflection()->*(field.is_repeated() ? add : set))(&message, &field,
                                                                   std::move(*value));
    }
  }

  void set_scalar(const YAML::Node& node, const std::string& path, Message& message,
                  const FieldDescriptor& field) {
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return put<std::string>(node, path, "a string", message, field, &Reflection::SetString,
                                &Reflection::AddString);
      case FieldDescriptor::CPPTYPE_BOOL:
        return put<bool>(node, path, "true or false", message, field, &Reflection::SetBool,
                         &Reflection::AddBool);
      case FieldDescriptor::CPPTYPE_INT64:
        return put<std::int64_t>(node, path, "an integer", message, field,
                                 &Reflection::SetInt64, &Reflection::AddInt64);
      case FieldDescriptor::CPPTYPE_UINT64:
        return put<std::uint64_t>(node, path, "a non-negative integer", message, field,
                                  &Reflection::SetUInt64, &Reflection::AddUInt64);
      default:
        error(path, "a field of a type this reader does not support");
    }
  }

  void set_field(const YAML::Node& node, const std::string& path, Message& message,
                 const FieldDescriptor& field) {
    const auto* reflection = message.GetReflection();
    const bool is_message = field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!field.is_repeated()) {
      if (is_message) {
        fill(node, path, *reflection->MutableMessage(&message, &field));
      } else {
        set_scalar(node, path, message, field);
      }
      return;
    }
    if (!node.IsSequence()) {
      error(path, "expected a list");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto item_path = path + "[" + std::to_string(i) + "]";
      if (is_message) {
        fill(node[i], item_path, *reflection->AddMessage(&message, &field));
      } else {
        set_scalar(node[i], item_path, message, field);
      }
    }
  }

  void fill(const YAML::Node& node, const std::string& path, Message& message) {
    if (node.IsNull()) return;  // an empty section: nothing set
    if (!node.IsMap()) {
      error(path, "expected a mapping of keys");
      return;
    }
    const auto* descriptor = message.GetDescriptor();
    for (const auto& entry : node) {
      const auto name = entry.first.as<std::string>();
      const auto field_path = path.empty() ? name : path + "." + name;
      const auto* field = descriptor->FindFieldByName(name);
      if (!field) {
        error(field_path, "unknown key");
        continue;
      }
      set_field(entry.second, field_path, message, *field);
    }
  }
};

}  // namespace

std::vector<std::string> fill_message(const YAML::Node& node, Message& message) {
  Filler filler;
  filler.fill(node, "", message);
  return std::move(filler.errors);
}

}  // namespace s3hc::policy
