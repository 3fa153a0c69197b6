#include <gtest/gtest.h>

#include "s3/copy_source.h"

namespace s3hc::s3 {
namespace {

TEST(CopySourceTest, BucketSlashKey) {
  EXPECT_EQ(parse_copy_source("awsexamplebucket/reports/january.pdf"),
            (CopySource{"awsexamplebucket", "reports/january.pdf", std::nullopt}));
  EXPECT_EQ(parse_copy_source("/awsexamplebucket/reports/january.pdf"),
            (CopySource{"awsexamplebucket", "reports/january.pdf", std::nullopt}));
}

TEST(CopySourceTest, PercentDecodesTheWholePath) {
  EXPECT_EQ(parse_copy_source("/b/a%20b/%E2%9C%93%3F%2B+"),
            (CopySource{"b", "a b/\xE2\x9C\x93?++", std::nullopt}));
  EXPECT_EQ(parse_copy_source("b%2Fdir%2Fkey"), (CopySource{"b", "dir/key", std::nullopt}));
  EXPECT_EQ(parse_copy_source("b//leading-slash"),
            (CopySource{"b", "/leading-slash", std::nullopt}));
}

TEST(CopySourceTest, VersionId) {
  EXPECT_EQ(parse_copy_source("b/k?versionId=QUpfdndhfd8438MNFDN93jdnJFkdmqnh893"),
            (CopySource{"b", "k", "QUpfdndhfd8438MNFDN93jdnJFkdmqnh893"}));
  EXPECT_EQ(parse_copy_source("b/k%3FversionId%3D1?versionId=a%2Bb"),
            (CopySource{"b", "k?versionId=1", "a+b"}));
  EXPECT_EQ(parse_copy_source("b/k?versionId=null"), (CopySource{"b", "k", "null"}));
}

TEST(CopySourceTest, AccessPointArnsAreNotInterpreted) {
  EXPECT_FALSE(parse_copy_source(
      "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/reports/january.pdf"));
  EXPECT_FALSE(
      parse_copy_source("arn%3Aaws%3As3%3Aus-west-2%3A123456789012%3Aaccesspoint%2F"
                        "my-access-point%2Fobject%2Freports%2Fjanuary.pdf"));
  EXPECT_FALSE(parse_copy_source(
      "/arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/ap/"
      "object/k"));
}

TEST(CopySourceTest, RejectsMalformedValues) {
  for (const char* value : {"", "/", "bucket", "bucket/", "/bucket", "/bucket/", "//bucket/key",
                            "/key-only-in-%2", "b/%zz", "b/k?versionId=", "b/k?versionId",
                            "b/k?versionId=1&x=2", "b/k?partNumber=1", "b/k?versionId=%G1"}) {
    EXPECT_FALSE(parse_copy_source(value)) << value;
  }
}

}  // namespace
}  // namespace s3hc::s3
