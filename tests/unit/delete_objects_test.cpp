#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "s3/delete_objects.h"

namespace s3hc::s3 {
namespace {

using Keys = std::vector<std::string>;

std::string delete_body(std::size_t objects) {
  std::string body = "<Delete>";
  for (std::size_t i = 0; i < objects; ++i) {
    body += "<Object><Key>k" + std::to_string(i) + "</Key></Object>";
  }
  return body + "</Delete>";
}

TEST(DeleteObjectsTest, ReadsKeysAsBotocoreSendsThem) {
  const auto keys = parse_delete_objects(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Object><Key>photos/2024/a.jpg</Key></Object>"
      "<Object><Key>logs/b.txt</Key><VersionId>3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY</VersionId>"
      "</Object><Quiet>true</Quiet></Delete>");
  EXPECT_EQ(keys, (Keys{"photos/2024/a.jpg", "logs/b.txt"}));
}

TEST(DeleteObjectsTest, KeysAreDecodedButNotTrimmed) {
  const auto keys = parse_delete_objects(
      "<Delete>\n  <Quiet>false</Quiet>\n"
      "  <Object>\n    <Key> leading and trailing </Key>\n  </Object>\n"
      "  <Object><Key>a&amp;b &lt;c&gt; &#x263A; &#13;</Key></Object>\n"
      "  <Object><Key>   </Key></Object>\n"
      "</Delete>\n");
  EXPECT_EQ(keys, (Keys{" leading and trailing ", "a&b <c> \xE2\x98\xBA \r", "   "}));
}

TEST(DeleteObjectsTest, AcceptsTheLimitAndNoMore) {
  const auto keys = parse_delete_objects(delete_body(kMaxObjectsPerDelete));
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), kMaxObjectsPerDelete);
  EXPECT_EQ(keys->back(), "k999");
  EXPECT_FALSE(parse_delete_objects(delete_body(kMaxObjectsPerDelete + 1)));
}

TEST(DeleteObjectsTest, RejectsWhatS3Would) {
  for (const char* body :
       {"", "<Delete>", "<Delete></Delete>", "<Delete><Quiet>true</Quiet></Delete>",
        "<Remove><Object><Key>k</Key></Object></Remove>",
        "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<Delete><Object><Key>a</Object></Key></Delete>",
        "<Delete><Object><Key>a&b</Key></Object></Delete>",
        "<Delete><Object><Key><i>k</i></Key></Object></Delete>"}) {
    EXPECT_FALSE(parse_delete_objects(body)) << body;
  }
}

}  // namespace
}  // namespace s3hc::s3
