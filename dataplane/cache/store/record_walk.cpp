#include "cache/store/record_walk.h"

#include <filesystem>

#include "cache/cache_layout.h"
#include "cache/synced_file.h"

namespace s3hc::cache {

bool is_cache_dir(const std::string& dir) {
  return std::filesystem::is_directory(std::filesystem::path(dir) / "objects");
}

void for_each_record(const std::string& dir,
                     const std::function<void(const v1::CacheRecord&)>& visit) {
  std::error_code ec;
  const auto objects = std::filesystem::path(dir) / "objects";
  for (std::filesystem::recursive_directory_iterator it(objects, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().filename() != kRecordFileName) continue;
    const auto bytes = read_whole_file(it->path().string());
    v1::CacheRecord record;
    if (bytes && record.ParseFromString(*bytes)) visit(record);
  }
}

}  // namespace s3hc::cache
