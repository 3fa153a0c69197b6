#include "http/upstream_connection.h"

#include <poll.h>

namespace s3hc::http {

boost::beast::tcp_stream& UpstreamConnection::tcp() {
  return visit([](auto& stream) -> boost::beast::tcp_stream& {
    if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, PlainStream>) {
      return stream;
    } else {
      return stream.next_layer();
    }
  });
}

bool UpstreamConnection::peer_still_open() {
  auto& socket = tcp().socket();
  if (!socket.is_open()) return false;
  // An idle HTTP connection has nothing to read; readable means EOF, reset or junk.
  pollfd descriptor{socket.native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&descriptor, 1, 0) == 0;
}

}  // namespace s3hc::http
