#include "http/client_writer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>

#include "http/file_sender.h"
#include "http/transfer_all_at_once.h"

namespace s3hc::http {

namespace asio = boost::asio;

asio::awaitable<bool> ClientWriter::write(std::string_view header, std::string_view body) {
  const std::array<asio::const_buffer, 2> pieces{asio::buffer(header), asio::buffer(body)};
  client_.record().sending(header);
  arm();
  auto [ec, written] = co_await asio::async_write(client_.socket(), pieces, transfer_all_at_once,
                                                  asio::as_tuple(asio::use_awaitable));
  wrote(written);
  co_return !ec;
}

asio::awaitable<bool> ClientWriter::write_more(std::string_view bytes) {
  client_.record().sending(bytes);
  const auto sent = co_await http::send_more(client_.socket(), bytes, [this] { arm(); });
  wrote(sent);
  co_return sent == bytes.size();
}

asio::awaitable<bool> ClientWriter::send_file(int file, std::uint64_t offset,
                                              std::uint64_t length) {
  const auto sent =
      co_await http::send_file(client_.socket(), file, offset, length, [this] { arm(); });
  wrote(sent);
  co_return sent == length;
}

void ClientWriter::wrote(std::uint64_t bytes) {
  client_.expires_never();
  sent_bytes_.inc(bytes);
  client_.record().sent(bytes);
}

}  // namespace s3hc::http
