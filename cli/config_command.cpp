#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/proxy_config.h"

namespace s3hc::cli {

namespace {

// The proxy's own loader and checks, so a file that passes here starts a proxy.
int validate_config(const Invocation& invocation, const std::string& path) {
  std::string fault;
  try {
    config::validate(config::load_config_file(path));
  } catch (const std::exception& error) {
    fault = error.what();
  }
  if (invocation.json) {
    nlohmann::json report{{"file", path}, {"valid", fault.empty()}};
    if (!fault.empty()) report["error"] = fault;
    std::cout << report.dump() << "\n";
  } else if (fault.empty()) {
    std::cout << path << ": valid\n";
  } else {
    std::cerr << "s3hc-ctl: " << path << " is not a valid proxy configuration: " << fault << "\n";
  }
  return fault.empty() ? 0 : 1;
}

}  // namespace

void add_config_command(CLI::App& app, Invocation& invocation) {
  auto* config = app.add_subcommand("config", "A proxy's configuration file");
  config->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  auto* validate = config->add_subcommand(
      "validate", "Check a proxy configuration file as s3hc-proxy would (needs no control plane)");
  validate->add_option("-f,--file", *path, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  validate->callback(
      [&invocation, path] { invocation.exit_status = validate_config(invocation, *path); });
}

}  // namespace s3hc::cli
