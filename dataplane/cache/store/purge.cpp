#include "cache/store/purge.h"

#include <vector>

#include "cache/store/record_walk.h"

namespace s3hc::cache {

std::string purge_scope_fault(const PurgeScope& scope) {
  if (scope.bucket.empty()) return "a purge names a bucket";
  if (!scope.key.empty() && !scope.prefix.empty()) return "a purge takes a key or a prefix, not both";
  return {};
}

std::size_t purge(ObjectStore& store, const PurgeScope& scope, std::int64_t now_ms) {
  std::vector<s3::ObjectAddress> named;
  if (!scope.key.empty()) {
    named.push_back({scope.bucket, scope.key});
  } else {
    for_each_record(store.layout().root(), [&](const v1::CacheRecord& record) {
      if (!record.etag().empty() && record.bucket() == scope.bucket &&
          record.key().starts_with(scope.prefix)) {
        named.push_back({record.bucket(), record.key()});
      }
    });
  }
  for (const auto& object : named) store.invalidate(object, now_ms);
  return named.size();
}

}  // namespace s3hc::cache
