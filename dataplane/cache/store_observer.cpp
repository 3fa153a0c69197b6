#include "cache/store_observer.h"

#include "cache/disk_usage.h"

namespace s3hc::cache {

void report_dir(StoreObserver& observer, const CacheLayout& layout, const std::string& dir,
                const v1::CacheRecord* record) {
  observer.stored(std::string_view(dir).substr(layout.root().size() + 1),
                  directory_disk_usage(dir), record);
}

}  // namespace s3hc::cache
