#include <gtest/gtest.h>

#include "s3/write_request.h"

namespace s3hc::s3 {
namespace {

using Kind = WriteRequest::Kind;

TEST(ClassifyWriteTest, ObjectWrites) {
  EXPECT_EQ(classify_write("PUT", "/b/k", false).kind, Kind::kPutObject);
  EXPECT_EQ(classify_write("PUT", "/b/k?x-id=PutObject", false).kind, Kind::kPutObject);
  EXPECT_EQ(classify_write("PUT", "/b/k", true).kind, Kind::kOther);  // CopyObject
  EXPECT_EQ(classify_write("PUT", "/b/k?tagging", false).kind, Kind::kOther);
  EXPECT_EQ(classify_write("DELETE", "/b/k", false).kind, Kind::kOther);
}

TEST(ClassifyWriteTest, MultipartSteps) {
  EXPECT_EQ(classify_write("POST", "/b/k?uploads", false).kind, Kind::kCreateUpload);
  const auto part = classify_write("PUT", "/b/k?partNumber=7&uploadId=abc%3D", false);
  EXPECT_EQ(part.kind, Kind::kUploadPart);
  EXPECT_EQ(part.part_number, 7u);
  EXPECT_EQ(part.upload_id, "abc=");
  EXPECT_EQ(classify_write("PUT", "/b/k?partNumber=7&uploadId=u", true).kind, Kind::kOther);
  EXPECT_EQ(classify_write("PUT", "/b/k?partNumber=0&uploadId=u", false).kind, Kind::kOther);
  const auto complete = classify_write("POST", "/b/k?uploadId=u", false);
  EXPECT_EQ(complete.kind, Kind::kCompleteUpload);
  EXPECT_EQ(complete.upload_id, "u");
  EXPECT_EQ(classify_write("DELETE", "/b/k?uploadId=u", false).kind, Kind::kAbortUpload);
  EXPECT_EQ(classify_write("POST", "/b/k?uploadId=", false).kind, Kind::kOther);
  EXPECT_EQ(classify_write("POST", "/b/k?uploadId=u&restore", false).kind, Kind::kOther);
}

}  // namespace
}  // namespace s3hc::s3
