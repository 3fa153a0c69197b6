#include "policy/policy_check.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "policy/policy_file.h"

namespace s3hc::policy {
namespace {

// "get_ttl_ms=3600000 read_caching=false", the fields set, in the schema's order.
std::string describe(const v1::PolicySettings& settings) {
  const auto* reflection = settings.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(settings, &fields);
  if (fields.empty()) return "(sets nothing)";
  std::string text;
  for (const auto* field : fields) {
    if (!text.empty()) text += ' ';
    text += field->name() + '=';
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        text += reflection->GetBool(settings, field) ? "true" : "false";
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        text += std::to_string(reflection->GetInt64(settings, field));
        break;
      default:  // (uint64: the only other kind the schema has)
        text += std::to_string(reflection->GetUInt64(settings, field));
    }
  }
  return text;
}

std::string objects_of(const v1::PolicyRule& rule) {
  std::string text = rule.bucket().empty() ? "every bucket" : "bucket " + rule.bucket();
  if (!rule.prefix().empty()) text += ", keys starting \"" + rule.prefix() + "\"";
  if (!rule.glob().empty()) text += ", keys matching \"" + rule.glob() + "\"";
  return text;
}

}  // namespace

int check_policy_file(const std::string& path, std::ostream& out, std::ostream& err) {
  const auto compiled = load_policy_file(path);
  if (!compiled.matcher) {
    err << "policy " << path << ": invalid, " << compiled.errors.size() << " error(s):\n";
    for (const auto& error : compiled.errors) err << "  " << error << '\n';
    return 1;
  }
  const auto& matcher = *compiled.matcher;
  const auto rules = matcher.by_precedence();
  out << "policy " << path << ": valid, version " << matcher.snapshot().version() << ", "
      << rules.size() << " rule(s)\n"
      << "an object takes each setting from the first rule below that matches it and sets it,\n"
      << "else from the defaults, else from the proxy's configuration:\n";
  int n = 0;
  for (const auto* rule : rules) {
    out << "  " << ++n << ". " << objects_of(*rule) << ": " << describe(rule->settings());
    if (!rule->comment().empty()) out << "  # " << rule->comment();
    out << '\n';
  }
  out << "  defaults: " << describe(matcher.snapshot().defaults()) << '\n';
  return 0;
}

}  // namespace s3hc::policy
