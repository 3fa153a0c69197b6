#include <gtest/gtest.h>

#include "s3/object_address.h"

namespace s3hc::s3 {
namespace {

const AddressingOptions kAws{};
const AddressingOptions kCustom{.virtual_host_suffixes = {".s3.example.internal"}};

TEST(ObjectAddressTest, PathStyle) {
  EXPECT_EQ(parse_address("/bucket/dir/key.txt", "127.0.0.1:8080", kAws),
            (ObjectAddress{"bucket", "dir/key.txt"}));
  EXPECT_EQ(parse_address("/bucket/a%20b/%E2%9C%93", "s3.amazonaws.com", kAws),
            (ObjectAddress{"bucket", "a b/\xE2\x9C\x93"}));
  EXPECT_EQ(parse_address("/bucket/k", "s3.eu-west-1.amazonaws.com", kAws),
            (ObjectAddress{"bucket", "k"}));
}

TEST(ObjectAddressTest, VirtualHostedStyle) {
  EXPECT_EQ(parse_address("/key", "bucket.s3.amazonaws.com", kAws),
            (ObjectAddress{"bucket", "key"}));
  EXPECT_EQ(parse_address("/dir/key", "my.dotted.bucket.s3.us-east-1.amazonaws.com:80", kAws),
            (ObjectAddress{"my.dotted.bucket", "dir/key"}));
  EXPECT_EQ(parse_address("/k", "Bucket-1.S3-us-west-2.amazonaws.com", kAws),
            (ObjectAddress{"bucket-1", "k"}));
  EXPECT_EQ(parse_address("/k", "data.s3.example.internal", kCustom), (ObjectAddress{"data", "k"}));
}

TEST(ObjectAddressTest, BucketLevel) {
  for (const char* path : {"/bucket", "/bucket/"}) {
    EXPECT_EQ(parse_address(path, "localhost", kAws), (ObjectAddress{"bucket", ""})) << path;
  }
  EXPECT_EQ(parse_address("/", "bucket.s3.amazonaws.com", kAws), (ObjectAddress{"bucket", ""}));
  EXPECT_EQ(parse_address("/", "photos.s3.us-east-1.amazonaws.com", kAws),
            (ObjectAddress{"photos", ""}));
}

TEST(ObjectAddressTest, NoBucket) {
  for (const char* path : {"/", "", "bucket/key", "/bucket/%zz", "/%zz", "//key"}) {
    EXPECT_FALSE(parse_address(path, "localhost", kAws)) << path;
  }
}

}  // namespace
}  // namespace s3hc::s3
