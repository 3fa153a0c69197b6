// Streams one message body from a parser on one stream to a serializer on another through a
// fixed scratch buffer: the memory used is the same for 1 KiB and 50 GiB bodies, and the
// reader waits for the writer (back-pressure), so a slow receiver slows the sender.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>

namespace s3hc::http {

struct RelayResult {
  enum class Failure { kNone, kInput, kOutput };
  Failure failure = Failure::kNone;
  boost::system::error_code ec;
  std::uint64_t bytes_read = 0;     // from the input stream, as consumed by the parser
  std::uint64_t bytes_written = 0;  // to the output stream, framing included

  bool ok() const { return failure == Failure::kNone; }
};

// The default observer of relay_body: none.
struct NoBodyObserver {};

// Relays the rest of the body after the header went out through `serializer`. ArmInput and
// ArmOutput set the deadline of the next read or write (each stream has its own timeout style).
// An `observe` callable, `awaitable<void>(std::span<const char> bytes, bool last)`, sees every
// piece read before it is written (`last` marks the end of the body).
template <bool kIsRequest, typename InputStream, typename OutputStream, typename ArmInput,
          typename ArmOutput, typename Observe = NoBodyObserver>
boost::asio::awaitable<RelayResult> relay_body(
    InputStream& input, boost::beast::flat_buffer& input_buffer,
    boost::beast::http::parser<kIsRequest, boost::beast::http::buffer_body>& parser,
    OutputStream& output,
    boost::beast::http::serializer<kIsRequest, boost::beast::http::buffer_body>& serializer,
    std::span<char> scratch, ArmInput arm_input, ArmOutput arm_output,
    Observe observe = {}) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  RelayResult result;
  auto& body = parser.get().body();
  // Beast reads at most the buffer's free capacity per call: without room, bodies would
  // trickle through in header-sized reads.
  input_buffer.reserve(std::min(scratch.size(), input_buffer.max_size()));
  for (;;) {
    if (!parser.is_done()) {
      body.data = scratch.data();
      body.size = scratch.size();
      arm_input();
      auto [ec, consumed] =
          co_await http::async_read_some(input, input_buffer, parser,
                                         asio::as_tuple(asio::use_awaitable));
      result.bytes_read += consumed;
      if (ec && ec != http::error::need_buffer) {
        result.failure = RelayResult::Failure::kInput;
        result.ec = ec;
        co_return result;
      }
      body.size = scratch.size() - body.size;
      // Beast's serializer would frame an empty buffer as a zero-size chunk, which ends a
      // chunked body early: hand it no buffer at all when nothing was read.
      body.data = body.size ? scratch.data() : nullptr;
      body.more = !parser.is_done();
    } else {  // nothing (more) to read: let the serializer finish the framing
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    if constexpr (!std::is_same_v<Observe, NoBodyObserver>) {
      co_await observe(std::span<const char>(scratch.data(), body.size), !body.more);
    }
    arm_output();
    auto [ec, written] =
        co_await http::async_write(output, serializer, asio::as_tuple(asio::use_awaitable));
    result.bytes_written += written;
    if (ec && ec != http::error::need_buffer) {
      result.failure = RelayResult::Failure::kOutput;
      result.ec = ec;
      co_return result;
    }
    if (!body.more) co_return result;  // that write carried the end of the body
  }
}

}  // namespace s3hc::http
