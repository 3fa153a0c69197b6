#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "s3/complete_multipart.h"

namespace s3hc::s3 {
namespace {

using Parts = std::vector<CompletedPart>;

TEST(CompleteMultipartTest, ReadsThePartsInOrder) {
  const auto parts = parse_complete_multipart_upload(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Part><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag><PartNumber>1</PartNumber></Part>\n"
      "  <Part><PartNumber>2</PartNumber><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>"
      "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\n"
      "  <Part><PartNumber> 7 </PartNumber><ETag>acbd18db4cc2f85cedef654fccc4a4d8</ETag></Part>\n"
      "</CompleteMultipartUpload>");
  EXPECT_EQ(parts, (Parts{{1, "\"a54357aff0632cce46d942af68356b38\""},
                          {2, "\"0c78aef83f66abc1fa1e8477f296d394\""},
                          {7, "\"acbd18db4cc2f85cedef654fccc4a4d8\""}}));
}

TEST(CompleteMultipartTest, PartEtagsAreQuotedWhetherSentWithQuotesOrNot) {
  // s3cmd sends part ETags without the quotes UploadPart answered with; S3 takes both, and
  // the parts kept under UploadPart's quoted ETag must be found either way.
  const auto upload = [](const std::string& etag) {
    return parse_complete_multipart_upload(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + etag +
        "</ETag></Part></CompleteMultipartUpload>");
  };
  const std::string answered = "\"0c78aef83f66abc1fa1e8477f296d394\"";  // UploadPart's ETag
  for (const std::string& sent :
       {std::string("0c78aef83f66abc1fa1e8477f296d394"), answered,
        std::string("&quot;0c78aef83f66abc1fa1e8477f296d394&quot;")}) {
    const auto parts = upload(sent);
    ASSERT_TRUE(parts) << sent;
    EXPECT_EQ(parts->front().etag, quoted_etag(answered)) << sent;
  }
}

TEST(CompleteMultipartTest, QuotedEtag) {
  EXPECT_EQ(quoted_etag("abc"), "\"abc\"");
  EXPECT_EQ(quoted_etag("\"abc\""), "\"abc\"");
  EXPECT_EQ(quoted_etag("\"abc-2\""), "\"abc-2\"");
  EXPECT_EQ(quoted_etag(""), "\"\"");
  // Half-quoted ETags name no part S3 answered; quoting them again keeps them unmatched.
  EXPECT_EQ(quoted_etag("\"abc"), "\"\"abc\"");
  EXPECT_EQ(quoted_etag("\""), "\"\"\"");
}

TEST(CompleteMultipartTest, PartNumbersSpanOneToTenThousand) {
  const auto parts = parse_complete_multipart_upload(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
      "<Part><PartNumber>10000</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->back().part_number, 10000u);
}

TEST(CompleteMultipartTest, RejectsBadParts) {
  const auto part = [](const std::string& number, const std::string& etag = "<ETag>e</ETag>") {
    return "<Part><PartNumber>" + number + "</PartNumber>" + etag + "</Part>";
  };
  const auto upload = [](const std::string& parts) {
    return "<CompleteMultipartUpload>" + parts + "</CompleteMultipartUpload>";
  };
  for (const std::string& body :
       {upload(""), upload(part("0")), upload(part("10001")), upload(part("-1")),
        upload(part("1x")), upload(part("")), upload(part("4294967297")),
        upload(part("2") + part("1")), upload(part("1") + part("1")), upload(part("1", "")),
        upload(part("1", "<ETag>a</ETag><ETag>b</ETag>")), upload("<Part><ETag>e</ETag></Part>"),
        "<CompleteMultipartUploadResult>" + part("1") + "</CompleteMultipartUploadResult>",
        upload(part("1")).substr(1)}) {
    EXPECT_FALSE(parse_complete_multipart_upload(body)) << body;
  }
}

TEST(CompleteMultipartTest, ResultGivesTheFinalEtag) {
  EXPECT_EQ(parse_complete_multipart_result(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<Location>https://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket><Key>k</Key>"
                "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
                "</CompleteMultipartUploadResult>"),
            "\"3858f62230ac3c915f300c664312c11f-9\"");
  // moto's spelling of the root.
  EXPECT_EQ(parse_complete_multipart_result(
                "<CompleteMultipartUploadResponse><ETag>\"e-1\"</ETag>"
                "</CompleteMultipartUploadResponse>"),
            "\"e-1\"");
}

TEST(CompleteMultipartTest, ResultMayFollowKeepAliveWhitespace) {
  const std::string document =
      "<CompleteMultipartUploadResult><ETag>&quot;abc-2&quot;</ETag>"
      "</CompleteMultipartUploadResult>";
  EXPECT_EQ(parse_complete_multipart_result(std::string(300, ' ') + document), "\"abc-2\"");
  EXPECT_EQ(parse_complete_multipart_result("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
                                            std::string(300, ' ') + document),
            "\"abc-2\"");
}

TEST(CompleteMultipartTest, ResultChecksumsAreTheHeadersOfWholeObjectReads) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(parse_complete_multipart_checksums(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<Location>https://b.s3.amazonaws.com/k</Location><Bucket>b</Bucket><Key>k</Key>"
                "<ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag>"
                "<ChecksumCRC32>vrjXKw==-2</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>"
                "</CompleteMultipartUploadResult>"),
            (Headers{{"x-amz-checksum-crc32", "vrjXKw==-2"},
                     {"x-amz-checksum-type", "COMPOSITE"}}));
  // Every algorithm, those newer than this code included.
  EXPECT_EQ(parse_complete_multipart_checksums(
                "<CompleteMultipartUploadResult><ETag>\"e-1\"</ETag>"
                "<ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>"
                "<ChecksumXXHASH64>AAAAAAAAAAA=</ChecksumXXHASH64>"
                "<ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>"),
            (Headers{{"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="},
                     {"x-amz-checksum-xxhash64", "AAAAAAAAAAA="},
                     {"x-amz-checksum-type", "FULL_OBJECT"}}));
  EXPECT_TRUE(parse_complete_multipart_checksums(
                  "<CompleteMultipartUploadResponse><ETag>\"e-1\"</ETag>"
                  "</CompleteMultipartUploadResponse>")
                  .empty());
  EXPECT_TRUE(parse_complete_multipart_checksums(
                  "<Error><Code>InternalError</Code><ChecksumCRC32>x</ChecksumCRC32></Error>")
                  .empty());
}

TEST(CompleteMultipartTest, ErrorDocumentWithStatus200IsNoResult) {
  EXPECT_FALSE(parse_complete_multipart_result(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n          \n"
      "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try "
      "again.</Message><RequestId>656c76696e6727732072657175657374</RequestId>"
      "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"));
}

TEST(CompleteMultipartTest, ResultWithoutEtagOrCutShortIsNoResult) {
  EXPECT_FALSE(parse_complete_multipart_result(
      "<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>"));
  EXPECT_FALSE(
      parse_complete_multipart_result("<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag>"));
  EXPECT_FALSE(parse_complete_multipart_result("      "));
}

}  // namespace
}  // namespace s3hc::s3

namespace s3hc::s3 {
namespace {

TEST(InitiateMultipartTest, ReadsTheUploadId) {
  EXPECT_EQ(parse_initiate_multipart_result(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
                "</InitiateMultipartUploadResult>"),
            "VXBsb2FkIElE");
  EXPECT_FALSE(parse_initiate_multipart_result(
      "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>"));
  EXPECT_FALSE(parse_initiate_multipart_result("<Error><Code>AccessDenied</Code></Error>"));
}

}  // namespace
}  // namespace s3hc::s3
