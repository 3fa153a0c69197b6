#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "http/endpoint.h"

namespace s3hc::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct WarmArgs {
  std::string manifest;
  std::vector<std::string> proxies{"127.0.0.1:8080"};
  int parallel = 4;
};

// A presigned GET URL split where the proxy needs it: the Host it was signed for, and the
// target (path and query, the signature included) sent unchanged.
struct SignedGet {
  std::string host;
  std::string target;
};

std::optional<SignedGet> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const auto host_start = scheme_end + 3;
  const auto path_start = url.find('/', host_start);
  if (path_start == std::string::npos || path_start == host_start) return std::nullopt;
  return SignedGet{url.substr(host_start, path_start - host_start), url.substr(path_start)};
}

struct Outcome {
  bool ok = false;
  std::uint64_t bytes = 0;
  std::string cache_status;  // X-Cache, or the failure
};

// A worker's keep-alive connection to one proxy: a manifest of many small objects costs one
// connect per worker and proxy, not one per URL.
class ProxyConnection {
 public:
  explicit ProxyConnection(http::HostPort proxy) : proxy_(std::move(proxy)), stream_(io_) {}

  // One GET, the body read and dropped. One that fails on a reused connection (the proxy may
  // have closed it while it was idle) is sent again, once, on a new connection.
  Outcome fetch(const SignedGet& get) {
    const bool reused = open_;
    try {
      return exchange(get);
    } catch (const std::exception& error) {
      close();
      if (!reused) return {false, 0, std::string("failed: ") + error.what()};
    }
    try {
      return exchange(get);
    } catch (const std::exception& error) {
      close();
      return {false, 0, std::string("failed: ") + error.what()};
    }
  }

 private:
  Outcome exchange(const SignedGet& get) {
    stream_.expires_after(std::chrono::minutes(10));
    if (!open_) {
      asio::ip::tcp::resolver resolver(io_);
      stream_.connect(resolver.resolve(proxy_.host, std::to_string(proxy_.port)));
      open_ = true;
    }
    bhttp::request<bhttp::empty_body> request(bhttp::verb::get, get.target, 11);
    request.set(bhttp::field::host, get.host);
    request.set(bhttp::field::user_agent, "s3hc-ctl-warm");
    bhttp::write(stream_, request);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(stream_, buffer, parser);
    Outcome outcome;
    char chunk[64 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      beast::error_code ec;
      bhttp::read(stream_, buffer, parser, ec);
      if (ec && ec != bhttp::error::need_buffer) throw beast::system_error(ec);
      outcome.bytes += sizeof chunk - parser.get().body().size;
    }
    if (!parser.keep_alive()) close();
    const auto status = parser.get().result_int();
    outcome.ok = status == 200;
    const auto x_cache = parser.get()["X-Cache"];
    outcome.cache_status = outcome.ok ? std::string(x_cache.empty() ? "none" : x_cache)
                                      : "HTTP " + std::to_string(status);
    return outcome;
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    open_ = false;
  }

  const http::HostPort proxy_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  bool open_ = false;
};

int warm(const Invocation& invocation, const WarmArgs& args) {
  std::ifstream in(args.manifest);
  if (!in) {
    std::cerr << "s3hc-ctl: cannot read the manifest " << args.manifest << "\n";
    return 1;
  }
  std::vector<SignedGet> gets;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    auto get = split_url(line);
    if (!get) {
      std::cerr << "s3hc-ctl: " << args.manifest << " line " << number << ": not a URL\n";
      return 1;
    }
    gets.push_back(std::move(*get));
  }
  std::vector<http::HostPort> proxies;
  for (const auto& proxy : args.proxies) proxies.push_back(http::parse_host_port(proxy));

  std::atomic<std::size_t> next{0};
  std::mutex mutex;  // guards the counts below and stderr
  std::size_t done = 0, failed = 0;
  std::uint64_t bytes = 0;
  std::map<std::string, std::size_t> by_status;
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < args.parallel; ++w) {
    workers.emplace_back([&, w] {
      std::vector<std::unique_ptr<ProxyConnection>> connections;
      for (const auto& proxy : proxies) {
        connections.push_back(std::make_unique<ProxyConnection>(proxy));
      }
      for (auto i = next++; i < gets.size(); i = next++) {
        // Spread over the proxies given, as clients of the fleet's DNS name would be.
        const auto outcome =
            connections[(i + static_cast<std::size_t>(w)) % proxies.size()]->fetch(gets[i]);
        std::lock_guard lock(mutex);
        ++done;
        bytes += outcome.bytes;
        ++by_status[outcome.cache_status];
        if (!outcome.ok) {
          ++failed;
          // (The query, with its signature, is left out of the message.)
          const auto path = gets[i].target.substr(0, gets[i].target.find('?'));
          std::cerr << (progress ? "\n" : "") << "s3hc-ctl: " << gets[i].host << path << ": "
                    << outcome.cache_status << "\n";
        }
        if (progress) std::cerr << "\rwarmed " << done << "/" << gets.size() << std::flush;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  if (progress) std::cerr << "\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (invocation.json) {
    std::cout << nlohmann::json{{"urls", gets.size()}, {"failed", failed}, {"bytes", bytes},
                                {"seconds", seconds}, {"cache_status", by_status}}
                     .dump()
              << "\n";
  } else {
    std::vector<Row> rows{{"urls", std::to_string(gets.size())},
                          {"failed", std::to_string(failed)},
                          {"bytes", std::to_string(bytes)},
                          {"seconds", std::to_string(seconds)}};
    for (const auto& [status, count] : by_status) {
      rows.push_back({"answers " + status, std::to_string(count)});
    }
    print_table(std::cout, {"WARM", ""}, rows);
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

void add_warm_command(CLI::App& app, Invocation& invocation) {
  auto args = std::make_shared<WarmArgs>();
  auto* command = app.add_subcommand(
      "warm", "Read objects into the fleet's cache from a manifest of presigned GET URLs (one "
              "per line): each is replayed through a proxy with its own signature, so the cache "
              "never holds a credential");
  command->add_option("-f,--file", args->manifest, "Manifest of presigned URLs")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--proxy", args->proxies, "A proxy's HOST:PORT (repeatable: spread)")
      ->capture_default_str();
  command->add_option("--parallel", args->parallel, "GETs at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command->callback([&invocation, args] { invocation.exit_status = warm(invocation, *args); });
}

}  // namespace s3hc::cli
