#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cache/cache_layout.h"
#include "cache/synced_file.h"
#include "cache/store/record_walk.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace s3hc::cli {

namespace {

struct InspectArgs {
  std::string cache_dir;
  std::string bucket;
  std::string key;
};

std::uint64_t held_bytes(const v1::CacheRecord& record) {
  std::uint64_t held = 0;
  for (const auto& range : record.ranges()) held += range.last() - range.first() + 1;
  return held;
}

// One object's record, as the proxies hold it.
int inspect_object(const Invocation& invocation, const InspectArgs& args) {
  const auto path = cache::CacheLayout(args.cache_dir).record_path(args.bucket, args.key);
  const auto bytes = cache::read_whole_file(path);
  v1::CacheRecord record;
  if (!bytes || !record.ParseFromString(*bytes)) {
    std::cerr << "s3hc-ctl: the cache holds no record of " << args.bucket << "/" << args.key
              << "\n";
    return 6;
  }
  if (invocation.json) {
    std::cout << to_json(record);
    return 0;
  }
  const bool tombstone = record.etag().empty();
  std::vector<Row> rows{
      {"object", record.bucket() + "/" + record.key()},
      {"record", path},
      {"state", tombstone ? (record.absent() ? "absent (S3 answered 404)" : "dropped (tombstone)")
                          : (record.from_write() ? "written through" : "filled by a read")},
      {"etag", tombstone ? "-" : record.etag()},
      {"size", std::to_string(record.size())},
      {"held", std::to_string(held_bytes(record)) + " bytes in " +
                   std::to_string(record.ranges_size()) + " range file(s)"},
      {"fetched", utc_time(record.fetched_at_unix_ms())},
      {"validated", utc_time(record.validated_at_unix_ms())},
      {"generation", std::to_string(record.generation())}};
  print_table(std::cout, {"FIELD", "VALUE"}, rows);
  return 0;
}

// Every object of a bucket, or the whole directory's totals by bucket.
int inspect_many(const Invocation& invocation, const InspectArgs& args) {
  struct Totals {
    std::uint64_t objects = 0, dropped = 0, held = 0;
  };
  std::map<std::string, Totals> buckets;
  std::vector<Row> objects;
  nlohmann::json listed = nlohmann::json::array();
  cache::for_each_record(args.cache_dir, [&](const v1::CacheRecord& record) {
    if (!args.bucket.empty() && record.bucket() != args.bucket) return;
    auto& totals = buckets[record.bucket()];
    if (record.etag().empty()) {
      ++totals.dropped;
      return;
    }
    ++totals.objects;
    totals.held += held_bytes(record);
    if (args.bucket.empty()) return;
    objects.push_back({record.key(), std::to_string(record.size()),
                       std::to_string(held_bytes(record)), utc_time(record.fetched_at_unix_ms())});
    listed.push_back({{"key", record.key()}, {"size", record.size()},
                      {"held_bytes", held_bytes(record)}, {"etag", record.etag()}});
  });
  if (invocation.json) {
    nlohmann::json report{{"buckets", nlohmann::json::object()}};
    for (const auto& [name, totals] : buckets) {
      report["buckets"][name] = {{"objects", totals.objects},
                                 {"dropped", totals.dropped},
                                 {"held_bytes", totals.held}};
    }
    if (!args.bucket.empty()) report["objects"] = listed;
    std::cout << report.dump() << "\n";
    return 0;
  }
  if (!args.bucket.empty()) {
    print_table(std::cout, {"KEY", "SIZE", "HELD", "FETCHED"}, objects);
    return 0;
  }
  std::vector<Row> rows;
  for (const auto& [name, totals] : buckets) {
    rows.push_back({name, std::to_string(totals.objects), std::to_string(totals.dropped),
                    std::to_string(totals.held)});
  }
  print_table(std::cout, {"BUCKET", "OBJECTS", "DROPPED", "HELD BYTES"}, rows);
  return 0;
}

}  // namespace

void add_cache_command(CLI::App& app, Invocation& invocation) {
  auto args = std::make_shared<InspectArgs>();
  auto* cache = app.add_subcommand("cache", "The fleet's shared cache directory, read directly");
  cache->require_subcommand(1);
  auto* inspect = cache->add_subcommand(
      "inspect", "Totals by bucket, a bucket's objects, or one object's record (needs the "
                 "directory mounted here, not the control plane)");
  inspect->add_option("--cache-dir", args->cache_dir, "The fleet's shared cache directory")
      ->required();
  inspect->add_option("bucket", args->bucket, "Bucket");
  inspect->add_option("key", args->key, "Key");
  inspect->callback([&invocation, args] {
    if (!cache::is_cache_dir(args->cache_dir)) {
      std::cerr << "s3hc-ctl: " << args->cache_dir << " is no s3hc cache directory\n";
      invocation.exit_status = 1;
      return;
    }
    invocation.exit_status = args->key.empty() ? inspect_many(invocation, *args)
                                               : inspect_object(invocation, *args);
  });
}

}  // namespace s3hc::cli
