// The aws-chunked decoder (s3/aws_chunked.h). The input is fed as an encoded body, whole and in
// pieces whose sizes the input's own bytes choose, and is also used as a payload to encode.
// Checks: every split decodes to the same payload, state and trailers; the payload size is
// counted right; encoding any payload and decoding it gives the payload back.
#include <cstdio>
#include <string>

#include "fuzz_common.h"
#include "s3/aws_chunked.h"

namespace {

using s3hc::s3::AwsChunkedDecoder;

struct Decoded {
  std::string payload;
  AwsChunkedDecoder decoder;
};

// Pieces of 1 to 16 bytes, sizes taken from the input's bytes, starting at `seed`.
Decoded decode_in_pieces(std::string_view encoded, std::size_t seed) {
  Decoded result;
  std::size_t at = 0;
  for (std::size_t i = seed; at < encoded.size(); ++i) {
    const auto step = 1 + static_cast<unsigned char>(encoded[i % encoded.size()]) % 16;
    result.decoder.feed(encoded.substr(at, step), result.payload);
    at += step;
  }
  return result;
}

void check_same(const Decoded& a, const Decoded& b) {
  S3HC_FUZZ_CHECK(a.payload == b.payload);
  S3HC_FUZZ_CHECK(a.decoder.state() == b.decoder.state());
  S3HC_FUZZ_CHECK(a.decoder.trailers() == b.decoder.trailers());
  S3HC_FUZZ_CHECK(a.decoder.payload_size() == a.payload.size());
}

std::string encode(std::string_view payload, std::size_t chunk_size) {
  constexpr std::string_view kSignature =
      ";chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n";
  std::string encoded;
  char size_text[32];
  while (true) {
    const auto take = std::min(chunk_size, payload.size());
    std::snprintf(size_text, sizeof size_text, "%zx", take);
    encoded += size_text;
    encoded += kSignature;
    encoded.append(payload.substr(0, take));
    if (take == 0) break;
    encoded += "\r\n";
    payload.remove_prefix(take);
  }
  return encoded + "X-Amz-Checksum-CRC32:DUoRhQ==\r\n\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = s3hc::fuzz::as_text(data, size);

  Decoded whole;
  whole.decoder.feed(text, whole.payload);
  S3HC_FUZZ_CHECK(whole.decoder.payload_size() == whole.payload.size());
  S3HC_FUZZ_CHECK(whole.payload.size() <= text.size());
  if (!text.empty()) {
    check_same(whole, decode_in_pieces(text, 0));
    check_same(whole, decode_in_pieces(text, text.size() / 2));
  }

  const std::size_t chunk_size = text.empty() ? 1 : 1 + static_cast<unsigned char>(text[0]);
  Decoded round_trip;
  round_trip.decoder.feed(encode(text, chunk_size), round_trip.payload);
  S3HC_FUZZ_CHECK(round_trip.decoder.done());
  S3HC_FUZZ_CHECK(round_trip.payload == text);
  S3HC_FUZZ_CHECK(round_trip.decoder.trailers().size() == 1);
  S3HC_FUZZ_CHECK(round_trip.decoder.trailers()[0].first == "x-amz-checksum-crc32");
  return 0;
}
