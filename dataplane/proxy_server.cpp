#include "proxy_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <thread>

#include "cache/evicted_news.h"
#include "cache/file_system_kind.h"
#include "cache/fleet/fleet_engine.h"
#include "cache/record_changes.h"
#include "cache/store/object_store.h"
#include "http/admission.h"
#include "http/listener.h"
#include "http/network_connector.h"
#include "http/origin_router.h"
#include "obs/access_log.h"
#include "obs/admin_server.h"
#include "obs/dashboard.h"
#include "obs/cache_metrics.h"
#include "obs/metrics.h"
#include "obs/otlp_exporter.h"
#include "obs/otlp_http_transport.h"
#include "obs/passthrough_metrics.h"
#include "obs/ports_file.h"
#include "obs/proxy_metrics.h"
#include "passthrough/byte_relay.h"
#include "passthrough/passthrough_session.h"
#include "pipeline/cache_handler.h"
#include "pipeline/forward_handler.h"
#include "control/command_runner.h"
#include "control/control_agent.h"
#include "control/metrics_report.h"
#include "control/pushed_policy_file.h"
#include "policy/policy_source.h"
#include "util/wall_clock.h"
#include "version.h"

namespace s3hc {

namespace asio = boost::asio;

namespace {

asio::ssl::context make_tls_context(const http::UpstreamOptions& options) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3);
  if (options.ca_file.empty()) {
    context.set_default_verify_paths();
  } else {
    context.load_verify_file(options.ca_file);
  }
  return context;
}

int worker_count(int configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}

// The fleet engine's options: its keys', plus a snapshot every 30 rounds and the read path's
// TTLs (expired objects are the first victims).
cache::FleetOptions fleet_options(const config::CacheOptions& options) {
  using std::chrono::milliseconds;
  auto fleet = options.fleet;
  fleet.snapshot_interval = 30 * fleet.interval;
  fleet.ttls = {.get_ttl = milliseconds(options.policy.get_ttl_ms),
                .put_ttl = milliseconds(options.policy.put_ttl_ms)};
  return fleet;
}

// The object store's options: its keys', plus whether a stat is cheap here and max_fill_age,
// the shorter of the sweeper's orphan age and the tombstones' retention (object_store.h).
cache::ObjectStoreOptions store_options(const config::CacheOptions& options, bool cheap_stats) {
  auto store = options.store;
  store.cheap_stats = cheap_stats;
  store.max_fill_age = options.fleet.sweep.max_fill_age();
  return store;
}

// Mirrors the fleet engine's view into the metrics after every round.
cache::FleetEngine::RoundObserver fleet_metrics_updater(obs::CacheMetrics& metrics) {
  return [&metrics, last = cache::FleetStats{}](const cache::FleetStats& stats) mutable {
    metrics.size_bytes.set(static_cast<std::int64_t>(stats.total_bytes));
    metrics.written_bytes.set(static_cast<std::int64_t>(stats.written_bytes));
    metrics.objects.set(static_cast<std::int64_t>(stats.objects));
    metrics.effective_capacity_bytes.set(static_cast<std::int64_t>(stats.capacity_bytes));
    metrics.maintenance_holder.set(stats.holder ? 1 : 0);
    metrics.evictions.inc(stats.evictions - last.evictions);
    metrics.evicted_bytes.inc(stats.evicted_bytes - last.evicted_bytes);
    metrics.expirations.inc(stats.expired - last.expired);
    last = stats;
  };
}

// Where requests go, for the start-up log and /health.
std::string upstream_description(const http::UpstreamOptions& upstream) {
  return upstream.url ? upstream.url->to_string() : std::string("the endpoint each Host names");
}

// Free passthrough relay buffers a worker keeps (32 KiB each): as many as directions that move
// bytes at one moment on a busy worker.
constexpr std::size_t kMaxFreePassthroughBuffers = 64;

// How late an I/O timeout may fire: timeouts are seconds long, and coarser sweeps cost less.
constexpr std::chrono::milliseconds kDeadlineResolution{100};

// The first worker opens a listening socket (`listening` null); the others share it.
asio::ip::tcp::acceptor worker_acceptor(asio::io_context& io, const http::HostPort& address,
                                        asio::ip::tcp::acceptor* listening) {
  return listening ? http::share_acceptor(io.get_executor(), *listening)
                   : http::open_acceptor(io.get_executor(), address);
}

// Everything one worker thread owns.
struct Worker {
  // With a cache context requests go through the cache; without, they are all forwarded.
  Worker(const config::ProxyConfig& config, asio::ssl::context& tls, obs::ProxyMetrics& metrics,
         pipeline::CacheContext* cache, asio::ip::tcp::acceptor* listening)
      : io(1),
        sweeper(io.get_executor(), kDeadlineResolution),
        resolver(io.get_executor(), config.upstream.resolver),
        router(config.upstream,
               [this, &config, &tls](const http::UpstreamUrl& origin,
                                     http::OriginRouter::NamedBy named_by) {
                 return std::make_unique<http::NetworkConnector>(
                     io.get_executor(), origin, named_by, config.upstream, tls, resolver,
                     sweeper);
               },
               metrics),
        origin(router,
               {.relay_buffer_bytes = config.limits.relay_buffer_bytes,
                .client_io_timeout = std::chrono::milliseconds(config.timeouts.client_read_ms),
                .upstream_io_timeout =
                    std::chrono::milliseconds(config.upstream.response_timeout_ms)},
               metrics),
        handler(cache ? std::unique_ptr<http::RequestHandler>(
                            std::make_unique<pipeline::CacheHandler>(origin, *cache))
                      : std::make_unique<pipeline::ForwardHandler>(origin)),
        acceptor(worker_acceptor(io, config.listen, listening)) {}

  // The HTTPS passthrough listener (passthrough.listen), on its own socket shared alike.
  void open_passthrough(const config::ProxyConfig& config, obs::PassthroughMetrics& metrics,
                        asio::ip::tcp::acceptor* listening) {
    passthrough_acceptor.emplace(worker_acceptor(io, *config.passthrough.listen, listening));
    // Held while bytes move, so counted with the HTTP relays' (what admission judges by).
    passthrough_buffers.emplace(passthrough::kRelayBufferBytes, kMaxFreePassthroughBuffers,
                                origin.metrics.buffered_bytes);
    passthrough.emplace(passthrough::PassthroughContext{.options = config.passthrough,
                                                        .upstream = config.upstream,
                                                        .resolver = resolver,
                                                        .sweeper = sweeper,
                                                        .buffers = *passthrough_buffers,
                                                        .metrics = metrics});
  }

  asio::io_context io;
  http::DeadlineSweeper sweeper;
  net::EndpointResolver resolver;
  http::OriginRouter router;
  pipeline::OriginContext origin;
  std::unique_ptr<http::RequestHandler> handler;
  asio::ip::tcp::acceptor acceptor;
  std::optional<asio::ip::tcp::acceptor> passthrough_acceptor;  // with passthrough.listen
  std::optional<http::RelayBuffers> passthrough_buffers;
  std::optional<passthrough::PassthroughContext> passthrough;
};

// service.instance.id: the configured one, else HOST:PORT (stable across restarts, unlike a
// random id, so a collector keeps one series per proxy).
std::string instance_id(const config::ObservabilityOptions& options, std::uint16_t listen_port) {
  if (!options.instance_id.empty()) return options.instance_id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return http::HostPort{host, listen_port}.to_string();
}

// The OTLP exporter on a thread of its own: neither its encoding nor a stalled collector ever
// holds up a worker.
struct MetricsExport {
  MetricsExport(const obs::OtlpExporterOptions& options, obs::MetricsRegistry& registry,
                obs::OtlpResource resource, std::chrono::system_clock::time_point start)
      : io(1),
        transport(io.get_executor(), *options.endpoint, options.timeout),
        exporter(io.get_executor(), registry, std::move(resource), options, transport, start) {}
  ~MetricsExport() { stop(); }

  void start() {
    asio::co_spawn(io, exporter.run(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  // Exports once more and ends the thread: within the export timeout.
  void stop() {
    if (!thread.joinable()) return;
    exporter.stop();
    thread.join();
  }

  asio::io_context io;
  obs::OtlpHttpTransport transport;
  obs::OtlpExporter exporter;
  std::thread thread;
};

}  // namespace

struct ProxyServer::State {
  explicit State(config::ProxyConfig cfg)
      : config(std::move(cfg)),
        tls(make_tls_context(config.upstream)),
        metrics(registry),
        admission(config.limits.admission, metrics),
        access_log(config.observability.access_log.path.empty()
                       ? nullptr
                       : std::make_unique<obs::AccessLog>(config.observability.access_log,
                                                          registry)),
        session_options{
            .max_header_bytes = config.limits.max_header_bytes,
            .read_buffer_bytes = config.limits.relay_buffer_bytes,
            .idle_timeout = std::chrono::milliseconds(config.timeouts.client_idle_ms),
            .io_timeout = std::chrono::milliseconds(config.timeouts.client_read_ms),
            .draining = &draining,
            .admission = &admission,
            .access_log = access_log.get()},
        started(std::chrono::steady_clock::now()),
        counting_since(std::chrono::system_clock::now()) {
    if (!config.cache.dir.empty()) open_cache();
    for (int i = 0; i < worker_count(config.threads); ++i) {
      workers.emplace_back(config, tls, metrics, cache_context ? &*cache_context : nullptr,
                           workers.empty() ? nullptr : &workers.front().acceptor);
    }
    if (config.passthrough.listen) {
      passthrough_metrics.emplace(registry);
      for (auto& worker : workers) {
        worker.open_passthrough(config, *passthrough_metrics,
                                &worker == &workers.front()
                                    ? nullptr
                                    : &*workers.front().passthrough_acceptor);
      }
    }
    auto& main_io = workers.front().io;
    admin_acceptor.emplace(http::open_acceptor(main_io.get_executor(), config.admin_listen));
    admin_endpoints.emplace(obs::AdminEndpoints{
        .metrics = [this] { return registry.render_prometheus(); },
        .dashboard = [this, self = dashboard_entry()] { return dashboard(self).dump(); },
        .health = [this] { return health(); }});
    const auto& observability = config.observability;
    if (observability.otlp.endpoint) {
      const auto& collector = *observability.otlp.endpoint;
      const auto id = instance_id(observability, workers.front().acceptor.local_endpoint().port());
      spdlog::info("OTLP metrics export to http://{}{} every {} ms as {}",
                   http::HostPort{collector.host, collector.port}.to_string(), collector.path,
                   observability.otlp.interval.count(), id);
      metrics_export.emplace(observability.otlp, registry,
                             obs::OtlpResource{.service_name = "s3hc-proxy",
                                               .service_instance_id = id,
                                               .service_version = kVersion},
                             counting_since);
    }
    if (!config.control.endpoint.empty()) join_control_plane();
  }

  // Registers with the control plane and follows its policy, once the listeners are bound (a
  // port 0 chosen: the proxy is known by its real address).
  void join_control_plane() {
    const auto listen_port = workers.front().acceptor.local_endpoint().port();
    control::ProxyIdentity identity{
        .proxy_id = instance_id(config.observability, listen_port),
        .software_version = kVersion,
        .listen_addresses = {http::HostPort{config.listen.host, listen_port}.to_string()}};
    const auto* source = policies ? &*policies : nullptr;
    control_agent.emplace(
        config.control, identity,
        control::ProxySide{
            .policy_version = [source] { return source ? source->version() : std::uint64_t{0}; },
            .metrics = [this, id = identity.proxy_id] {
              return control::metrics_report(registry, id, counting_since);
            },
            .carry_out = [store = object_store ? &*object_store : nullptr](
                             const v1::ProxyCommand& command) {
              return control::carry_out_command(store, command);
            },
            .draining = [this] { return draining.load(); }});
    spdlog::info("control plane {}: policy kept in {}", config.control.endpoint,
                 config.control.policy_file);
  }

  void open_cache() {
    const auto& options = config.cache;
    // An unusable directory is a start-up error, not a stream of failed fills.
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec || ::access(options.dir.c_str(), W_OK | X_OK) != 0) {
      throw std::runtime_error("cache.dir " + options.dir + " is not a writable directory" +
                               (ec ? ": " + ec.message() : std::string()));
    }
    if (options.io_threads > 0) cache_io.emplace(static_cast<std::size_t>(options.io_threads));
    // A hit's stat of the shared record (strict read-after-write) runs on the event loop only
    // where it costs no round trip to a server.
    const bool cheap_stats = !cache_io || !cache::is_network_file_system(options.dir);
    // Hits confirm records by the table where there is one (a local file system), else stat.
    const auto changes = cache::RecordChanges::open(options.dir);
    try {
      // Made now, while there is room: keeping an evicted record's time then needs none.
      cache::EvictedNews(cache::CacheLayout(options.dir)).make();
    } catch (const std::system_error& error) {
      spdlog::warn("cache.dir {}: {}; made again at the first eviction", options.dir, error.what());
    }
    spdlog::info("cache.dir {}: {} file system, record checks {} on the {}, large hits {}",
                 options.dir, cheap_stats ? "local" : "network",
                 changes ? "by the table of record changes" : "by a stat",
                 cheap_stats ? "event loops" : "I/O pool",
                 cheap_stats ? "sent from the page cache (sendfile) when it holds them"
                             : "read on the I/O pool");
    cache_metrics.emplace(registry);
    bucket_metrics.emplace(registry, config.observability.buckets);
    cache_metrics->max_size_bytes.set(static_cast<std::int64_t>(options.fleet.max_size_bytes));
    fleet.emplace(cache::CacheLayout(options.dir), cache::FleetEngine::new_proxy_id(),
                  fleet_options(options), fleet_metrics_updater(*cache_metrics), nullptr,
                  changes);
    object_store.emplace(
        cache::CacheLayout(options.dir), store_options(options, cheap_stats),
        options.mirror_dir.empty() ? nullptr : cache::MetadataMirror::open(options.mirror_dir),
        &fleet->observer(), changes);
    upload_store.emplace(*object_store, &fleet->observer());
    // With a control plane, the policy is the one it pushed, kept in a file of its own
    // (empty until the first push): the same reading, watching and atomic switch as a file.
    const bool pushed = !config.control.endpoint.empty();
    const auto& policy_file = pushed ? config.control.policy_file : options.policy_file;
    if (pushed) control::ensure_pushed_policy(policy_file);
    if (!policy_file.empty()) {
      policies.emplace(policy_file, std::chrono::milliseconds(options.policy_reload_ms),
                       [metrics = &*cache_metrics](std::uint64_t version, bool failed) {
                         metrics->policy_version.set(static_cast<std::int64_t>(version));
                         if (failed) metrics->policy_errors.inc();
                       },
                       pushed ? policy::PolicySource::Numbering::kSnapshotOnly
                              : policy::PolicySource::Numbering::kSnapshotOrCount);
    }
    fleet->start();
    cache_context.emplace(pipeline::CacheContext{
        .store = *object_store,
        .uploads = *upload_store,
        .io = cache_io ? &*cache_io : nullptr,
        .sendfile_from_page_cache = cheap_stats,
        .admission = &*fleet,
        .fills = fills,
        .policy = options.policy,
        .policies = policies ? &*policies : nullptr,
        .addressing = {},
        .metrics = *cache_metrics,
        .buckets = &*bucket_metrics,
        .sequential_reads = &sequential_reads});
  }

  // This proxy as its own dashboard lists it (what stays while it runs).
  obs::DashboardProxy dashboard_entry() const {
    const auto listen_port = workers.front().acceptor.local_endpoint().port();
    return {.id = instance_id(config.observability, listen_port),
            .version = kVersion,
            .listen = http::HostPort{config.listen.host, listen_port}.to_string(),
            .lost = false,
            .health = {},
            .policy_version = 0,
            .last_seen_ms_ago = 0};
  }

  // GET /api/dashboard of the admin port: this proxy's numbers, from one collect() of the
  // registry /metrics renders.
  nlohmann::json dashboard(obs::DashboardProxy self) const {
    self.health = draining.load() ? "draining" : "ok";
    self.policy_version = policies ? policies->version() : 0;
    return obs::dashboard_json(registry.collect(), {.scope = "proxy",
                                                    .now_unix_ms = util::unix_now_ms(),
                                                    .policy_version = self.policy_version,
                                                    .proxies = {std::move(self)}});
  }

  obs::Health health() const {
    const auto uptime = std::chrono::steady_clock::now() - started;
    const bool serving = !draining.load();
    nlohmann::json report{
        {"status", serving ? "ok" : "draining"},
        {"version", kVersion},
        {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(uptime).count()},
        {"upstream", upstream_description(config.upstream)},
        {"open_connections", metrics.open_connections.value()},
    };
    // (The proxy serves either way: the control plane is never on a request's path.)
    if (control_agent) report["control"] = control_agent->connected() ? "connected" : "unreachable";
    return {serving, report.dump()};
  }

  // Stops accepting, lets open connections finish their current request (idle ones close at
  // once), passthrough connections end (the proxy cannot tell an idle one: it sees no
  // requests) and running fills end for up to shutdown_grace_ms, then stops every event loop.
  asio::awaitable<void> drain_and_stop() {
    draining = true;
    if (control_agent) control_agent->heartbeat_now();  // the fleet's view shows it at once
    for (auto& worker : workers) {
      asio::post(worker.io, [&worker] {
        boost::system::error_code ignored;
        worker.acceptor.close(ignored);
        if (worker.passthrough_acceptor) worker.passthrough_acceptor->close(ignored);
        worker.sweeper.start_draining();
      });
    }
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(config.shutdown_grace_ms);
    asio::steady_timer poll(workers.front().io);
    // Fills running on their own (their clients gone) are waited for too: one stopped with
    // the event loops commits nothing.
    const auto busy = [this] {
      return metrics.open_connections.value() > 0 ||
             (passthrough_metrics && passthrough_metrics->open_connections.value() > 0) ||
             (cache_metrics && cache_metrics->fills_in_flight.value() > 0);
    };
    while (busy() && std::chrono::steady_clock::now() < give_up) {
      poll.expires_after(std::chrono::milliseconds(50));
      co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    spdlog::info("stopping with {} client connections open", metrics.open_connections.value());
    for (auto& worker : workers) worker.io.stop();
  }

  config::ProxyConfig config;
  asio::ssl::context tls;
  obs::MetricsRegistry registry;
  obs::ProxyMetrics metrics;
  http::AdmissionGate admission;  // of every worker's requests
  std::unique_ptr<obs::AccessLog> access_log;  // when configured
  std::optional<obs::PassthroughMetrics> passthrough_metrics;  // with passthrough.listen
  http::SessionOptions session_options;
  std::chrono::steady_clock::time_point started;
  std::chrono::system_clock::time_point counting_since;  // the registry's counts start here
  std::atomic<bool> draining{false};
  // The cache, when configured (cache.dir).
  std::optional<asio::thread_pool> cache_io;
  std::optional<obs::CacheMetrics> cache_metrics;
  std::optional<obs::BucketMetrics> bucket_metrics;
  std::optional<cache::FleetEngine> fleet;  // outlives the store, which reports to it
  pipeline::FillRegistry fills;  // of this process, that requests may join
  pipeline::SequentialReads sequential_reads;  // which objects clients read sequentially
  std::optional<cache::ObjectStore> object_store;
  std::optional<cache::UploadStore> upload_store;  // completes uploads into object_store
  std::optional<policy::PolicySource> policies;
  std::optional<pipeline::CacheContext> cache_context;
  std::deque<Worker> workers;  // deque: workers are neither copyable nor movable
  std::optional<asio::ip::tcp::acceptor> admin_acceptor;
  std::optional<obs::AdminEndpoints> admin_endpoints;
  std::optional<MetricsExport> metrics_export;  // when observability.otlp.endpoint is set
  std::optional<control::ControlAgent> control_agent;  // when control.endpoint is set
};

ProxyServer::ProxyServer(config::ProxyConfig config)
    : state_(std::make_unique<State>(std::move(config))) {}

ProxyServer::~ProxyServer() = default;

void ProxyServer::run() {
  auto& state = *state_;
  auto& main_io = state.workers.front().io;

  // What the kernel chose for a port 0; the workers share the first one's socket.
  const auto& first = state.workers.front();
  obs::BoundPorts ports{.listen = first.acceptor.local_endpoint().port(),
                        .admin = state.admin_acceptor->local_endpoint().port(),
                        .passthrough = std::nullopt};
  if (first.passthrough_acceptor) {
    ports.passthrough = first.passthrough_acceptor->local_endpoint().port();
    spdlog::info("HTTPS passthrough listening on {}",
                 http::HostPort{state.config.passthrough.listen->host, *ports.passthrough}
                     .to_string());
  }
  const http::HostPort listening{state.config.listen.host, ports.listen};
  const http::HostPort admin{state.config.admin_listen.host, ports.admin};
  // The sockets already listen (connections queue) but none is accepted before the event
  // loops run below, so whoever reads the file finds a proxy about to serve.
  if (!state.config.ports_file.empty()) obs::write_ports_file(state.config.ports_file, ports);

  for (auto& worker : state.workers) {
    asio::co_spawn(worker.io, worker.sweeper.run(), asio::detached);
    asio::co_spawn(worker.io,
                   http::accept_clients(worker.acceptor, *worker.handler, state.session_options,
                                        worker.sweeper, state.metrics),
                   asio::detached);
    if (worker.passthrough) {
      asio::co_spawn(worker.io,
                     http::accept_connections(
                         *worker.passthrough_acceptor,
                         [&worker](asio::ip::tcp::socket socket) {
                           asio::co_spawn(worker.io,
                                          passthrough::run_passthrough(std::move(socket),
                                                                       *worker.passthrough),
                                          asio::detached);
                         }),
                     asio::detached);
    }
  }
  asio::co_spawn(main_io, obs::serve_admin(*state.admin_acceptor, *state.admin_endpoints),
                 asio::detached);
  if (state.metrics_export) state.metrics_export->start();

  asio::signal_set signals(main_io, SIGINT, SIGTERM);
  signals.async_wait([&state, &main_io](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining for up to {} ms", signal, state.config.shutdown_grace_ms);
    asio::co_spawn(main_io, state.drain_and_stop(), asio::detached);
  });

  spdlog::info("s3hc-proxy {} listening on {} (admin {}), upstream {}, {} worker threads, {}",
               kVersion, listening.to_string(), admin.to_string(),
               upstream_description(state.config.upstream), state.workers.size(),
               state.config.cache.dir.empty() ? std::string("no cache")
                                              : "cache in " + state.config.cache.dir);

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < state.workers.size(); ++i) {
    threads.emplace_back([&worker = state.workers[i]] { worker.io.run(); });
  }
  main_io.run();
  for (auto& worker : state.workers) worker.io.stop();
  for (auto& thread : threads) thread.join();
  // After the drain: the last export carries the final counts.
  if (state.metrics_export) state.metrics_export->stop();
  // A cache read still running on the pool hands its result back through a worker's executor:
  // it must finish before the workers' io_contexts are destroyed.
  if (state.cache_io) state.cache_io->join();
}

}  // namespace s3hc
