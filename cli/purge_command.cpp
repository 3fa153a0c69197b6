#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cache/cache_layout.h"
#include "cache/record_changes.h"
#include "cache/store/object_store.h"
#include "cli/cache_records.h"
#include "cli/commands.h"
#include "util/wall_clock.h"

namespace s3hc::cli {

namespace {

struct PurgeArgs {
  std::string cache_dir;
  std::string bucket;
  std::string key;     // one object
  std::string prefix;  // or every object under it (empty with no key: the whole bucket)
};

// The objects the shared directory holds that the purge names: the key's alone, else every
// record of the bucket under the prefix (each record names its object, so the directory is
// walked: a purge of a prefix reads every record once).
std::vector<s3::ObjectAddress> objects_named(const PurgeArgs& args) {
  if (!args.key.empty()) return {{args.bucket, args.key}};
  std::vector<s3::ObjectAddress> named;
  for_each_record(args.cache_dir, [&](const v1::CacheRecord& record) {
    if (!record.etag().empty() && record.bucket() == args.bucket &&
        record.key().starts_with(args.prefix)) {
      named.push_back({record.bucket(), record.key()});
    }
  });
  return named;
}

// Through the object store, as a proxy's write does: a tombstone every proxy's next lookup
// sees (strict read-after-write), the range files removed.
int purge(const Invocation& invocation, const PurgeArgs& args) {
  if (!is_cache_dir(args.cache_dir)) {
    std::cerr << "s3hc-ctl: " << args.cache_dir << " is no s3hc cache directory\n";
    return 1;
  }
  cache::ObjectStoreOptions options;
  options.ram_bytes = 0;
  cache::ObjectStore store(cache::CacheLayout(args.cache_dir), options, nullptr, nullptr,
                           cache::RecordChanges::open(args.cache_dir));
  const auto objects = objects_named(args);
  for (const auto& object : objects) store.invalidate(object, util::unix_now_ms());
  if (invocation.json) {
    std::cout << nlohmann::json{{"purged", objects.size()}}.dump() << "\n";
  } else {
    std::cout << "purged " << objects.size() << " object(s)\n";
  }
  return 0;
}

}  // namespace

void add_purge_command(CLI::App& app, Invocation& invocation) {
  auto args = std::make_shared<PurgeArgs>();
  auto* command = app.add_subcommand(
      "purge", "Drop objects from the fleet's cache: a key, a prefix or a whole bucket (on the "
               "shared cache directory, mounted here; every proxy's next read is a miss)");
  command->add_option("--cache-dir", args->cache_dir, "The fleet's shared cache directory")
      ->required();
  command->add_option("bucket", args->bucket, "Bucket")->required();
  command->add_option("key", args->key, "One object's key");
  command->add_option("--prefix", args->prefix, "Every object whose key starts so");
  command->callback([&invocation, args] {
    if (!args->key.empty() && !args->prefix.empty()) {
      std::cerr << "s3hc-ctl: purge takes a key or --prefix, not both\n";
      invocation.exit_status = 2;
      return;
    }
    invocation.exit_status = purge(invocation, *args);
  });
}

}  // namespace s3hc::cli
