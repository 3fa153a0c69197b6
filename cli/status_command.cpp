#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"

namespace s3hc::cli {

namespace {

// The fleet at a glance: the policy in force, and how many proxies are up, draining (shutting
// down), lost, or apply another version (still catching up, or cut off from the control
// plane).
int show_status(const Invocation& invocation) {
  ControlClient client(invocation.control);
  v1::PolicyRevision policy;
  const auto policy_status = client.admin().GetPolicy(client.context().get(), {}, &policy);
  if (!policy_status.ok() && policy_status.error_code() != grpc::StatusCode::NOT_FOUND) {
    return report_failure("reach the control plane", policy_status);
  }
  v1::ListProxiesResponse proxies;
  const auto listed = client.admin().ListProxies(client.context().get(), {}, &proxies);
  if (!listed.ok()) return report_failure("list the proxies", listed);
  std::size_t up = 0, draining = 0, lost = 0, behind = 0;
  for (const auto& entry : proxies.proxies()) {
    if (entry.lost()) {
      ++lost;
      continue;
    }
    ++(entry.status().draining() ? draining : up);
    if (entry.status().policy_version() != policy.version()) ++behind;
  }
  if (invocation.json) {
    std::cout << nlohmann::json{{"control", invocation.control.address},
                                {"policy_version", policy.version()},
                                {"proxies_up", up},
                                {"proxies_draining", draining},
                                {"proxies_lost", lost},
                                {"proxies_on_another_policy", behind}}
                     .dump()
              << "\n";
  } else {
    print_table(std::cout, {"FLEET", ""},
                {{"control plane", invocation.control.address},
                 {"policy version", policy.version() == 0 ? "none set"
                                                          : std::to_string(policy.version())},
                 {"proxies up", std::to_string(up)},
                 {"proxies draining", std::to_string(draining)},
                 {"proxies lost", std::to_string(lost)},
                 {"on another policy", std::to_string(behind)}});
  }
  // Something for a script to act on: a proxy lost or not on the policy in force.
  return lost == 0 && behind == 0 ? 0 : 7;
}

}  // namespace

void add_status_command(CLI::App& app, Invocation& invocation) {
  app.add_subcommand("status", "The fleet at a glance (exit status 7 when a proxy is lost or "
                               "not on the policy in force)")
      ->callback([&invocation] { invocation.exit_status = show_status(invocation); });
}

}  // namespace s3hc::cli
