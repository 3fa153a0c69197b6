// s3hc-ctl's subcommands, each added to the application with its options and a callback
// that does the work and leaves the process exit status in the Invocation.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/control_client.h"

namespace s3hc::cli {

struct Invocation {
  ControlOptions control;
  bool json = false;    // --json: for scripts
  int exit_status = 0;  // 0 done; see exit_status_of()
};

// policy get | set (apply) | validate | diff | history | rollback
void add_policy_commands(CLI::App& app, Invocation& invocation);
// status
void add_status_command(CLI::App& app, Invocation& invocation);
// proxies
void add_proxies_command(CLI::App& app, Invocation& invocation);
// cache inspect
void add_cache_command(CLI::App& app, Invocation& invocation);
// warm
void add_warm_command(CLI::App& app, Invocation& invocation);
// purge
void add_purge_command(CLI::App& app, Invocation& invocation);
// stats
void add_stats_command(CLI::App& app, Invocation& invocation);
// config validate
void add_config_command(CLI::App& app, Invocation& invocation);
// completion bash
void add_completion_command(CLI::App& app, Invocation& invocation);

// Reports a failed call on stderr and returns its exit status.
int report_failure(const char* what, const grpc::Status& status);

}  // namespace s3hc::cli
