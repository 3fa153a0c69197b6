// The bodies of multipart uploads: the UploadId CreateMultipartUpload answers with, the parts a
// CompleteMultipartUpload (POST /bucket/key?uploadId=...) assembles, and the final ETag of its
// response. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3hc::s3 {

struct CompletedPart {
  std::uint32_t part_number;  // 1-10000
  std::string etag;           // quoted (quoted_etag), whether the client sent the quotes or not

  bool operator==(const CompletedPart&) const = default;
};

// The parts of
//   <CompleteMultipartUpload [xmlns=...]>
//     <Part><PartNumber>1</PartNumber><ETag>"..."</ETag>[<ChecksumCRC32>...]</Part>...
//   </CompleteMultipartUpload>
// in order, each ETag quoted as UploadPart answered it: S3 takes part ETags with or without
// the quotes (s3cmd sends none), and both name the same part. Checksums and other children of
// Part are not looked at. nullopt when the XML is malformed (see parse_xml_document), the root
// is wrong, there are no parts, a Part lacks its PartNumber or ETag or has two, or part
// numbers are not decimal, within 1-10000 and strictly ascending (S3 rejects such requests
// too; InvalidPartOrder for the order).
std::optional<std::vector<CompletedPart>> parse_complete_multipart_upload(std::string_view body);

// The ETag ("\"...-N\"") of the object a successful CompleteMultipartUpload created, from
//   <CompleteMultipartUploadResult><Location/><Bucket/><Key/><ETag>...</ETag>...
// nullopt for anything else, in particular the <Error> document S3 may send with status 200
// when the upload fails after the response has begun (it sends 200 at once, then whitespace
// while it works, which is allowed before the document).
std::optional<std::string> parse_complete_multipart_result(std::string_view body);

// The object checksums the same result names, as the headers a whole-object GetObject with
// x-amz-checksum-mode: ENABLED answers with: <ChecksumCRC32>v</ChecksumCRC32> is
// x-amz-checksum-crc32: v (likewise for every Checksum<Algorithm>, those of algorithms newer
// than this code included), <ChecksumType>COMPOSITE</ChecksumType> is x-amz-checksum-type.
// Empty for anything but a CompleteMultipartUploadResult (or moto's ...Response).
std::vector<std::pair<std::string, std::string>> parse_complete_multipart_checksums(
    std::string_view body);

// An ETag in the double quotes S3 answers it with: "abc" for abc, unchanged when quoted.
std::string quoted_etag(std::string_view etag);

// The UploadId of <InitiateMultipartUploadResult>...<UploadId>ID</UploadId>...; nullopt for
// anything else.
std::optional<std::string> parse_initiate_multipart_result(std::string_view body);

}  // namespace s3hc::s3
