// A StoreObserver that remembers what it was told, for tests of what the store reports to the
// fleet engine (sizes and accesses by directory).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store_observer.h"

namespace s3hc::testing {

class RecordingStoreObserver final : public cache::StoreObserver {
 public:
  struct Stored {
    std::string dir_id;
    std::uint64_t bytes;
    std::optional<v1::CacheRecord> record;  // none: reported without one (uploads)
  };

  void stored(std::string_view dir_id, std::uint64_t bytes,
              const v1::CacheRecord* record) override {
    std::lock_guard lock(mutex_);
    stored_.push_back({std::string(dir_id), bytes,
                       record ? std::optional<v1::CacheRecord>(*record) : std::nullopt});
  }
  void accessed(std::string_view dir_id) override {
    std::lock_guard lock(mutex_);
    accessed_.emplace_back(dir_id);
  }

  std::vector<Stored> stored() const {
    std::lock_guard lock(mutex_);
    return stored_;
  }
  std::vector<std::string> accessed() const {
    std::lock_guard lock(mutex_);
    return accessed_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    stored_.clear();
    accessed_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Stored> stored_;
  std::vector<std::string> accessed_;
};

}  // namespace s3hc::testing
