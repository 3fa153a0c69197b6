// Writes to an object through the proxy. A PutObject body is cached as it streams to the
// origin (aws-chunked bodies decoded for the cache, forwarded unchanged) and kept only when the
// origin stored it (2xx with an ETag), so a read after the write is a hit. Multipart uploads
// the same way: CreateMultipartUpload's metadata and each part are kept with the upload, and a
// successful CompleteMultipartUpload makes the parts it names the object. Every other write to
// an object (CopyObject onto it, DeleteObject, ?tagging, a PUT too large to keep, a completion
// whose parts went past the cache) drops what the cache holds of it. The cache is settled when
// the origin's answer arrives and before the client sees its end: whoever reads after the
// write completed never gets stale bytes.
//
// Thread-safety: each call serves one request, on the client connection's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "http/request_handler.h"
#include "pipeline/cache_context.h"
#include "pipeline/origin_context.h"
#include "s3/operation.h"

namespace s3hc::pipeline {

// `operation`: a write to one object (PutObject, CopyObject, a multipart step, DeleteObject or
// another write to it); `policy`: the rules for that object (object_policy.h).
boost::asio::awaitable<bool> write_through(http::ClientConnection& client,
                                           http::RequestParser& request, OriginContext& origin,
                                           CacheContext& cache, const CachePolicy& policy,
                                           s3::Operation operation);

// PostObject (POST /bucket with a multipart/form-data body, HTML form uploads): the object its
// "key" field names is dropped from the cache once the origin answered.
boost::asio::awaitable<bool> post_object(http::ClientConnection& client,
                                         http::RequestParser& request, OriginContext& origin,
                                         CacheContext& cache, std::string bucket);

// DeleteObjects (POST /bucket?delete): every key its body names is dropped from the cache once
// the origin answered.
boost::asio::awaitable<bool> delete_objects(http::ClientConnection& client,
                                            http::RequestParser& request, OriginContext& origin,
                                            CacheContext& cache, std::string bucket);

}  // namespace s3hc::pipeline
