#include "control/control_agent.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "cache/synced_file.h"
#include "control/pushed_policy_file.h"
#include "s3hc/v1/control.grpc.pb.h"

namespace s3hc::control {

namespace {

constexpr std::int64_t kFirstRetryMs = 200;
constexpr std::int64_t kLastRetryMs = 5000;
constexpr auto kCallTimeout = std::chrono::seconds(5);

std::shared_ptr<grpc::ChannelCredentials> credentials(const ControlOptions& options) {
  if (options.ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = cache::read_whole_file(options.ca_file).value_or("");
  return grpc::SslCredentials(ssl);
}

void with_deadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
}

}  // namespace

struct ControlAgent::Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ProxyControl::Stub> stub;
};

ControlAgent::ControlAgent(ControlOptions options, ProxyIdentity identity, ProxySide proxy)
    : options_(std::move(options)),
      identity_(std::move(identity)),
      proxy_(std::move(proxy)),
      connection_(std::make_unique<Connection>()) {
  connection_->channel = grpc::CreateChannel(options_.endpoint, credentials(options_));
  connection_->stub = v1::ProxyControl::NewStub(connection_->channel);
  thread_ = std::thread([this] { run(); });
}

ControlAgent::~ControlAgent() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (watch_) watch_->TryCancel();
    if (commands_) commands_->TryCancel();
  }
  wake_.notify_all();
  thread_.join();
}

bool ControlAgent::pause(std::int64_t duration_ms) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, std::chrono::milliseconds(duration_ms),
                         [this] { return stopping_; });
}

v1::ProxyStatus ControlAgent::status() const {
  v1::ProxyStatus status;
  status.set_proxy_id(identity_.proxy_id);
  status.set_software_version(identity_.software_version);
  for (const auto& address : identity_.listen_addresses) status.add_listen_addresses(address);
  const bool draining = proxy_.draining();
  status.set_healthy(!draining);
  status.set_draining(draining);
  status.set_policy_version(proxy_.policy_version());
  return status;
}

void ControlAgent::run() {
  auto retry_ms = kFirstRetryMs;
  while (pause(0)) {
    const bool registered = session();
    retry_ms = registered ? kFirstRetryMs : std::min(2 * retry_ms, kLastRetryMs);
    if (!pause(retry_ms)) return;
  }
}

bool ControlAgent::session() {
  v1::RegisterResponse registered;
  grpc::ClientContext register_context;
  with_deadline(register_context);
  if (const auto result = connection_->stub->Register(&register_context, status(), &registered);
      !result.ok()) {
    spdlog::debug("control plane {}: cannot register: {}", options_.endpoint,
                  result.error_message());
    return false;
  }
  spdlog::info("control plane {}: registered as {}", options_.endpoint, identity_.proxy_id);
  grpc::ClientContext watch_context;
  grpc::ClientContext commands_context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return true;
    watch_ = &watch_context;
    commands_ = &commands_context;
    session_over_ = false;
  }
  std::thread heartbeats([this, interval = registered.heartbeat_interval_ms()] {
    heartbeat_until_over(interval);
  });
  std::thread commands([this, &commands_context] { follow_commands(commands_context); });
  connected_ = true;
  follow_policy(watch_context);
  connected_ = false;
  {
    std::lock_guard lock(mutex_);
    watch_ = nullptr;
    commands_context.TryCancel();  // the session ends with its policy stream
    commands_ = nullptr;
    session_over_ = true;
  }
  wake_.notify_all();
  heartbeats.join();
  commands.join();
  return true;
}

void ControlAgent::follow_policy(grpc::ClientContext& context) {
  v1::WatchPolicyRequest request;
  request.set_proxy_id(identity_.proxy_id);
  request.set_known_version(proxy_.policy_version());
  const auto stream = connection_->stub->WatchPolicy(&context, request);
  v1::PolicyRevision revision;
  while (stream->Read(&revision)) {
    try {
      write_pushed_policy(options_.policy_file, revision.snapshot());
      spdlog::info("control plane {}: policy version {} received", options_.endpoint,
                   revision.version());
    } catch (const std::exception& error) {
      spdlog::error("control plane {}: cannot keep policy version {} in {}: {}",
                    options_.endpoint, revision.version(), options_.policy_file, error.what());
    }
  }
  const auto ended = stream->Finish();
  spdlog::warn("control plane {}: policy stream ended ({}); serving on with policy version {}",
               options_.endpoint, ended.ok() ? "closed" : ended.error_message(),
               proxy_.policy_version());
}

void ControlAgent::follow_commands(grpc::ClientContext& context) {
  v1::WatchCommandsRequest request;
  request.set_proxy_id(identity_.proxy_id);
  const auto stream = connection_->stub->WatchCommands(&context, request);
  v1::ProxyCommand command;
  while (stream->Read(&command)) {
    auto result = proxy_.carry_out(command);
    result.set_proxy_id(identity_.proxy_id);
    result.set_command_id(command.command_id());
    grpc::ClientContext report_context;
    with_deadline(report_context);
    v1::ReportCommandResponse received;
    if (const auto reported =
            connection_->stub->ReportCommand(&report_context, result, &received);
        !reported.ok()) {
      spdlog::warn("control plane {}: cannot report command {}: {}", options_.endpoint,
                   command.command_id(), reported.error_message());
    }
  }
  const auto ended = stream->Finish();
  spdlog::debug("control plane {}: command stream ended ({})", options_.endpoint,
                ended.ok() ? "closed" : ended.error_message());
}

void ControlAgent::heartbeat_now() {
  {
    std::lock_guard lock(mutex_);
    heartbeat_asked_ = true;
  }
  wake_.notify_all();
}

bool ControlAgent::await_heartbeat(std::int64_t interval_ms) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(interval_ms, 100)),
                 [this] { return stopping_ || session_over_ || heartbeat_asked_; });
  heartbeat_asked_ = false;
  return !stopping_ && !session_over_;
}

void ControlAgent::heartbeat_until_over(std::int64_t interval_ms) {
  while (await_heartbeat(interval_ms)) {
    grpc::ClientContext context;
    with_deadline(context);
    v1::HeartbeatResponse ignored;
    if (const auto result = connection_->stub->Heartbeat(&context, status(), &ignored);
        !result.ok()) {
      spdlog::debug("control plane {}: heartbeat failed: {}", options_.endpoint,
                    result.error_message());
      continue;
    }
    grpc::ClientContext report_context;
    with_deadline(report_context);
    v1::ReportMetricsResponse received;
    if (const auto result =
            connection_->stub->ReportMetrics(&report_context, proxy_.metrics(), &received);
        !result.ok()) {
      spdlog::debug("control plane {}: metrics report failed: {}", options_.endpoint,
                    result.error_message());
    }
  }
}

}  // namespace s3hc::control
