// The block format of cached range files: each block is independently decodable (LZ4, or
// stored as is where compression does not pay) and carries a checksum of its decoded bytes,
// so any sub-range is read by decoding only its blocks and corruption is detected (and
// treated as a miss), never served.
//
// On disk, little-endian, kBlockHeaderBytes of header then the payload:
//   u32 stored_size   payload bytes that follow
//   u32 raw_size      decoded bytes
//   u8  codec         BlockCodec
//   u8  reserved[7]   zero
//   u64 checksum      XXH3-64 of the decoded bytes
//
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::cache {

enum class BlockCodec : std::uint8_t { kStored = 0, kLz4 = 1 };

inline constexpr std::size_t kBlockHeaderBytes = 24;
// Largest decoded block accepted: bounds what a corrupt header can make a reader allocate.
inline constexpr std::size_t kMaxBlockBytes = 64 * 1024 * 1024;

struct BlockHeader {
  std::uint32_t stored_size;
  std::uint32_t raw_size;
  BlockCodec codec;
  std::uint64_t checksum;
};

// The bar for keeping compressed bytes: a saving of at least an eighth.
inline bool compression_pays(std::size_t raw_size, std::size_t compressed_size) {
  return compressed_size <= raw_size - raw_size / 8;
}

// Appends header and payload of one block holding `raw` (at most kMaxBlockBytes) to `out`.
// With try_compress, LZ4 is kept only when it saves at least an eighth of the bytes.
void encode_block(std::string_view raw, bool try_compress, std::string& out);

// Reads a header from the first kBlockHeaderBytes of `bytes`; nullopt when too short or when
// its fields cannot be right (unknown codec, sizes out of bounds, stored size of a stored
// block different from its raw size, reserved bytes set).
std::optional<BlockHeader> parse_block_header(std::string_view bytes);

// Decodes a block's payload into `out` (replacing its content). False when the block is
// corrupt: payload of the wrong size, undecodable LZ4, wrong decoded size or checksum.
bool decode_block(const BlockHeader& header, std::string_view payload, std::string& out);

// Whether `raw` is what a block with `header` holds (its checksum matches): for readers that
// placed a stored block's payload themselves.
bool block_checksum_matches(const BlockHeader& header, std::string_view raw);

}  // namespace s3hc::cache
