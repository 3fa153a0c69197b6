// A DNS server for tests, on 127.0.0.1 (a UDP port of its own) in the test's io_context:
// answers A and AAAA queries from a table of names, with chosen TTLs; NXDOMAIN for names not
// in it; or nothing at all for names set silent. Counts the queries each name received.
// Not thread-safe: use from the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "http/endpoint.h"

namespace s3hc::testing {

class FakeDnsServer {
 public:
  struct Records {
    std::vector<std::string> a{}, aaaa{};  // addresses as text
    std::uint32_t ttl = 60;            // seconds, for every record
    bool silent = false;               // never answer
  };

  explicit FakeDnsServer(boost::asio::io_context& io)
      : socket_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    receive();
  }

  http::HostPort address() const { return {"127.0.0.1", socket_.local_endpoint().port()}; }
  void set(const std::string& name, Records records) { names_[name] = std::move(records); }
  // A and AAAA queries received for `name`.
  int queries(const std::string& name) const {
    const auto found = queries_.find(name);
    return found == queries_.end() ? 0 : found->second;
  }

 private:
  static constexpr std::size_t kHeaderBytes = 12;
  static constexpr std::uint16_t kTypeA = 1, kTypeAaaa = 28;

  void receive() {
    socket_.async_receive_from(
        boost::asio::buffer(query_), peer_,
        [this](const boost::system::error_code& ec, std::size_t length) {
          if (ec == boost::asio::error::operation_aborted) return;  // destroyed
          if (!ec) answer(length);
          receive();
        });
  }

  void answer(std::size_t length) {
    // The question: labels from byte 12 to a zero length, then type and class.
    std::size_t at = kHeaderBytes;
    std::string name;
    while (at < length && query_[at] != 0) {
      const auto label = query_[at];
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(&query_[at + 1]), label);
      at += 1 + label;
    }
    const std::size_t question_end = at + 5;  // zero label, type, class
    if (question_end > length) return;
    const std::uint16_t type = query_[at + 1] << 8 | query_[at + 2];
    ++queries_[name];

    const auto found = names_.find(name);
    if (found != names_.end() && found->second.silent) return;
    std::vector<std::uint8_t> reply(query_.begin(), query_.begin() + question_end);
    reply[2] = 0x81;                                      // a response; recursion desired
    reply[3] = found == names_.end() ? 0x83 : 0x80;       // recursion available; NXDOMAIN?
    reply[6] = reply[7] = reply[8] = reply[9] = reply[10] = reply[11] = 0;
    if (found != names_.end()) {
      const std::vector<std::string> none;
      const auto& texts = type == kTypeA      ? found->second.a
                          : type == kTypeAaaa ? found->second.aaaa
                                              : none;
      for (const auto& text : texts) append_record(reply, type, found->second.ttl, text);
      reply[7] = static_cast<std::uint8_t>(texts.size());
    }
    reply[5] = 1;  // one question
    socket_.send_to(boost::asio::buffer(reply), peer_);
  }

  static void append_record(std::vector<std::uint8_t>& reply, std::uint16_t type,
                            std::uint32_t ttl, const std::string& text) {
    const auto address = boost::asio::ip::make_address(text);
    std::vector<std::uint8_t> data;
    if (address.is_v4()) {
      const auto bytes = address.to_v4().to_bytes();
      data.assign(bytes.begin(), bytes.end());
    } else {
      const auto bytes = address.to_v6().to_bytes();
      data.assign(bytes.begin(), bytes.end());
    }
    const auto byte = [](auto value, int shift) {
      return static_cast<std::uint8_t>(value >> shift);
    };
    const std::uint8_t head[] = {0xC0, 0x0C,  // the name: a pointer to the question's
                                 byte(type, 8), byte(type, 0),
                                 0, 1,  // class IN
                                 byte(ttl, 24), byte(ttl, 16), byte(ttl, 8), byte(ttl, 0),
                                 0, byte(data.size(), 0)};
    reply.insert(reply.end(), std::begin(head), std::end(head));
    reply.insert(reply.end(), data.begin(), data.end());
  }

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint peer_;
  std::array<std::uint8_t, 512> query_{};
  std::map<std::string, Records> names_;
  std::map<std::string, int> queries_;
};

}  // namespace s3hc::testing
