// Every byte of an answer goes to the client through a ClientWriter: each write runs under the
// client I/O deadline (deadline.h), so a client that stops reading cannot hold a worker's
// connection, buffers or fill forever, and every byte written is counted in
// s3hc_client_sent_bytes_total, whatever way the answer takes (a gather write from memory, a
// body relayed from the origin, sendfile from a cache file).
//
// Lifetime: a small value (two references and a timeout) made per answer; the connection and
// the counter must outlive it. Thread-safety: on the connection's io_context thread only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/client_connection.h"
#include "obs/metrics.h"

namespace s3hc::http {

class ClientWriter {
 public:
  ClientWriter(ClientConnection& client, std::chrono::milliseconds timeout,
               obs::Counter& sent_bytes)
      : client_(client), timeout_(timeout), sent_bytes_(sent_bytes) {}

  // Writes `header` then `body` (either may be empty) as one gather write, handing the socket
  // everything at each call (transfer_all_at_once.h). False when the client failed or the
  // deadline passed; the bytes it took are counted either way.
  boost::asio::awaitable<bool> write(std::string_view header, std::string_view body = {});
  // Writes `bytes` held back by the kernel (MSG_MORE) to share a packet with what follows:
  // the first bytes of a send_file.
  boost::asio::awaitable<bool> write_more(std::string_view bytes);
  // Sends `length` bytes of `file` from `offset` with sendfile(2) (file_sender.h: only for
  // files on a local disk); false when the client failed, the deadline passed or the file
  // ended early. (Here too, the bytes that went are counted either way.)
  boost::asio::awaitable<bool> send_file(int file, std::uint64_t offset, std::uint64_t length);

  // For a body that http::relay_body writes to socket() itself: arm() is its ArmOutput (each
  // write under the deadline), and wrote() takes what it wrote once it returns.
  boost::asio::ip::tcp::socket& socket() { return client_.socket(); }
  void arm() { client_.expires_after(timeout_); }
  // Disarms the deadline and counts `bytes`.
  void wrote(std::uint64_t bytes);

  // The request being answered (request_record.h).
  RequestRecord& record() { return client_.record(); }

 private:
  ClientConnection& client_;
  std::chrono::milliseconds timeout_;
  obs::Counter& sent_bytes_;
};

}  // namespace s3hc::http
