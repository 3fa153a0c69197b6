// s3hc-proxy: parse the command line and config, then run the proxy until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "config/proxy_config.h"
#include "policy/policy_check.h"
#include "proxy_server.h"
#include "version.h"

namespace {

struct CommandLine {
  std::string config_file;
  std::optional<std::string> listen, upstream, admin_listen, log_level, cache_dir, ports_file,
      policy_file, otlp_endpoint, passthrough_listen, control;
  std::optional<int> threads;
  std::optional<std::string> check_policy;
  std::vector<std::string> resolve;  // static endpoint map entries, ahead of the config's
};

s3hc::config::ProxyConfig resolve_config(const CommandLine& args) {
  auto config = args.config_file.empty() ? s3hc::config::ProxyConfig{}
                                         : s3hc::config::load_config_file(args.config_file);
  try {
    if (args.listen) config.listen = s3hc::config::parse_listen_address(*args.listen);
    if (args.admin_listen) {
      config.admin_listen = s3hc::config::parse_listen_address(*args.admin_listen);
    }
    if (args.passthrough_listen) {
      config.passthrough.listen =
          s3hc::config::parse_optional_listen_address(*args.passthrough_listen);
    }
    if (args.upstream) config.upstream.url = s3hc::http::parse_upstream_url(*args.upstream);
    if (args.otlp_endpoint) {
      config.observability.otlp.endpoint = s3hc::obs::parse_otlp_endpoint(*args.otlp_endpoint);
    }
    // Before the file's: the first exact entry for a name wins, and the command line
    // overrides the file.
    std::vector<s3hc::net::StaticEndpoint> flags;
    for (const auto& entry : args.resolve) {
      flags.push_back(s3hc::net::parse_static_endpoint(entry));
    }
    auto& endpoints = config.upstream.resolver.static_endpoints;
    endpoints.insert(endpoints.begin(), flags.begin(), flags.end());
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("command line: ") + error.what());
  }
  if (args.log_level) config.log_level = *args.log_level;
  if (args.threads) config.threads = *args.threads;
  if (args.cache_dir) config.cache.dir = *args.cache_dir;
  if (args.ports_file) config.ports_file = *args.ports_file;
  if (args.policy_file) config.cache.policy_file = *args.policy_file;
  if (args.control) config.control.endpoint = *args.control;
  s3hc::config::validate(config);
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"s3hc-proxy: caching proxy for Amazon S3 and S3-compatible stores"};
  CommandLine args;
  app.add_option("-c,--config", args.config_file, "YAML config file")->check(CLI::ExistingFile);
  app.add_option("--listen", args.listen,
                 "S3 listener HOST:PORT, port 0 = any free one (overrides the config)");
  app.add_option("--passthrough-listen", args.passthrough_listen,
                 "HTTPS passthrough listener HOST:PORT (relayed by TLS server name, never "
                 "terminated), port 0 = any free one, \"\" = off");
  app.add_option("--upstream", args.upstream, "origin URL http(s)://HOST[:PORT]");
  app.add_option("--resolve", args.resolve,
                 "static endpoint NAME=[http://]HOST:PORT, NAME may be *.suffix; HTTPS unless "
                 "http:// (repeatable; before upstream.resolve's entries)");
  app.add_option("--admin-listen", args.admin_listen,
                 "health/metrics listener HOST:PORT, port 0 = any free one");
  app.add_option("--ports-file", args.ports_file,
                 "write the bound ports here as JSON once listening (for port 0)");
  app.add_option("--log-level", args.log_level, "trace, debug, info, warn, error or off");
  app.add_option("--threads", args.threads, "worker threads (0 = one per core)")
      ->check(CLI::Range(0, 256));
  app.add_option("--cache-dir", args.cache_dir, "cache directory (empty: no caching)");
  app.add_option("--policy", args.policy_file,
                 "per-bucket/prefix policy file, read again when it changes (docs/POLICY.md)");
  app.add_option("--control", args.control,
                 "s3hc-control HOST:PORT to take the policy from (docs/OPERATIONS.md)");
  app.add_option("--otlp-endpoint", args.otlp_endpoint,
                 "export metrics to this OTLP/HTTP collector, http://HOST[:PORT][/PATH] "
                 "(path /v1/metrics when none; docs/OBSERVABILITY.md)");
  app.add_option("--check-policy", args.check_policy,
                 "validate and explain a policy file (docs/POLICY.md), then exit: 0 valid, 1 not");
  app.set_version_flag("--version", s3hc::kVersion);
  CLI11_PARSE(app, argc, argv);
  if (args.check_policy) {
    return s3hc::policy::check_policy_file(*args.check_policy, std::cout, std::cerr);
  }

  spdlog::set_default_logger(spdlog::stderr_color_mt("s3hc"));
  // A client that goes away mid-answer must cost its connection, not the process: sendfile(2)
  // has no MSG_NOSIGNAL, so a write to a closed socket would raise SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto config = resolve_config(args);
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    s3hc::ProxyServer server(std::move(config));
    server.run();
    // Exit without destroying the server: coroutines of connections still open after the
    // grace period hold references into the workers, and tearing those down in some safe
    // order buys nothing at exit. Logs are flushed; the kernel reclaims the rest.
    spdlog::shutdown();
    std::_Exit(0);
  } catch (const std::exception& error) {
    spdlog::critical("{}", error.what());
    return 2;
  }
}
