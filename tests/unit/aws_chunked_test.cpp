#include <gtest/gtest.h>

#include <string>

#include "s3/aws_chunked.h"

namespace s3hc::s3 {
namespace {

// As botocore sends a trailer-checksummed upload (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
const std::string kUnsignedTrailer =
    "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

// SigV4 signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signatures abbreviated.
const std::string kSignedChunks =
    "a;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
    "0123456789\r\n"
    "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";

std::string decode_all(const std::string& encoded, AwsChunkedDecoder& decoder) {
  std::string payload;
  decoder.feed(encoded, payload);
  return payload;
}

TEST(AwsChunkedTest, DecodesUnsignedPayloadWithTrailer) {
  AwsChunkedDecoder decoder;
  EXPECT_EQ(decode_all(kUnsignedTrailer, decoder), "hello world");
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.payload_size(), 11u);
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers()[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(decoder.trailers()[0].second, "DUoRhQ==");
}

TEST(AwsChunkedTest, DecodesSignedChunks) {
  AwsChunkedDecoder decoder;
  EXPECT_EQ(decode_all(kSignedChunks, decoder), "0123456789");
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.trailers().empty());
}

TEST(AwsChunkedTest, AnySplitOfTheInputGivesTheSamePayload) {
  for (const auto* encoded : {&kUnsignedTrailer, &kSignedChunks}) {
    for (std::size_t step = 1; step <= 7; ++step) {
      AwsChunkedDecoder decoder;
      std::string payload;
      for (std::size_t i = 0; i < encoded->size(); i += step) {
        decoder.feed(std::string_view(*encoded).substr(i, step), payload);
      }
      AwsChunkedDecoder whole;
      EXPECT_EQ(payload, decode_all(*encoded, whole)) << "step " << step;
      EXPECT_TRUE(decoder.done()) << "step " << step;
    }
  }
}

TEST(AwsChunkedTest, StopsAtTheEnd) {
  AwsChunkedDecoder decoder;
  EXPECT_EQ(decode_all(kUnsignedTrailer + "GET / HTTP/1.1\r\n", decoder), "hello world");
  EXPECT_TRUE(decoder.done());
}

TEST(AwsChunkedTest, IncompleteInputIsNotDone) {
  AwsChunkedDecoder decoder;
  EXPECT_EQ(decode_all("5\r\nhel", decoder), "hel");
  EXPECT_FALSE(decoder.done());
  EXPECT_FALSE(decoder.failed());
  EXPECT_EQ(decoder.state(), AwsChunkedDecoder::State::kChunkData);
}

TEST(AwsChunkedTest, MalformedInputFails) {
  for (const char* encoded : {"zz\r\nhello\r\n", "5\nhello\r\n", "5\r\nhelloXX0\r\n\r\n",
                              "-1\r\n", "\r\n", "0\r\nno-colon-trailer\r\n\r\n",
                              "0\r\n:empty-name\r\n\r\n"}) {
    AwsChunkedDecoder decoder;
    decode_all(encoded, decoder);
    EXPECT_TRUE(decoder.failed()) << encoded;
  }
}

TEST(AwsChunkedTest, OverlongLinesFail) {
  AwsChunkedDecoder decoder;
  decode_all("5;" + std::string(10000, 'x') + "\r\n", decoder);
  EXPECT_TRUE(decoder.failed());
}

}  // namespace
}  // namespace s3hc::s3
