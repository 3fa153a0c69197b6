// S3's rules for the headers of a written object: which headers of a PutObject or
// CreateMultipartUpload request, and of the answer to the write, S3 keeps with the object and
// returns on GET and HEAD, and in what form. The write-through cache answers reads of an object
// written through the proxy with these, so they must be what S3 itself would answer. Pure
// functions; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <optional>
#include <string_view>

#include "cache/store/object_store.h"

namespace s3hc::pipeline {

using RequestHeader = boost::beast::http::request_header<>;

// The headers a GET of the object the request writes would carry, as S3 stores them:
//   - x-amz-meta-* with the name in lower case (S3 keeps user metadata names in lower case) and
//     the value as sent;
//   - Content-Type as sent, binary/octet-stream when absent;
//   - Cache-Control, Content-Disposition, Content-Language, x-amz-website-redirect-location as
//     sent; Expires as sent when it is an IMF-fixdate;
//   - Content-Encoding without the aws-chunked transfer coding, none when that was all;
//   - x-amz-storage-class when not STANDARD (GET leaves STANDARD out);
//   - x-amz-tagging-count, the number of tags of x-amz-tagging.
// Every other request header (x-amz-acl, x-amz-grant-*, Content-MD5, x-amz-content-sha256,
// x-amz-decoded-content-length, Expect, checksums, SSE requests, ...) is not returned by GET and
// not kept; what S3 decides (encryption, version, checksums) comes from the answer.
//
// nullopt when the proxy cannot tell what S3 will answer, and the write is then not cached
// (the first read asks S3, which is slower but never wrong): a repeated header (S3 merges
// them), a value that is not printable ASCII or an empty one (metadata aside), user metadata
// that may be RFC 2047 encoded (S3 decodes and re-encodes it), an Expires date in another
// form, aws-chunked listed with several other codings, a storage class GET does not serve at
// once (GLACIER, DEEP_ARCHIVE) or that is not known, a tag set S3's count is unsure of, and any
// object-lock header (GET returns those only to readers allowed to see them, and in S3's own
// date form).
std::optional<cache::HeaderList> stored_request_headers(const RequestHeader& request);

// Whether a header of the origin's answer to a write describes the object it created and
// comes back on GET: x-amz-version-id, x-amz-expiration and the x-amz-server-side-encryption*
// headers, but not x-amz-server-side-encryption-context, which only writes answer with.
// Checksums (x-amz-checksum-*) are not among them: they come back only on whole-object reads.
bool answer_header_describes_object(std::string_view name);

}  // namespace s3hc::pipeline
