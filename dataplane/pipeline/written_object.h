// What a PutObject request and the origin's answer to it say about the object written, for
// the write-through cache: which PUTs qualify, the size of the object, and the headers a later
// GET would get from S3 (rebuilt by S3's rules, stored_headers.h, from the request's headers and
// the answer's ETag, encryption, version, expiration and checksum headers). Pure functions; any
// thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>

#include "cache/store/object_store.h"
#include "pipeline/stored_headers.h"

namespace s3hc::pipeline {

using ResponseHeader = boost::beast::http::response_header<>;

// Whether the request carries the SSE-C headers: S3 hands such bytes only to holders of the
// key, so they are never cached.
bool has_customer_key(const RequestHeader& request);

// Whether the body is aws-chunked (SigV4 streaming), to be decoded for the cache.
bool is_aws_chunked(const RequestHeader& request);

// The object's size as the request declares it; nullopt when it does not say.
std::optional<std::uint64_t> declared_object_size(const RequestHeader& request);

// The version a successful PutObject created; nullopt when the answer is not a 2xx with an ETag,
// or when the proxy cannot rebuild the headers S3 will answer reads with
// (stored_request_headers).
std::optional<cache::ObjectMeta> written_object_meta(const RequestHeader& request,
                                                     const ResponseHeader& response,
                                                     std::uint64_t size);

// What the answer to a write says about the version it created, whose ETag the caller read
// (from the ETag header, or CompleteMultipartUpload's body): the headers that describe the
// object (answer_header_describes_object), and its checksums for whole-object reads. The
// request's headers, the size, any parts and checksums named in a body are the caller's to add.
cache::ObjectMeta write_answer_meta(const ResponseHeader& response, std::string etag);

}  // namespace s3hc::pipeline
