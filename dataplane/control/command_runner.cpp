#include "control/command_runner.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "cache/store/purge.h"
#include "util/wall_clock.h"

namespace s3hc::control {

namespace {

v1::CommandResult purge(cache::ObjectStore& store, const v1::PurgeRequest& request) {
  v1::CommandResult result;
  const cache::PurgeScope scope{request.bucket(), request.key(), request.prefix()};
  if (auto fault = cache::purge_scope_fault(scope); !fault.empty()) {
    result.set_error(std::move(fault));
    return result;
  }
  result.set_purged(cache::purge(store, scope, util::unix_now_ms()));
  spdlog::info("purge of {}/{}{} asked by the control plane: {} object(s)", scope.bucket,
               scope.key, scope.prefix.empty() ? "" : scope.prefix + "*", result.purged());
  return result;
}

}  // namespace

v1::CommandResult carry_out_command(cache::ObjectStore* store, const v1::ProxyCommand& command) {
  v1::CommandResult result;
  try {
    if (!command.has_purge()) {
      result.set_error("a command this proxy does not know (a newer control plane?)");
    } else if (!store) {
      result.set_error("this proxy keeps no cache");
    } else {
      result = purge(*store, command.purge());
    }
  } catch (const std::exception& error) {
    result.set_error(error.what());
  }
  return result;
}

}  // namespace s3hc::control
