#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"
#include "policy/policy_file.h"

namespace s3hc::cli {

namespace {

struct PolicyArgs {
  std::string file;
  std::optional<std::uint64_t> expect_version;
  std::uint64_t version = 0;
  std::string comment;
  std::uint32_t limit = 0;
};

// The snapshot a policy file holds, or nullopt after printing its faults (exit status 1).
std::optional<v1::PolicySnapshot> read_policy_file(const std::string& path) {
  auto compiled = policy::load_policy_file(path);
  if (!compiled.matcher) {
    std::cerr << "s3hc-ctl: " << path << " is not a valid policy:\n";
    for (const auto& error : compiled.errors) std::cerr << "  " << error << "\n";
    return std::nullopt;
  }
  return compiled.matcher->snapshot();
}

// One line per rule (its fields as JSON) and one for the defaults: what diff compares.
std::string compact_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::vector<std::string> lines_of(const v1::PolicySnapshot& snapshot) {
  std::vector<std::string> lines{"defaults " + compact_json(snapshot.defaults())};
  for (const auto& rule : snapshot.rules()) lines.push_back("rule " + compact_json(rule));
  return lines;
}

// The version in force (0: none), or nullopt after reporting why it could not be read.
std::optional<std::uint64_t> version_in_force(ControlClient& client, int& exit_status) {
  v1::PolicyRevision revision;
  const auto status = client.admin().GetPolicy(client.context().get(), {}, &revision);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return 0;
  if (!status.ok()) {
    exit_status = report_failure("read the policy in force", status);
    return std::nullopt;
  }
  return revision.version();
}

void print_revision(const v1::PolicyRevision& revision) {
  std::cout << "policy version " << revision.version() << ", set " << utc_time(revision.set_unix_ms());
  if (!revision.comment().empty()) std::cout << ": " << revision.comment();
  std::cout << "\n";
}

int get(const Invocation& invocation, const PolicyArgs& args) {
  ControlClient client(invocation.control);
  v1::GetPolicyRequest request;
  request.set_version(args.version);
  v1::PolicyRevision revision;
  const auto status = client.admin().GetPolicy(client.context().get(), request, &revision);
  if (!status.ok()) return report_failure("read the policy", status);
  if (invocation.json) {
    std::cout << to_json(revision);
    return 0;
  }
  print_revision(revision);
  for (const auto& line : lines_of(revision.snapshot())) std::cout << "  " << line << "\n";
  return 0;
}

int set(const Invocation& invocation, const PolicyArgs& args) {
  auto snapshot = read_policy_file(args.file);
  if (!snapshot) return 1;
  ControlClient client(invocation.control);
  int exit_status = 0;
  const auto expected =
      args.expect_version ? args.expect_version : version_in_force(client, exit_status);
  if (!expected) return exit_status;
  v1::PutPolicyRequest request;
  *request.mutable_snapshot() = std::move(*snapshot);
  request.set_expected_version(*expected);
  request.set_comment(args.comment.empty() ? "from " + args.file : args.comment);
  v1::PolicyRevision revision;
  const auto status = client.admin().PutPolicy(client.context().get(), request, &revision);
  if (!status.ok()) return report_failure("set the policy", status);
  if (invocation.json) {
    std::cout << to_json(revision);
  } else {
    print_revision(revision);
  }
  return 0;
}

int validate(const Invocation& invocation, const PolicyArgs& args) {
  const auto snapshot = read_policy_file(args.file);
  if (!snapshot) return 1;
  if (invocation.json) {
    std::cout << to_json(*snapshot);
  } else {
    std::cout << args.file << ": valid, " << snapshot->rules_size() << " rules\n";
  }
  return 0;
}

int diff(const Invocation& invocation, const PolicyArgs& args) {
  const auto wanted = read_policy_file(args.file);
  if (!wanted) return 1;
  ControlClient client(invocation.control);
  v1::PolicyRevision current;
  const auto status = client.admin().GetPolicy(client.context().get(), {}, &current);
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
    return report_failure("read the policy in force", status);
  }
  const auto before = lines_of(current.snapshot());
  const auto after = lines_of(*wanted);
  const std::set<std::string> had(before.begin(), before.end()), has(after.begin(), after.end());
  std::vector<std::string> changes;
  for (const auto& line : before) {
    if (!has.contains(line)) changes.push_back("- " + line);
  }
  for (const auto& line : after) {
    if (!had.contains(line)) changes.push_back("+ " + line);
  }
  if (invocation.json) {
    std::cout << nlohmann::json{{"in_force", current.version()}, {"changes", changes}}.dump()
              << "\n";
    return 0;
  }
  for (const auto& line : changes) std::cout << line << "\n";
  if (changes.empty()) std::cout << "no change from version " << current.version() << "\n";
  return 0;
}

int history(const Invocation& invocation, const PolicyArgs& args) {
  ControlClient client(invocation.control);
  v1::PolicyHistoryRequest request;
  request.set_limit(args.limit);
  v1::PolicyHistoryResponse response;
  const auto status = client.admin().PolicyHistory(client.context().get(), request, &response);
  if (!status.ok()) return report_failure("read the policy history", status);
  if (invocation.json) {
    std::cout << to_json(response);
    return 0;
  }
  std::vector<Row> rows;
  for (const auto& revision : response.revisions()) {
    rows.push_back({std::to_string(revision.version()), utc_time(revision.set_unix_ms()),
                    std::to_string(revision.snapshot().rules_size()), revision.comment()});
  }
  print_table(std::cout, {"VERSION", "SET", "RULES", "COMMENT"}, rows);
  return 0;
}

int rollback(const Invocation& invocation, const PolicyArgs& args) {
  ControlClient client(invocation.control);
  int exit_status = 0;
  const auto expected =
      args.expect_version ? args.expect_version : version_in_force(client, exit_status);
  if (!expected) return exit_status;
  v1::RollbackPolicyRequest request;
  request.set_to_version(args.version);
  request.set_expected_version(*expected);
  request.set_comment(args.comment);
  v1::PolicyRevision revision;
  const auto status = client.admin().RollbackPolicy(client.context().get(), request, &revision);
  if (!status.ok()) return report_failure("roll the policy back", status);
  if (invocation.json) {
    std::cout << to_json(revision);
  } else {
    print_revision(revision);
  }
  return 0;
}

using Command = int (*)(const Invocation&, const PolicyArgs&);

CLI::App* add(CLI::App& policy, const char* name, const char* description, Command command,
              Invocation& invocation, const std::shared_ptr<PolicyArgs>& args) {
  auto* sub = policy.add_subcommand(name, description);
  sub->callback([&invocation, args, command] { invocation.exit_status = command(invocation, *args); });
  return sub;
}

}  // namespace

void add_policy_commands(CLI::App& app, Invocation& invocation) {
  auto args = std::make_shared<PolicyArgs>();
  auto* policy = app.add_subcommand("policy", "The fleet's per-bucket/prefix policy");
  policy->require_subcommand(1);
  add(*policy, "get", "Show the policy in force (or --version N)", get, invocation, args)
      ->add_option("--version", args->version, "An earlier version");
  for (const char* name : {"set", "apply"}) {
    auto* sub = add(*policy, name, "Set the policy of a YAML or JSON file (docs/POLICY.md)", set,
                    invocation, args);
    sub->add_option("-f,--file", args->file, "Policy file")->required()->check(CLI::ExistingFile);
    sub->add_option("--expect-version", args->expect_version,
                    "Refuse unless this is the version in force (default: the one read first)");
    sub->add_option("--comment", args->comment, "Said of the change in the history");
  }
  add(*policy, "validate", "Check a policy file without setting it (needs no control plane)",
      validate, invocation, args)
      ->add_option("-f,--file", args->file, "Policy file")
      ->required()
      ->check(CLI::ExistingFile);
  add(*policy, "diff", "What setting a policy file would change", diff, invocation, args)
      ->add_option("-f,--file", args->file, "Policy file")
      ->required()
      ->check(CLI::ExistingFile);
  add(*policy, "history", "Every version set, newest first", history, invocation, args)
      ->add_option("--limit", args->limit, "At most this many (0: all)");
  auto* back = add(*policy, "rollback", "Set an earlier version's policy again, as a new version",
                   rollback, invocation, args);
  back->add_option("version", args->version, "The version to go back to")->required();
  back->add_option("--expect-version", args->expect_version,
                   "Refuse unless this is the version in force (default: the one read first)");
  back->add_option("--comment", args->comment, "Said of the change in the history");
}

}  // namespace s3hc::cli
