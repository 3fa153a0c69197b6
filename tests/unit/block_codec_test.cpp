#include <gtest/gtest.h>

#include <random>
#include <string>

#include "cache/store/block_codec.h"
#include "cache/store/compression_policy.h"

namespace s3hc::cache {
namespace {

std::string random_bytes(std::size_t size, unsigned seed = 1) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

std::string text_bytes(std::size_t size) {
  std::string text;
  while (text.size() < size) text += "timestamp=1764000000 level=info msg=\"GET /bucket/key 200\"\n";
  text.resize(size);
  return text;
}

// Encodes one block and decodes it back through the on-disk form.
std::string round_trip(const std::string& raw, bool try_compress, BlockCodec* codec = nullptr) {
  std::string encoded;
  encode_block(raw, try_compress, encoded);
  const auto header = parse_block_header(encoded);
  EXPECT_TRUE(header);
  if (!header) return {};
  if (codec) *codec = header->codec;
  EXPECT_EQ(encoded.size(), kBlockHeaderBytes + header->stored_size);
  std::string decoded;
  EXPECT_TRUE(decode_block(*header, std::string_view(encoded).substr(kBlockHeaderBytes), decoded));
  return decoded;
}

TEST(BlockCodecTest, CompressibleBlocksUseLz4AndRoundTrip) {
  const auto raw = text_bytes(1 << 20);
  BlockCodec codec;
  EXPECT_EQ(round_trip(raw, true, &codec), raw);
  EXPECT_EQ(codec, BlockCodec::kLz4);
  std::string encoded;
  encode_block(raw, true, encoded);
  EXPECT_LT(encoded.size(), raw.size() / 4);
}

TEST(BlockCodecTest, IncompressibleBlocksAreStored) {
  const auto raw = random_bytes(1 << 20);
  BlockCodec codec;
  EXPECT_EQ(round_trip(raw, true, &codec), raw);
  EXPECT_EQ(codec, BlockCodec::kStored);
}

TEST(BlockCodecTest, WithoutCompressionBlocksAreStored) {
  const auto raw = text_bytes(4096);
  BlockCodec codec;
  EXPECT_EQ(round_trip(raw, false, &codec), raw);
  EXPECT_EQ(codec, BlockCodec::kStored);
}

TEST(BlockCodecTest, EmptyAndTinyBlocks) {
  EXPECT_EQ(round_trip("", true), "");
  EXPECT_EQ(round_trip("x", true), "x");
}

TEST(BlockCodecTest, BlocksAppendOneAfterAnother) {
  std::string file;
  encode_block(text_bytes(1000), true, file);
  const auto first_size = file.size();
  encode_block("second", true, file);
  const auto header = parse_block_header(std::string_view(file).substr(first_size));
  ASSERT_TRUE(header);
  std::string decoded;
  EXPECT_TRUE(decode_block(*header, std::string_view(file).substr(first_size + kBlockHeaderBytes),
                           decoded));
  EXPECT_EQ(decoded, "second");
}

TEST(BlockCodecTest, AnyFlippedPayloadByteIsDetected) {
  for (const bool compress : {true, false}) {
    const auto raw = compress ? text_bytes(8192) : random_bytes(8192);
    std::string encoded;
    encode_block(raw, compress, encoded);
    const auto header = *parse_block_header(encoded);
    for (std::size_t at = kBlockHeaderBytes; at < encoded.size(); at += 97) {
      auto corrupt = encoded;
      corrupt[at] = static_cast<char>(corrupt[at] ^ 0x20);
      std::string decoded;
      EXPECT_FALSE(decode_block(header, std::string_view(corrupt).substr(kBlockHeaderBytes),
                                decoded))
          << "byte " << at << (compress ? " lz4" : " stored");
    }
  }
}

TEST(BlockCodecTest, CorruptHeadersAreRejectedOrDetected) {
  std::string encoded;
  encode_block(text_bytes(8192), true, encoded);
  const auto payload = std::string_view(encoded).substr(kBlockHeaderBytes);

  auto bad_codec = encoded;
  bad_codec[8] = 7;
  EXPECT_FALSE(parse_block_header(bad_codec));
  auto reserved = encoded;
  reserved[12] = 1;
  EXPECT_FALSE(parse_block_header(reserved));
  auto huge = encoded;
  huge[7] = 0x7F;  // raw size far past kMaxBlockBytes
  EXPECT_FALSE(parse_block_header(huge));
  EXPECT_FALSE(parse_block_header(std::string_view(encoded).substr(0, kBlockHeaderBytes - 1)));

  auto wrong_raw_size = encoded;
  wrong_raw_size[4] = static_cast<char>(wrong_raw_size[4] + 1);
  const auto header = parse_block_header(wrong_raw_size);
  ASSERT_TRUE(header);
  std::string decoded;
  EXPECT_FALSE(decode_block(*header, payload, decoded));
  EXPECT_FALSE(decode_block(*parse_block_header(encoded), payload.substr(1), decoded));
}

TEST(CompressionPolicyTest, KnownCompressedContentIsSkipped) {
  EXPECT_TRUE(known_incompressible("image/jpeg", "photos/cat"));
  EXPECT_TRUE(known_incompressible("application/gzip", "x"));
  EXPECT_TRUE(known_incompressible("Video/MP4; codecs=avc1", "x"));
  EXPECT_TRUE(known_incompressible("application/octet-stream", "data/part-0001.snappy.parquet"));
  EXPECT_TRUE(known_incompressible("binary/octet-stream", "backups/db.TAR.GZ"));
  EXPECT_FALSE(known_incompressible("text/csv", "data/table.csv"));
  EXPECT_FALSE(known_incompressible("image/svg+xml", "logo.svg"));
  EXPECT_FALSE(known_incompressible("application/octet-stream", "dir.gz/model.bin"));
}

TEST(CompressionPolicyTest, TrialDecidesTheRest) {
  EXPECT_TRUE(compresses_well(text_bytes(64 * 1024)));
  EXPECT_FALSE(compresses_well(random_bytes(64 * 1024)));
  EXPECT_FALSE(compresses_well(""));
}

}  // namespace
}  // namespace s3hc::cache
