// What an origin response to a cacheable read tells the cache: the object version it belongs
// to (ETag, size, Last-Modified, the headers replayed on hits) and which bytes of it the body
// carries. Only complete, identifiable answers qualify: 200 or 206 with an ETag and a known
// length; anything else is relayed without being cached.
// Pure functions; any thread.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>

#include "cache/store/object_store.h"

namespace s3hc::pipeline {

using ResponseHeader = boost::beast::http::response_header<>;

struct CacheableBody {
  cache::ObjectMeta meta;
  // Of the object; for an empty body none: length() 0 (last = first - 1).
  s3::ByteRange bytes{.first = 0, .last = ~std::uint64_t{0}};
  bool empty = false;
};

// The version a 200 answer to a HEAD describes; nullopt when it cannot be cached.
std::optional<cache::ObjectMeta> head_meta(const ResponseHeader& response);

// The bytes a 200/206 answer to a GET carries. `part_number`: the request's ?partNumber=N,
// whose 206 answer reveals where part N lies.
std::optional<CacheableBody> cacheable_body(const ResponseHeader& response,
                                            std::optional<std::uint32_t> part_number);

}  // namespace s3hc::pipeline
