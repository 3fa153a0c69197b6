#include "pipeline/cache_read.h"

#include <exception>
#include <spdlog/spdlog.h>

namespace s3hc::pipeline {

bool read_guarded(std::string_view bucket, std::string_view key,
                  const std::function<bool()>& read) {
  try {
    return read();
  } catch (const std::exception& error) {
    spdlog::warn("cache read of {}/{} failed: {}", bucket, key, error.what());
    return false;
  }
}

}  // namespace s3hc::pipeline
