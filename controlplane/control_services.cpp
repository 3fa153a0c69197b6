#include "controlplane/control_services.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <type_traits>

#include "policy/policy_matcher.h"
#include "util/wall_clock.h"

namespace s3hc::control {

namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

// A policy change as the API answers it.
grpc::Status answer(PolicyChange change, v1::PolicyRevision* response) {
  return std::visit(
      [&](auto&& outcome) -> grpc::Status {
        using Outcome = std::decay_t<decltype(outcome)>;
        if constexpr (std::is_same_v<Outcome, v1::PolicyRevision>) {
          spdlog::info("policy version {} set{}{}", outcome.version(),
                       outcome.comment().empty() ? "" : ": ", outcome.comment());
          *response = std::move(outcome);
          return grpc::Status::OK;
        } else if constexpr (std::is_same_v<Outcome, PolicyConflict>) {
          return {grpc::StatusCode::FAILED_PRECONDITION,
                  "the policy in force is version " + std::to_string(outcome.in_force) +
                      ", not the one this change was made against: read it and try again"};
        } else if constexpr (std::is_same_v<Outcome, PolicyInvalid>) {
          return {grpc::StatusCode::INVALID_ARGUMENT, joined(outcome.errors)};
        } else {
          return {grpc::StatusCode::NOT_FOUND, "no such policy version"};
        }
      },
      std::move(change));
}

}  // namespace

grpc::Status ProxyControlService::Register(grpc::ServerContext* context,
                                           const v1::ProxyStatus* status,
                                           v1::RegisterResponse* response) {
  if (status->proxy_id().empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "a proxy registers with its id"};
  }
  spdlog::info("proxy {} registered from {} (policy version {})", status->proxy_id(),
               context->peer(), status->policy_version());
  proxies_.heard_from(*status, util::unix_now_ms());
  response->set_heartbeat_interval_ms(proxies_.heartbeat_interval().count());
  return grpc::Status::OK;
}

grpc::Status ProxyControlService::Heartbeat(grpc::ServerContext*, const v1::ProxyStatus* status,
                                            v1::HeartbeatResponse*) {
  if (status->proxy_id().empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "a proxy heartbeats with its id"};
  }
  proxies_.heard_from(*status, util::unix_now_ms());
  return grpc::Status::OK;
}

grpc::Status ProxyControlService::WatchPolicy(grpc::ServerContext* context,
                                              const v1::WatchPolicyRequest* request,
                                              grpc::ServerWriter<v1::PolicyRevision>* writer) {
  auto known = request->known_version();
  // Woken every second to notice a proxy gone or the server stopping.
  while (!context->IsCancelled() && !stopping_) {
    const auto newer = policies_.wait_for_newer(
        known, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    if (!newer) continue;
    if (!writer->Write(*newer)) break;
    known = newer->version();
  }
  return grpc::Status::OK;
}

grpc::Status ProxyControlService::ReportMetrics(grpc::ServerContext*,
                                                const v1::MetricsReport* report,
                                                v1::ReportMetricsResponse*) {
  if (report->proxy_id().empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "a proxy reports with its id"};
  }
  metrics_.report(*report);
  return grpc::Status::OK;
}

grpc::Status ProxyControlService::WatchCommands(grpc::ServerContext* context,
                                                const v1::WatchCommandsRequest* request,
                                                grpc::ServerWriter<v1::ProxyCommand>* writer) {
  if (request->proxy_id().empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "a proxy watches commands with its id"};
  }
  commands_.attach(request->proxy_id());
  // Woken every second to notice a proxy gone or the server stopping.
  while (!context->IsCancelled() && !stopping_) {
    const auto command = commands_.next(
        request->proxy_id(), std::chrono::steady_clock::now() + std::chrono::seconds(1));
    if (command && !writer->Write(*command)) break;
  }
  commands_.detach(request->proxy_id());
  return grpc::Status::OK;
}

grpc::Status ProxyControlService::ReportCommand(grpc::ServerContext*,
                                                const v1::CommandResult* result,
                                                v1::ReportCommandResponse*) {
  commands_.report(*result);
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::ListProxies(grpc::ServerContext* context,
                                            const v1::ListProxiesRequest*,
                                            v1::ListProxiesResponse* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  for (auto& entry : proxies_.list(util::unix_now_ms())) {
    *response->add_proxies() = std::move(entry);
  }
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::GetPolicy(grpc::ServerContext* context,
                                          const v1::GetPolicyRequest* request,
                                          v1::PolicyRevision* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  auto revision = request->version() == 0 ? policies_.current() : policies_.at(request->version());
  if (!revision) {
    return {grpc::StatusCode::NOT_FOUND, request->version() == 0 ? "no policy has been set"
                                                                 : "no such policy version"};
  }
  *response = std::move(*revision);
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::PutPolicy(grpc::ServerContext* context,
                                          const v1::PutPolicyRequest* request,
                                          v1::PolicyRevision* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  return answer(policies_.put(request->snapshot(), request->expected_version(), request->comment()),
                response);
}

grpc::Status FleetAdminService::ValidatePolicy(grpc::ServerContext* context,
                                               const v1::ValidatePolicyRequest* request,
                                               v1::ValidatePolicyResponse* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  for (auto& error : policy::PolicyMatcher::compile(request->snapshot()).errors) {
    response->add_errors(std::move(error));
  }
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::PolicyHistory(grpc::ServerContext* context,
                                              const v1::PolicyHistoryRequest* request,
                                              v1::PolicyHistoryResponse* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  for (auto& revision : policies_.history(request->limit())) {
    *response->add_revisions() = std::move(revision);
  }
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::RollbackPolicy(grpc::ServerContext* context,
                                               const v1::RollbackPolicyRequest* request,
                                               v1::PolicyRevision* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  auto comment = request->comment().empty()
                     ? "rollback to version " + std::to_string(request->to_version())
                     : request->comment();
  return answer(policies_.rollback(request->to_version(), request->expected_version(),
                                   std::move(comment)),
                response);
}

grpc::Status FleetAdminService::FleetStats(grpc::ServerContext* context,
                                           const v1::FleetStatsRequest*,
                                           v1::FleetStatsResponse* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  *response = metrics_.sum(proxies_.list(util::unix_now_ms()));
  return grpc::Status::OK;
}

grpc::Status FleetAdminService::Purge(grpc::ServerContext* context,
                                      const v1::PurgeRequest* request,
                                      v1::PurgeResponse* response) {
  if (auto denied = auth_.check(*context); !denied.ok()) return denied;
  if (request->bucket().empty() || (!request->key().empty() && !request->prefix().empty())) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "a purge names a bucket, and a key or a prefix (not both) or neither"};
  }
  v1::ProxyCommand command;
  *command.mutable_purge() = *request;
  // The operator's deadline, less a margin to answer in (a minute when it set none).
  const auto now = std::chrono::system_clock::now();
  const auto left = std::min<std::chrono::system_clock::duration>(
      context->deadline() - now - std::chrono::milliseconds(200), std::chrono::minutes(1));
  const auto outcome =
      commands_.carry_out(std::move(command), std::chrono::steady_clock::now() + left);
  if (std::holds_alternative<NoProxyConnected>(outcome)) {
    return {grpc::StatusCode::UNAVAILABLE,
            "no proxy is connected to carry out the purge (s3hc-ctl purge --cache-dir DIR "
            "purges on the shared directory without one)"};
  }
  if (std::holds_alternative<CommandTimedOut>(outcome)) {
    return {grpc::StatusCode::DEADLINE_EXCEEDED,
            "no proxy reported the purge done in time (it may still finish; a purge may be "
            "run again)"};
  }
  const auto& result = std::get<v1::CommandResult>(outcome);
  if (!result.error().empty()) {
    return {grpc::StatusCode::INTERNAL,
            "proxy " + result.proxy_id() + " could not purge: " + result.error()};
  }
  spdlog::info("purge of {}/{}{} carried out by proxy {}: {} object(s)", request->bucket(),
               request->key(), request->prefix().empty() ? "" : request->prefix() + "*",
               result.proxy_id(), result.purged());
  response->set_proxy_id(result.proxy_id());
  response->set_purged(result.purged());
  return grpc::Status::OK;
}

}  // namespace s3hc::control
