// Sequential read-ahead: a range of an object fetched into the cache ahead of a client reading
// it in consecutive ranges (sequential_reads.h says which), so that its next request is a hit,
// on this proxy or any other of the fleet. The fetch is the client's own request with another
// Range and If-Match pinned to the version the client is reading: only asked for when the
// client's signature covers neither (s3::SignedHeaders::leaves_ranges_to_proxy), so S3 itself
// authorizes it as it does the client's reads. It is an ordinary fill under an ordinary fill
// lease: bytes the cache already holds, or that another request of the fleet is filling, are
// not fetched again, and requests for them wait for it as for any fill. A fetch that fails is
// dropped and counted; it never touches any client's answer.
//
// Thread-safety: on the worker thread that owns `origin`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <string>

#include "pipeline/cache_context.h"
#include "pipeline/origin_context.h"
#include "s3/byte_range.h"
#include "s3/object_address.h"

namespace s3hc::pipeline {

// What a read-ahead fetches: `bytes` of `object`'s version `etag` (`size` bytes), asked for
// with a copy of `request` (the client's, as it came), under the rules of `policy`.
struct ReadAheadRange {
  boost::beast::http::request_header<> request;
  s3::ObjectAddress object;
  s3::ByteRange bytes;
  std::string etag;
  std::uint64_t size = 0;
  CachePolicy policy;
};

// Fetches `range` into the cache unless it is there or being filled; counted by result
// (s3hc_cache_read_ahead_total).
boost::asio::awaitable<void> read_ahead(CacheContext& cache, OriginContext& origin,
                                        ReadAheadRange range);

}  // namespace s3hc::pipeline
