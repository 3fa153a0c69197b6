// Sends bytes of a file to a client socket with sendfile(2): they go from the page cache to
// the socket without passing through the process. While the socket's buffer is full the
// coroutine waits for it to drain. A read of the file may block the calling thread when its
// pages are not cached, so this is only for files on a local disk. Used through
// ClientWriter (client_writer.h), which counts what these return.
// Thread-safety: on the socket's io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <string_view>

namespace s3hc::http {

// Writes `bytes` with MSG_MORE: the kernel holds them back to share a packet with what
// follows (the first bytes of a sendfile). `arm` sets the deadline of each wait. Returns the
// bytes the socket took: all of them unless it failed or the deadline passed.
boost::asio::awaitable<std::uint64_t> send_more(boost::asio::ip::tcp::socket& socket,
                                                std::string_view bytes,
                                                const std::function<void()>& arm);

// Sends `length` bytes of `file` from `offset`. Returns the bytes sent: fewer than `length`
// when the socket failed, the deadline passed or the file ended early.
boost::asio::awaitable<std::uint64_t> send_file(boost::asio::ip::tcp::socket& socket, int file,
                                                std::uint64_t offset, std::uint64_t length,
                                                const std::function<void()>& arm);

}  // namespace s3hc::http
