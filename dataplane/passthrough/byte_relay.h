// Moves bytes both ways between two connected TCP sockets, unchanged and unread, until both
// directions have ended: an end of stream from one side is passed on to the other as a
// half-close (shutdown of its sending side), and the other direction goes on. An error on
// either side, or no byte moving either way for the idle timeout, ends both.
//
// Lifetime: the sockets and everything the context names must outlive the relay. Not
// thread-safe: run on the sockets' io_context, whose thread the sweeper and buffers belong to.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "http/deadline.h"
#include "http/relay_buffers.h"
#include "obs/metrics.h"

namespace s3hc::passthrough {

// How a relay ended.
enum class RelayEnd {
  kClosed,  // both sides ended their streams
  kIdle,    // the idle timeout passed
  kFailed,  // a read or write failed (a reset, mostly)
};

struct RelayCounters {
  obs::Counter& client_to_origin;
  obs::Counter& origin_to_client;
};

// Size of the buffers relays borrow: a TLS record (16 KiB and its header) fits whole, and
// on the benchmark's many connections larger ones cost more CPU per byte (64 KiB: +16 %,
// 128 KiB: +20 %; docs/PERFORMANCE.md, "HTTPS passthrough").
inline constexpr std::size_t kRelayBufferBytes = 32 * 1024;

// What a worker's relays share.
struct RelayContext {
  std::chrono::milliseconds idle_timeout;
  http::DeadlineSweeper& sweeper;
  http::RelayBuffers& buffers;  // of kRelayBufferBytes, lent for each read and its write
  RelayCounters counters;  // bytes as they are relayed
};

// Relays until the end, `first_to_origin` (bytes already read from the client) before any
// other; the sockets stay open (closing them is the caller's).
boost::asio::awaitable<RelayEnd> relay_bytes(boost::asio::ip::tcp::socket& client,
                                             boost::asio::ip::tcp::socket& origin,
                                             std::span<const std::uint8_t> first_to_origin,
                                             const RelayContext& context);

}  // namespace s3hc::passthrough
