// s3hc-control: the fleet's optional control plane (docs/OPERATIONS.md, "Control plane").
// Serves the policy to every proxy that subscribes and the operators' API, until SIGINT or
// SIGTERM.
#include <CLI/CLI.hpp>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "controlplane/control_services.h"
#include "controlplane/fleet_http_server.h"
#include "version.h"

namespace {

struct CommandLine {
  std::string listen = "0.0.0.0:7070";
  std::string data_dir;
  std::string token_file;
  std::string tls_cert, tls_key;
  std::string ports_file;
  s3hc::control::FleetHttpOptions http;
  int heartbeat_ms = 5000;
  std::string log_level = "info";
};

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read the ") + what + " " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The token without the line end an editor leaves.
std::string read_token(const std::string& path) {
  auto token = read_file(path, "token file");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.size() < 16) {
    throw std::runtime_error("the token in " + path + " is shorter than 16 characters");
  }
  return token;
}

// {"grpc":P,"http":H}: the ports the kernel chose for --listen and --http-listen HOST:0,
// through a temp file renamed over the path so a reader never sees a part.
void write_ports_file(const std::string& path, int port, int http_port) {
  const auto temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << "{\"grpc\":" << port << ",\"http\":" << http_port << "}\n";
    if (!out.flush()) throw std::runtime_error("cannot write the ports file " + path);
  }
  std::filesystem::rename(temp, path);
}

std::shared_ptr<grpc::ServerCredentials> credentials(const CommandLine& args) {
  if (args.tls_cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(
      {read_file(args.tls_key, "TLS key"), read_file(args.tls_cert, "TLS certificate")});
  return grpc::SslServerCredentials(options);
}

volatile std::sig_atomic_t g_stop = 0;

int run(const CommandLine& args) {
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  s3hc::control::ControlDatabase database(args.data_dir);
  s3hc::control::PolicyStore policies(database);
  s3hc::control::ProxyRegistry proxies(database, std::chrono::milliseconds(args.heartbeat_ms));
  const s3hc::control::AdminAuth auth(read_token(args.token_file), !args.tls_cert.empty());
  s3hc::control::FleetMetrics fleet_metrics;
  s3hc::control::ProxyCommands commands;
  s3hc::control::ProxyControlService proxy_service(policies, proxies, fleet_metrics, commands);
  s3hc::control::FleetAdminService admin_service(policies, proxies, fleet_metrics, commands,
                                                 auth);
  const s3hc::control::FleetHttpServer http(args.http, fleet_metrics, proxies, policies);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(args.listen, credentials(args), &port);
  builder.RegisterService(&proxy_service);
  builder.RegisterService(&admin_service);
  const auto server = builder.BuildAndStart();
  if (!server || port == 0) throw std::runtime_error("cannot listen on " + args.listen);
  if (!args.ports_file.empty()) write_ports_file(args.ports_file, port, http.port());
  const auto current = policies.current();
  spdlog::info("s3hc-control {} listening on {} (port {}{}), dashboard and /metrics on {} "
               "(port {}), policy version {}",
               s3hc::kVersion, args.listen, port, args.tls_cert.empty() ? "" : ", TLS",
               args.http.listen, http.port(), current ? current->version() : 0);

  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("stopping");
  proxy_service.stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("s3hc-control: policy and fleet view for s3hc proxies (optional; the fleet "
               "serves without it)");
  CommandLine args;
  app.add_option("--listen", args.listen, "HOST:PORT for proxies and operators (gRPC)")
      ->capture_default_str();
  app.add_option("--data-dir", args.data_dir,
                 "Where the policy history and the proxy registry are kept (RocksDB)")
      ->required();
  app.add_option("--token-file", args.token_file,
                 "File holding the bearer token operators present (16 characters or more)")
      ->required();
  app.add_option("--tls-cert", args.tls_cert, "PEM certificate chain: serve over TLS");
  app.add_option("--tls-key", args.tls_key, "PEM private key of --tls-cert");
  app.add_option("--heartbeat-ms", args.heartbeat_ms,
                 "Heartbeat interval asked of proxies; silent for three: lost")
      ->capture_default_str()
      ->check(CLI::Range(100, 3'600'000));
  app.add_option("--http-listen", args.http.listen,
                 "HOST:PORT of the read-only HTTP endpoint: the dashboard, /api/dashboard and "
                 "the fleet's /metrics (no token: loopback only without --http-public)")
      ->capture_default_str();
  app.add_flag("--http-public", args.http.allow_public,
               "Allow --http-listen on a non-loopback address: it shows the fleet's proxy names, "
               "addresses and numbers to anyone who connects (no secrets, no changes)");
  app.add_option("--ports-file", args.ports_file,
                 "Write {\"grpc\":PORT,\"http\":PORT} here once listening");
  app.add_option("--log-level", args.log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.set_version_flag("--version", s3hc::kVersion);
  CLI11_PARSE(app, argc, argv);
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    std::cerr << "s3hc-control: --tls-cert and --tls-key go together\n";
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& error) {
    std::cerr << "s3hc-control: " << error.what() << "\n";
    return 1;
  }
}
