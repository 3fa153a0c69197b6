// Every record of a shared cache directory, read as the proxies write them
// (cache/cache_layout.h): what a purge by prefix and s3hc-ctl cache inspect walk. Reads only.
#pragma once

#include <functional>
#include <string>

#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

// Whether `dir` looks like an s3hc cache directory (it has objects/).
bool is_cache_dir(const std::string& dir);

// Calls `visit` with every object record that parses (tombstones included), in no order.
void for_each_record(const std::string& dir,
                     const std::function<void(const v1::CacheRecord&)>& visit);

}  // namespace s3hc::cache
