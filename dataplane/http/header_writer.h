// Writing a message header in one piece. Beast's serializer emits one buffer per header field,
// which costs more than the whole small-object exchange's copying; forwarding wants the header
// as one contiguous block, so it can also share a single write with the body.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <string>

namespace s3hc::http {

// Appends the start line and every field, in received order and spelling, then the blank line.
template <bool kIsRequest, typename Fields>
void append_header(const boost::beast::http::header<kIsRequest, Fields>& header, std::string& out) {
  const auto version = header.version();
  const char version_text[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.',
                               static_cast<char>('0' + version % 10)};
  if constexpr (kIsRequest) {
    out.append(header.method_string());
    out += ' ';
    out.append(header.target());
    out += ' ';
    out.append(version_text, sizeof(version_text));
  } else {
    out.append(version_text, sizeof(version_text));
    out += ' ';
    out += std::to_string(header.result_int());
    out += ' ';
    out.append(header.reason());
  }
  out += "\r\n";
  for (const auto& field : header) {
    out.append(field.name_string());
    out += ": ";
    out.append(field.value());
    out += "\r\n";
  }
  out += "\r\n";
}

// Moves a serializer past its header (sent separately by append_header), so that writing it
// emits only the body, with its chunk framing where the message is chunked.
template <bool kIsRequest, typename Body, typename Fields>
void skip_header(boost::beast::http::serializer<kIsRequest, Body, Fields>& serializer) {
  serializer.split(true);
  boost::system::error_code ec;
  std::size_t header_size = 0;
  serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
    header_size = boost::asio::buffer_size(buffers);
  });
  serializer.consume(header_size);
}

}  // namespace s3hc::http
