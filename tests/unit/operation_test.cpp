#include <gtest/gtest.h>

#include "s3/operation.h"

namespace s3hc::s3 {
namespace {

using Kind = Operation::Kind;

const AddressingOptions kAddressing{.virtual_host_suffixes = {".s3.example.internal"}};

Operation classify(RequestParts request) {
  if (request.host.empty()) request.host = "localhost:8080";
  return classify_operation(request, kAddressing);
}

Kind kind_of(std::string_view method, std::string_view target) {
  return classify({.method = method, .target = target}).kind;
}

TEST(OperationTest, GetObject) {
  const auto get = classify({.method = "GET", .target = "/b/dir/k.txt"});
  EXPECT_EQ(get.kind, Kind::kGetObject);
  EXPECT_EQ(get.address, (ObjectAddress{"b", "dir/k.txt"}));
  EXPECT_TRUE(get.query.empty());
  EXPECT_FALSE(get.part_number);
  EXPECT_TRUE(get.upload_id.empty());

  const auto part = classify({.method = "GET", .target = "/b/k?partNumber=2&x-id=GetObject"});
  EXPECT_EQ(part.kind, Kind::kGetObject);
  EXPECT_EQ(part.part_number, 2u);
  // Parameters the read cache decides on (read_request.h) still name GetObject.
  EXPECT_EQ(kind_of("GET", "/b/k?versionId=3"), Kind::kGetObject);
  EXPECT_EQ(kind_of("GET", "/b/k?response-content-type=text%2Fplain"), Kind::kGetObject);
  // Presigned URLs, SigV4 and SigV2.
  EXPECT_EQ(kind_of("GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=a"),
            Kind::kGetObject);
  EXPECT_EQ(kind_of("GET", "/b/k?AWSAccessKeyId=AKIA&Signature=c2ln&Expires=1700000000"),
            Kind::kGetObject);
}

TEST(OperationTest, HeadObject) {
  const auto head = classify({.method = "HEAD",
                              .target = "/report.csv?partNumber=3",
                              .host = "my-bucket.s3.eu-west-1.amazonaws.com"});
  EXPECT_EQ(head.kind, Kind::kHeadObject);
  EXPECT_EQ(head.address, (ObjectAddress{"my-bucket", "report.csv"}));
  EXPECT_EQ(head.part_number, 3u);
}

TEST(OperationTest, ReadsOfSubResourcesAreOther) {
  for (const char* target :
       {"/b/k?acl", "/b/k?tagging", "/b/k?attributes", "/b/k?uploadId=u" /* ListParts */,
        "/b/k?partNumber=0", "/b/k?partNumber=10001", "/b/k?partNumber", "/b/k?p=%zz",
        "/b/k?partNumber=2&acl"}) {
    const auto operation = classify({.method = "GET", .target = target});
    EXPECT_EQ(operation.kind, Kind::kOther) << target;
    EXPECT_EQ(operation.address, (ObjectAddress{"b", "k"})) << target;
    EXPECT_FALSE(operation.part_number) << target;
  }
  EXPECT_EQ(kind_of("HEAD", "/b/k?acl"), Kind::kOther);
}

TEST(OperationTest, PutObject) {
  EXPECT_EQ(kind_of("PUT", "/b/k"), Kind::kPutObject);
  EXPECT_EQ(kind_of("PUT", "/b/k?x-id=PutObject"), Kind::kPutObject);
}

TEST(OperationTest, CopyObject) {
  const auto copy = classify({.method = "PUT", .target = "/b/k", .has_copy_source = true});
  EXPECT_EQ(copy.kind, Kind::kCopyObject);
  EXPECT_EQ(copy.address, (ObjectAddress{"b", "k"}));
}

TEST(OperationTest, CreateMultipartUpload) {
  const auto create = classify({.method = "POST", .target = "/b/what%3F?uploads"});
  EXPECT_EQ(create.kind, Kind::kCreateMultipartUpload);
  EXPECT_EQ(create.address, (ObjectAddress{"b", "what?"}));
  EXPECT_TRUE(create.upload_id.empty());
  EXPECT_EQ(kind_of("POST", "/b/k?uploads=&x-id=CreateMultipartUpload"),
            Kind::kCreateMultipartUpload);
}

TEST(OperationTest, UploadPart) {
  const auto part = classify({.method = "PUT", .target = "/b/k?partNumber=7&uploadId=abc%3D"});
  EXPECT_EQ(part.kind, Kind::kUploadPart);
  EXPECT_EQ(part.part_number, 7u);
  EXPECT_EQ(part.upload_id, "abc=");
  EXPECT_EQ(kind_of("PUT", "/b/k?uploadId=u&partNumber=10000"), Kind::kUploadPart);
}

TEST(OperationTest, UploadPartCopy) {
  const auto copy = classify(
      {.method = "PUT", .target = "/b/k?partNumber=7&uploadId=u", .has_copy_source = true});
  EXPECT_EQ(copy.kind, Kind::kUploadPartCopy);
  EXPECT_EQ(copy.part_number, 7u);
  EXPECT_EQ(copy.upload_id, "u");
}

TEST(OperationTest, CompleteMultipartUpload) {
  const auto complete = classify({.method = "POST", .target = "/b/k?uploadId=u"});
  EXPECT_EQ(complete.kind, Kind::kCompleteMultipartUpload);
  EXPECT_EQ(complete.upload_id, "u");
  EXPECT_FALSE(complete.part_number);
}

TEST(OperationTest, AbortMultipartUpload) {
  const auto abort = classify({.method = "DELETE", .target = "/b/k?uploadId=u"});
  EXPECT_EQ(abort.kind, Kind::kAbortMultipartUpload);
  EXPECT_EQ(abort.upload_id, "u");
}

TEST(OperationTest, DeleteObject) {
  const auto deletion = classify({.method = "DELETE", .target = "/b/a%20b"});
  EXPECT_EQ(deletion.kind, Kind::kDeleteObject);
  EXPECT_EQ(deletion.address, (ObjectAddress{"b", "a b"}));
  EXPECT_EQ(kind_of("DELETE", "/b/k?x-id=DeleteObject"), Kind::kDeleteObject);
}

TEST(OperationTest, OtherWritesOfAnObject) {
  const std::vector<std::pair<std::string_view, std::string_view>> writes = {
      {"PUT", "/b/k?tagging"},
      {"PUT", "/b/k?partNumber=0&uploadId=u"},
      {"PUT", "/b/k?partNumber=7&uploadId="},
      {"PUT", "/b/k?uploadId=u"},
      {"PUT", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=a"},  // presigned
      {"PUT", "/b/k?%zz"},
      {"POST", "/b/k?uploadId="},
      {"POST", "/b/k?uploadId=u&restore"},
      {"POST", "/b/k?uploads&uploadId=u"},
      {"POST", "/b/k?uploadId=u&partNumber=1"},
      {"POST", "/b/k?restore"},
      {"POST", "/b/k"},
      {"DELETE", "/b/k?uploadId="},
      {"DELETE", "/b/k?versionId=3"},
      {"DELETE", "/b/k?tagging"},
  };
  for (const auto& [method, target] : writes) {
    const auto operation = classify({.method = method, .target = target});
    EXPECT_EQ(operation.kind, Kind::kOtherObjectWrite) << method << " " << target;
    EXPECT_EQ(operation.address, (ObjectAddress{"b", "k"})) << method << " " << target;
    EXPECT_TRUE(operation.upload_id.empty()) << method << " " << target;
    EXPECT_FALSE(operation.part_number) << method << " " << target;
  }
  EXPECT_EQ(classify({.method = "PUT", .target = "/b/k?tagging", .has_copy_source = true}).kind,
            Kind::kOtherObjectWrite);
}

TEST(OperationTest, DeleteObjects) {
  const auto deletion = classify({.method = "POST", .target = "/bucket?delete"});
  EXPECT_EQ(deletion.kind, Kind::kDeleteObjects);
  EXPECT_EQ(deletion.address, (ObjectAddress{"bucket", ""}));
  EXPECT_EQ(kind_of("POST", "/bucket/?delete="), Kind::kDeleteObjects);
  EXPECT_EQ(kind_of("POST", "/bucket?x-id=DeleteObjects&delete"), Kind::kDeleteObjects);
  EXPECT_EQ(classify({.method = "POST",
                      .target = "/?delete",
                      .host = "photos.s3.us-east-1.amazonaws.com"})
                .address.bucket,
            "photos");
  // ?delete decides, whatever the body's type.
  EXPECT_EQ(classify({.method = "POST",
                      .target = "/bucket?delete",
                      .content_type = "multipart/form-data; boundary=x"})
                .kind,
            Kind::kDeleteObjects);
}

TEST(OperationTest, PostObject) {
  const auto post = classify(
      {.method = "POST", .target = "/bucket", .content_type = "multipart/form-data; boundary=x"});
  EXPECT_EQ(post.kind, Kind::kPostObject);
  EXPECT_EQ(post.address, (ObjectAddress{"bucket", ""}));
  EXPECT_EQ(classify({.method = "POST",
                      .target = "/",
                      .host = "bucket.s3.example.internal",
                      .content_type = "Multipart/Form-Data; boundary=x"})
                .kind,
            Kind::kPostObject);
  // A malformed query is no ?delete.
  EXPECT_EQ(
      classify({.method = "POST", .target = "/bucket?%zz", .content_type = "multipart/form-data"})
          .kind,
      Kind::kPostObject);
  EXPECT_EQ(kind_of("POST", "/bucket"), Kind::kOther);
  EXPECT_EQ(classify({.method = "POST", .target = "/bucket", .content_type = "text/plain"}).kind,
            Kind::kOther);
  // A form upload is a POST of a bucket.
  EXPECT_EQ(classify({.method = "PUT", .target = "/bucket", .content_type = "multipart/form-data"})
                .kind,
            Kind::kOther);
  EXPECT_EQ(
      classify({.method = "POST", .target = "/bucket/k", .content_type = "multipart/form-data"})
          .kind,
      Kind::kOtherObjectWrite);
}

TEST(OperationTest, Other) {
  const std::vector<std::pair<std::string_view, std::string_view>> others = {
      {"GET", "/"},                     // ListBuckets
      {"GET", "/b"},                    // ListObjects
      {"GET", "/b/?list-type=2"},       // ListObjectsV2
      {"GET", "/b?uploads"},            // ListMultipartUploads
      {"PUT", "/b"},                    // CreateBucket
      {"DELETE", "/b/"},                // DeleteBucket
      {"HEAD", "/b"},                   // HeadBucket
      {"POST", "/?delete"},             // no bucket
      {"POST", "/%zz?delete"},          // malformed bucket
      {"GET", "/b/%zz"},                // malformed key
      {"OPTIONS", "/b/k"},              // CORS preflight
      {"PATCH", "/b/k"},
      {"get", "/b/k"},                  // methods are case-sensitive
      {"GET", "http://localhost/b/k"},  // absolute form
      {"GET", "b/k"},
  };
  for (const auto& [method, target] : others) {
    const auto operation = classify({.method = method, .target = target});
    EXPECT_EQ(operation.kind, Kind::kOther) << method << " " << target;
    EXPECT_FALSE(operation.part_number) << method << " " << target;
    EXPECT_TRUE(operation.upload_id.empty()) << method << " " << target;
  }
}

TEST(OperationTest, ParsesTheTarget) {
  const auto get = classify({.method = "GET",
                             .target = "/dir/%E2%82%AC.txt?x-id=GetObject&X-Amz-Expires=3600",
                             .host = "Bucket.S3.Example.Internal:8443"});
  EXPECT_EQ(get.address, (ObjectAddress{"bucket", "dir/\xE2\x82\xAC.txt"}));
  // Any request's, whatever its kind.
  EXPECT_EQ(classify({.method = "GET", .target = "/bucket/dir/key.txt?x=1"}).address,
            (ObjectAddress{"bucket", "dir/key.txt"}));
  EXPECT_EQ(classify({.method = "GET", .target = "/b/k%3Fnot-a-query?acl"}).address.key,
            "k?not-a-query");
  EXPECT_EQ(classify({.method = "GET", .target = "/"}).address, (ObjectAddress{}));
}

TEST(OperationTest, ParsesTheQueryOnce) {
  const auto get = classify({.method = "GET", .target = "/b/k?acl&response-expires=a%20b&&e="});
  ASSERT_EQ(get.query.size(), 3u);
  EXPECT_EQ(get.query[0].name, "acl");
  EXPECT_FALSE(get.query[0].has_value);
  EXPECT_EQ(get.query[1].name, "response-expires");
  EXPECT_EQ(get.query[1].value, "a b");
  EXPECT_TRUE(get.query[2].has_value);
  EXPECT_EQ(get.query[2].value, "");
  // Kept for requests without an address too; empty when malformed.
  EXPECT_EQ(classify({.method = "GET", .target = "/?list-type=2"}).query.size(), 1u);
  EXPECT_TRUE(classify({.method = "PUT", .target = "/b/k?a=1&b=%zz"}).query.empty());
}

TEST(OperationTest, ResponseOverrides) {
  EXPECT_TRUE(is_response_override("response-content-type"));
  EXPECT_TRUE(is_response_override("response-expires"));
  EXPECT_FALSE(is_response_override("versionId"));
  EXPECT_FALSE(is_response_override("Response-Content-Type"));
}

TEST(OperationTest, PartNumbers) {
  EXPECT_EQ(parse_part_number("1"), 1u);
  EXPECT_EQ(parse_part_number("10000"), 10000u);
  for (const char* text : {"", "0", "10001", "-1", "+1", " 1", "1 ", "1.0", "99999999999"}) {
    EXPECT_FALSE(parse_part_number(text)) << text;
  }
}

}  // namespace
}  // namespace s3hc::s3
