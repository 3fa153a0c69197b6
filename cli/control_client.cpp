#include "cli/control_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace s3hc::cli {

namespace {

std::shared_ptr<grpc::ChannelCredentials> credentials(const ControlOptions& options) {
  if (options.ca_file.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(options.ca_file);
  if (!in) throw std::runtime_error("cannot read the CA file " + options.ca_file);
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  return grpc::SslCredentials(ssl);
}

}  // namespace

ControlClient::ControlClient(const ControlOptions& options)
    : options_(options),
      channel_(grpc::CreateChannel(options.address, credentials(options))),
      admin_(v1::FleetAdmin::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> ControlClient::context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  return context;
}

int exit_status_of(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 3;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 4;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return 5;
    case grpc::StatusCode::NOT_FOUND:
      return 6;
    default:
      return 1;
  }
}

}  // namespace s3hc::cli
