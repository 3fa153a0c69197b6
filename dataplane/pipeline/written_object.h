// What a PutObject request and the origin's answer to it say about the object written, for
// the write-through cache: which PUTs qualify, the size of the object, and the headers a later
// GET would get from S3 (rebuilt from the request's metadata headers and the answer's ETag,
// encryption, version and checksum headers). Pure functions; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>

#include "cache/object_store.h"

namespace s3hc::pipeline {

using RequestHeader = boost::beast::http::request_header<>;
using ResponseHeader = boost::beast::http::response_header<>;

// A plain PutObject: no sub-resource or upload part (no query), not a copy, not SSE-C (whose
// bytes S3 only hands to holders of the key).
bool is_plain_put_object(const RequestHeader& request);

// Whether the body is aws-chunked (SigV4 streaming), to be decoded for the cache.
bool is_aws_chunked(const RequestHeader& request);

// The object's size as the request declares it; nullopt when it does not say.
std::optional<std::uint64_t> declared_object_size(const RequestHeader& request);

// The version a successful PutObject created; nullopt when the answer is not a 2xx with an ETag.
std::optional<cache::ObjectMeta> written_object_meta(const RequestHeader& request,
                                                     const ResponseHeader& response,
                                                     std::uint64_t size);

}  // namespace s3hc::pipeline
