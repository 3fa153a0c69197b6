// The two gRPC services of s3hc-control (proto/s3hc/v1/control.proto) on the synchronous
// API: each call runs on a thread of gRPC's pool, and a WatchPolicy stream holds one while it
// lasts (a fleet is tens to hundreds of proxies).
//
// Thread-safety: any number of calls at once (PolicyStore and ProxyRegistry lock).
#pragma once

#include <atomic>

#include "controlplane/admin_auth.h"
#include "controlplane/fleet_metrics.h"
#include "controlplane/policy_store.h"
#include "controlplane/proxy_commands.h"
#include "controlplane/proxy_registry.h"
#include "s3hc/v1/control.grpc.pb.h"

namespace s3hc::control {

class ProxyControlService final : public v1::ProxyControl::Service {
 public:
  ProxyControlService(PolicyStore& policies, ProxyRegistry& proxies, FleetMetrics& metrics,
                      ProxyCommands& commands)
      : policies_(policies), proxies_(proxies), metrics_(metrics), commands_(commands) {}

  // Ends the WatchPolicy and WatchCommands streams (within a second) so that the server can
  // shut down.
  void stop() { stopping_ = true; }

  grpc::Status Register(grpc::ServerContext* context, const v1::ProxyStatus* status,
                        v1::RegisterResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::ProxyStatus* status,
                         v1::HeartbeatResponse* response) override;
  grpc::Status WatchPolicy(grpc::ServerContext* context, const v1::WatchPolicyRequest* request,
                           grpc::ServerWriter<v1::PolicyRevision>* writer) override;
  grpc::Status ReportMetrics(grpc::ServerContext* context, const v1::MetricsReport* report,
                             v1::ReportMetricsResponse* response) override;
  grpc::Status WatchCommands(grpc::ServerContext* context,
                             const v1::WatchCommandsRequest* request,
                             grpc::ServerWriter<v1::ProxyCommand>* writer) override;
  grpc::Status ReportCommand(grpc::ServerContext* context, const v1::CommandResult* result,
                             v1::ReportCommandResponse* response) override;

 private:
  PolicyStore& policies_;
  ProxyRegistry& proxies_;
  FleetMetrics& metrics_;
  ProxyCommands& commands_;
  std::atomic<bool> stopping_{false};
};

class FleetAdminService final : public v1::FleetAdmin::Service {
 public:
  FleetAdminService(PolicyStore& policies, ProxyRegistry& proxies, const FleetMetrics& metrics,
                    ProxyCommands& commands, const AdminAuth& auth)
      : policies_(policies),
        proxies_(proxies),
        metrics_(metrics),
        commands_(commands),
        auth_(auth) {}

  grpc::Status ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest* request,
                           v1::ListProxiesResponse* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::PolicyRevision* response) override;
  grpc::Status PutPolicy(grpc::ServerContext* context, const v1::PutPolicyRequest* request,
                         v1::PolicyRevision* response) override;
  grpc::Status ValidatePolicy(grpc::ServerContext* context,
                              const v1::ValidatePolicyRequest* request,
                              v1::ValidatePolicyResponse* response) override;
  grpc::Status PolicyHistory(grpc::ServerContext* context,
                             const v1::PolicyHistoryRequest* request,
                             v1::PolicyHistoryResponse* response) override;
  grpc::Status RollbackPolicy(grpc::ServerContext* context,
                              const v1::RollbackPolicyRequest* request,
                              v1::PolicyRevision* response) override;
  grpc::Status FleetStats(grpc::ServerContext* context, const v1::FleetStatsRequest* request,
                          v1::FleetStatsResponse* response) override;
  grpc::Status Purge(grpc::ServerContext* context, const v1::PurgeRequest* request,
                     v1::PurgeResponse* response) override;

 private:
  PolicyStore& policies_;
  ProxyRegistry& proxies_;
  const FleetMetrics& metrics_;
  ProxyCommands& commands_;
  const AdminAuth& auth_;
};

}  // namespace s3hc::control
