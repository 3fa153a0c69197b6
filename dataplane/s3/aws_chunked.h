// Incremental decoder of the `aws-chunked` content encoding of S3 uploads (SigV4 streaming:
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], STREAMING-UNSIGNED-PAYLOAD-TRAILER):
//
//   hex-size[;chunk-signature=...]\r\n <size bytes> \r\n ... 0[;chunk-signature=...]\r\n
//   [trailer-name:value\r\n ...] \r\n
//
// The proxy forwards such bodies unchanged; the decoder recovers the object's bytes (for the
// cache's write-through) as they stream past. Signatures are not checked: the origin does.
// Not thread-safe; one decoder per body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3hc::s3 {

class AwsChunkedDecoder {
 public:
  enum class State { kChunkHeader, kChunkData, kChunkDataEnd, kTrailers, kDone, kError };

  // Consumes as much of `encoded` as it can and appends the payload bytes it carries to
  // `payload`. Bytes of a line split across calls are kept internally, so any split of the
  // input works. After kDone or kError the rest of the input is ignored.
  void feed(std::string_view encoded, std::string& payload);

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kError; }
  // Trailer fields after the last chunk (e.g. x-amz-checksum-crc32), names lower-cased.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  std::uint64_t payload_size() const { return payload_size_; }

 private:
  // Longest chunk header or trailer line accepted (a chunk signature is 81 bytes).
  static constexpr std::size_t kMaxLineBytes = 4096;

  // Collects one CRLF-terminated line into line_; true once complete (input advanced).
  bool take_line(std::string_view& input);
  void on_chunk_header();
  void on_trailer_line();

  State state_ = State::kChunkHeader;
  std::string line_;
  std::uint64_t chunk_remaining_ = 0;
  std::uint64_t payload_size_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

}  // namespace s3hc::s3
