#include "cache/store/block_codec.h"

#include <lz4.h>
#include <xxhash.h>

#include <cstring>
#include <stdexcept>

#include "util/little_endian.h"

namespace s3hc::cache {
namespace {

std::uint64_t checksum_of(std::string_view raw) { return XXH3_64bits(raw.data(), raw.size()); }

void append_block(std::string& out, BlockCodec codec, std::string_view raw,
                  std::string_view payload_or_empty, std::size_t payload_size) {
  util::append_le(out, payload_size, 4);
  util::append_le(out, raw.size(), 4);
  out += static_cast<char>(codec);
  out.append(7, '\0');
  util::append_le(out, checksum_of(raw), 8);
  out.append(payload_or_empty.data(), payload_or_empty.size());
}

}  // namespace

void encode_block(std::string_view raw, bool try_compress, std::string& out) {
  if (raw.size() > kMaxBlockBytes) throw std::invalid_argument("block larger than kMaxBlockBytes");
  if (try_compress && !raw.empty()) {
    const auto header_at = out.size();
    const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
    out.resize(header_at + kBlockHeaderBytes + static_cast<std::size_t>(bound));
    const int compressed =
        LZ4_compress_default(raw.data(), out.data() + header_at + kBlockHeaderBytes,
                             static_cast<int>(raw.size()), bound);
    const bool pays =
        compressed > 0 && compression_pays(raw.size(), static_cast<std::size_t>(compressed));
    if (pays) {
      // Write the header in front of the payload LZ4 already put in place.
      std::string header;
      append_block(header, BlockCodec::kLz4, raw, {}, static_cast<std::size_t>(compressed));
      std::memcpy(out.data() + header_at, header.data(), kBlockHeaderBytes);
      out.resize(header_at + kBlockHeaderBytes + static_cast<std::size_t>(compressed));
      return;
    }
    out.resize(header_at);
  }
  append_block(out, BlockCodec::kStored, raw, raw, raw.size());
}

std::optional<BlockHeader> parse_block_header(std::string_view bytes) {
  if (bytes.size() < kBlockHeaderBytes) return std::nullopt;
  BlockHeader header{.stored_size = static_cast<std::uint32_t>(util::read_le(bytes, 0, 4)),
                     .raw_size = static_cast<std::uint32_t>(util::read_le(bytes, 4, 4)),
                     .codec = static_cast<BlockCodec>(bytes[8]),
                     .checksum = util::read_le(bytes, 16, 8)};
  if (util::read_le(bytes, 9, 7) != 0 || header.raw_size > kMaxBlockBytes) return std::nullopt;
  switch (header.codec) {
    case BlockCodec::kStored:
      if (header.stored_size != header.raw_size) return std::nullopt;
      break;
    case BlockCodec::kLz4:
      if (header.stored_size == 0 ||
          header.stored_size > static_cast<std::uint32_t>(
                                   LZ4_compressBound(static_cast<int>(header.raw_size)))) {
        return std::nullopt;
      }
      break;
    default:
      return std::nullopt;
  }
  return header;
}

bool decode_block(const BlockHeader& header, std::string_view payload, std::string& out) {
  if (payload.size() != header.stored_size) return false;
  if (header.codec == BlockCodec::kStored) {
    out.assign(payload);
  } else {
    out.resize(header.raw_size);
    const int decoded = LZ4_decompress_safe(payload.data(), out.data(),
                                            static_cast<int>(payload.size()),
                                            static_cast<int>(header.raw_size));
    if (decoded < 0 || static_cast<std::uint32_t>(decoded) != header.raw_size) return false;
  }
  return block_checksum_matches(header, out);
}

bool block_checksum_matches(const BlockHeader& header, std::string_view raw) {
  return checksum_of(raw) == header.checksum;
}

}  // namespace s3hc::cache
