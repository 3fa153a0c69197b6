#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cache/cache_layout.h"
#include "cache/record_changes.h"
#include "cache/store/purge.h"
#include "cache/store/record_walk.h"
#include "cli/commands.h"
#include "util/wall_clock.h"

namespace s3hc::cli {

namespace {

struct PurgeArgs {
  std::string cache_dir;  // set: purged here; empty: by a proxy, through the control plane
  cache::PurgeScope scope;
};

void print_purged(const Invocation& invocation, std::uint64_t purged, const std::string& proxy) {
  if (invocation.json) {
    nlohmann::json answer{{"purged", purged}};
    if (!proxy.empty()) answer["proxy"] = proxy;
    std::cout << answer.dump() << "\n";
  } else {
    std::cout << "purged " << purged << " object(s)"
              << (proxy.empty() ? "" : " (carried out by proxy " + proxy + ")") << "\n";
  }
}

// On the mounted shared directory, through an ObjectStore as a proxy would.
int purge_here(const Invocation& invocation, const PurgeArgs& args) {
  if (!cache::is_cache_dir(args.cache_dir)) {
    std::cerr << "s3hc-ctl: " << args.cache_dir << " is no s3hc cache directory\n";
    return 1;
  }
  cache::ObjectStoreOptions options;
  options.ram_bytes = 0;
  cache::ObjectStore store(cache::CacheLayout(args.cache_dir), options, nullptr, nullptr,
                           cache::RecordChanges::open(args.cache_dir));
  print_purged(invocation, cache::purge(store, args.scope, util::unix_now_ms()), {});
  return 0;
}

// By one proxy of the fleet, which the control plane picks.
int purge_through_control(const Invocation& invocation, const PurgeArgs& args) {
  ControlClient client(invocation.control);
  v1::PurgeRequest request;
  request.set_bucket(args.scope.bucket);
  request.set_key(args.scope.key);
  request.set_prefix(args.scope.prefix);
  v1::PurgeResponse response;
  const auto status = client.admin().Purge(client.context().get(), request, &response);
  if (!status.ok()) return report_failure("purge", status);
  print_purged(invocation, response.purged(), response.proxy_id());
  return 0;
}

}  // namespace

void add_purge_command(CLI::App& app, Invocation& invocation) {
  auto args = std::make_shared<PurgeArgs>();
  auto* command = app.add_subcommand(
      "purge", "Drop objects from the fleet's cache: a key, a prefix or a whole bucket (every "
               "proxy's next read is a miss); carried out by a proxy the control plane picks, "
               "or here with --cache-dir");
  command->add_option("--cache-dir", args->cache_dir,
                      "The fleet's shared cache directory, mounted here: purge without the "
                      "control plane");
  command->add_option("bucket", args->scope.bucket, "Bucket")->required();
  command->add_option("key", args->scope.key, "One object's key");
  command->add_option("--prefix", args->scope.prefix, "Every object whose key starts so");
  command->callback([&invocation, args] {
    if (const auto fault = cache::purge_scope_fault(args->scope); !fault.empty()) {
      std::cerr << "s3hc-ctl: " << fault << "\n";
      invocation.exit_status = 2;
      return;
    }
    invocation.exit_status = args->cache_dir.empty() ? purge_through_control(invocation, *args)
                                                     : purge_here(invocation, *args);
  });
}

}  // namespace s3hc::cli
