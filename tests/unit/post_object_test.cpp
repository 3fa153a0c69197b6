#include <gtest/gtest.h>

#include "s3/post_object.h"

namespace s3hc::s3 {
namespace {

std::string form(std::string_view key_field, std::string_view file_name) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n";
  body.append(key_field);
  body += "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\neyJ9\r\n";
  body += "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"";
  body.append(file_name);
  body += "\"\r\nContent-Type: text/plain\r\n\r\nfile bytes...";
  return body;
}

TEST(PostObjectTest, KeyFieldOfAFormUpload) {
  EXPECT_EQ(post_object_key("multipart/form-data; boundary=XyZ", form("photos/a b.jpg", "x")),
            "photos/a b.jpg");
  EXPECT_EQ(post_object_key("multipart/form-data; boundary=\"XyZ\"",
                            form("uploads/${filename}", "cat.png")),
            "uploads/cat.png");
}

TEST(PostObjectTest, NoKeyWithoutAFormOrItsKey) {
  EXPECT_FALSE(post_object_key("application/xml", form("k", "x")));
  EXPECT_FALSE(post_object_key("multipart/form-data", form("k", "x")));  // no boundary
  EXPECT_FALSE(post_object_key("multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Dis"));
  const std::string no_key =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nbytes";
  EXPECT_FALSE(post_object_key("multipart/form-data; boundary=XyZ", no_key));
}

}  // namespace
}  // namespace s3hc::s3
