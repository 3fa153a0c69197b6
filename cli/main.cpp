// s3hc-ctl: the operators' command line for an s3hc fleet (docs/OPERATIONS.md, "s3hc-ctl").
// Human tables by default, --json for scripts; the exit status says what went wrong.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "version.h"

namespace s3hc::cli {

int report_failure(const char* what, const grpc::Status& status) {
  std::cerr << "s3hc-ctl: cannot " << what << ": " << status.error_message() << "\n";
  return exit_status_of(status);
}

}  // namespace s3hc::cli

namespace {

// The token from --token-file, else $S3HC_TOKEN; without the line end an editor leaves.
std::string token_of(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) throw std::runtime_error("cannot read the token file " + token_file);
    std::stringstream text;
    text << in.rdbuf();
    token = text.str();
  } else if (const char* from_env = std::getenv("S3HC_TOKEN")) {
    token = from_env;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("s3hc-ctl: operate an s3hc fleet through its control plane");
  s3hc::cli::Invocation invocation;
  std::string token_file;
  int timeout_ms = 10'000;
  app.add_option("--control", invocation.control.address, "s3hc-control's HOST:PORT")
      ->envname("S3HC_CONTROL")
      ->capture_default_str();
  app.add_option("--token-file", token_file, "File holding the operators' bearer token "
                                             "(else $S3HC_TOKEN)");
  app.add_option("--ca-file", invocation.control.ca_file,
                 "PEM CA to check the control plane's TLS certificate against (TLS on)");
  app.add_option("--timeout-ms", timeout_ms, "Deadline of each call")->capture_default_str();
  app.add_flag("--json", invocation.json, "Print JSON for scripts");
  app.set_version_flag("--version", s3hc::kVersion);
  app.require_subcommand(1);
  s3hc::cli::add_policy_commands(app, invocation);
  s3hc::cli::add_status_command(app, invocation);
  s3hc::cli::add_proxies_command(app, invocation);
  s3hc::cli::add_stats_command(app, invocation);
  s3hc::cli::add_purge_command(app, invocation);
  s3hc::cli::add_warm_command(app, invocation);
  s3hc::cli::add_cache_command(app, invocation);
  s3hc::cli::add_config_command(app, invocation);
  s3hc::cli::add_completion_command(app, invocation);
  app.parse_complete_callback([&] {
    invocation.control.token = token_of(token_file);
    invocation.control.timeout = std::chrono::milliseconds(timeout_ms);
  });
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "s3hc-ctl: " << error.what() << "\n";
    return 1;
  }
  return invocation.exit_status;
}
