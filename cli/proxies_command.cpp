#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "util/wall_clock.h"

namespace s3hc::cli {

namespace {

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text.empty() ? "-" : text;
}

int list_proxies(const Invocation& invocation) {
  ControlClient client(invocation.control);
  v1::ListProxiesResponse response;
  const auto status = client.admin().ListProxies(client.context().get(), {}, &response);
  if (!status.ok()) return report_failure("list the proxies", status);
  if (invocation.json) {
    std::cout << to_json(response);
    return 0;
  }
  const auto now_ms = util::unix_now_ms();
  std::vector<Row> rows;
  for (const auto& entry : response.proxies()) {
    const auto& proxy = entry.status();
    rows.push_back({proxy.proxy_id(), entry.lost()       ? "lost"
                                          : proxy.draining() ? "draining"
                                          : proxy.healthy()  ? "up"
                                                             : "unhealthy",
                    std::to_string(proxy.policy_version()), proxy.software_version(),
                    joined(proxy.listen_addresses()),
                    std::to_string((now_ms - entry.last_seen_unix_ms()) / 1000) + "s ago"});
  }
  print_table(std::cout, {"PROXY", "STATE", "POLICY", "VERSION", "LISTEN", "LAST SEEN"}, rows);
  return 0;
}

}  // namespace

void add_proxies_command(CLI::App& app, Invocation& invocation) {
  app.add_subcommand("proxies", "The proxies that registered, lost ones included")
      ->callback([&invocation] { invocation.exit_status = list_proxies(invocation); });
}

}  // namespace s3hc::cli
