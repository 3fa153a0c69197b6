#include "s3/aws_chunked.h"

#include <algorithm>
#include <charconv>

#include "util/ascii.h"

namespace s3hc::s3 {

bool AwsChunkedDecoder::take_line(std::string_view& input) {
  const auto newline = input.find('\n');
  const auto piece = input.substr(0, newline == std::string_view::npos ? input.size() : newline);
  if (line_.size() + piece.size() > kMaxLineBytes) {
    state_ = State::kError;
    return false;
  }
  line_.append(piece);
  if (newline == std::string_view::npos) {
    input = {};
    return false;
  }
  input.remove_prefix(newline + 1);
  if (line_.empty() || line_.back() != '\r') {  // lines end in CRLF, never a bare LF
    state_ = State::kError;
    return false;
  }
  line_.pop_back();
  return true;
}

void AwsChunkedDecoder::on_chunk_header() {
  // "hex-size" optionally followed by ";chunk-signature=..." (or other extensions).
  const std::string_view header = line_;
  const auto size_text = header.substr(0, header.find(';'));
  std::uint64_t size = 0;
  const auto* end = size_text.data() + size_text.size();
  const auto [ptr, ec] = std::from_chars(size_text.data(), end, size, 16);
  if (size_text.empty() || ec != std::errc{} || ptr != end) {
    state_ = State::kError;
    return;
  }
  chunk_remaining_ = size;
  state_ = size == 0 ? State::kTrailers : State::kChunkData;
}

void AwsChunkedDecoder::on_trailer_line() {
  if (line_.empty()) {
    state_ = State::kDone;
    return;
  }
  const auto colon = line_.find(':');
  if (colon == std::string::npos || colon == 0) {
    state_ = State::kError;
    return;
  }
  std::string name = util::to_lower_ascii(std::string_view(line_).substr(0, colon));
  std::string_view value = std::string_view(line_).substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  trailers_.emplace_back(std::move(name), std::string(value));
}

void AwsChunkedDecoder::feed(std::string_view encoded, std::string& payload) {
  while (!encoded.empty()) {
    switch (state_) {
      case State::kChunkHeader:
        if (!take_line(encoded)) break;
        on_chunk_header();
        line_.clear();
        break;
      case State::kChunkData: {
        const auto take = static_cast<std::size_t>(
            std::min<std::uint64_t>(chunk_remaining_, encoded.size()));
        payload.append(encoded.substr(0, take));
        payload_size_ += take;
        chunk_remaining_ -= take;
        encoded.remove_prefix(take);
        if (chunk_remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd:
        if (!take_line(encoded)) break;
        state_ = line_.empty() ? State::kChunkHeader : State::kError;  // CRLF after the data
        line_.clear();
        break;
      case State::kTrailers:
        if (!take_line(encoded)) break;
        on_trailer_line();
        line_.clear();
        break;
      case State::kDone:
      case State::kError:
        return;
    }
    if (state_ == State::kError) return;
  }
}

}  // namespace s3hc::s3
