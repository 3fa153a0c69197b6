#include "passthrough/client_hello.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace s3hc::passthrough {
namespace {

constexpr std::uint8_t kHandshakeRecord = 22;
constexpr std::uint8_t kRecordMajorVersion = 3;  // SSL 3.0 to TLS 1.3 records: 3.x
constexpr std::size_t kRecordHeaderBytes = 5;
constexpr std::size_t kMaxRecordFragment = std::size_t{1} << 14;  // RFC 8446 section 5.1
constexpr std::uint8_t kClientHelloType = 1;
constexpr std::size_t kHandshakeHeaderBytes = 4;
constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kMaxSessionIdBytes = 32;
constexpr std::uint32_t kServerNameExtension = 0;
constexpr std::uint32_t kHostNameType = 0;

// Big-endian numbers and length-prefixed vectors (TLS's opaque<..>) within one structure;
// a read past its end fails.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  bool empty() const { return bytes_.empty(); }
  std::span<const std::uint8_t> bytes() const { return bytes_; }

  std::optional<std::uint32_t> number(std::size_t width) {
    if (bytes_.size() < width) return std::nullopt;
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < width; ++i) value = value << 8 | bytes_[i];
    bytes_ = bytes_.subspan(width);
    return value;
  }

  bool skip(std::size_t count) {
    if (bytes_.size() < count) return false;
    bytes_ = bytes_.subspan(count);
    return true;
  }

  // The contents of a vector whose length takes `width` bytes.
  std::optional<Reader> vector(std::size_t width) {
    const auto length = number(width);
    if (!length || bytes_.size() < *length) return std::nullopt;
    Reader contents(bytes_.first(*length));
    bytes_ = bytes_.subspan(*length);
    return contents;
  }

 private:
  std::span<const std::uint8_t> bytes_;
};

// A verdict that names no server.
ClientHelloScan unnamed(HelloVerdict verdict) { return {verdict, {}}; }
ClientHelloScan malformed() { return unnamed(HelloVerdict::kMalformed); }

// The server_name extension's data: a non-empty ServerNameList of (type, name) entries with
// at most one name per type (RFC 6066 section 3).
ClientHelloScan scan_server_name(Reader data) {
  auto list = data.vector(2);
  if (!list || list->empty() || !data.empty()) return malformed();
  std::optional<std::string> host_name;
  while (!list->empty()) {
    const auto type = list->number(1);
    const auto name = list->vector(2);
    if (!type || !name || name->empty()) return malformed();
    if (*type != kHostNameType) continue;
    if (host_name) return malformed();
    host_name.emplace(name->bytes().begin(), name->bytes().end());
  }
  if (!host_name) return unnamed(HelloVerdict::kNoServerName);
  return {HelloVerdict::kServerName, std::move(*host_name)};
}

// A whole ClientHello message body. Every length is checked, the other extensions' too, so a
// verdict of kServerName comes only from a ClientHello a TLS server would parse.
ClientHelloScan scan_hello_body(std::span<const std::uint8_t> body) {
  Reader hello(body);
  const auto legacy_version = hello.number(2);
  if (!legacy_version || *legacy_version >> 8 != kRecordMajorVersion ||
      !hello.skip(kRandomBytes)) {
    return malformed();
  }
  const auto session_id = hello.vector(1);
  const auto cipher_suites = hello.vector(2);
  const auto compression_methods = hello.vector(1);
  if (!session_id || session_id->bytes().size() > kMaxSessionIdBytes || !cipher_suites ||
      cipher_suites->empty() || cipher_suites->bytes().size() % 2 != 0 ||
      !compression_methods || compression_methods->empty()) {
    return malformed();
  }
  // TLS 1.2 and older allow a ClientHello without extensions.
  if (hello.empty()) return unnamed(HelloVerdict::kNoServerName);
  auto extensions = hello.vector(2);
  if (!extensions || !hello.empty()) return malformed();
  auto found = unnamed(HelloVerdict::kNoServerName);
  bool seen_server_name = false;
  while (!extensions->empty()) {
    const auto type = extensions->number(2);
    const auto data = extensions->vector(2);
    if (!type || !data) return malformed();
    if (*type != kServerNameExtension) continue;
    if (seen_server_name) return malformed();  // one of each type (RFC 8446 section 4.2)
    seen_server_name = true;
    found = scan_server_name(*data);
    if (found.verdict == HelloVerdict::kMalformed) return found;
  }
  return found;
}

}  // namespace

ClientHelloScan scan_client_hello(std::span<const std::uint8_t> received) {
  // Walks the handshake records, counting the handshake bytes they carry; nothing is copied
  // until the whole ClientHello is there (a client trickling bytes costs one walk per read).
  std::array<std::uint8_t, kHandshakeHeaderBytes> header{};
  std::size_t handshake_bytes = 0;  // carried by the records so far
  std::optional<std::size_t> message_bytes;  // header included, once the header is known
  std::size_t offset = 0;
  for (;;) {
    const auto record = received.subspan(offset);
    // The header's bytes are checked as they arrive: an HTTP request is told apart at once.
    const HelloVerdict wrong = offset == 0 ? HelloVerdict::kNotTls : HelloVerdict::kMalformed;
    if (!record.empty() && record[0] != kHandshakeRecord) return unnamed(wrong);
    if (record.size() > 1 && record[1] != kRecordMajorVersion) return unnamed(wrong);
    if (record.size() < kRecordHeaderBytes) return {};
    const std::size_t fragment_length = std::size_t{record[3]} << 8 | record[4];
    // Empty handshake fragments are forbidden (RFC 8446 section 5.1).
    if (fragment_length == 0 || fragment_length > kMaxRecordFragment) return malformed();
    const auto fragment = record.subspan(
        kRecordHeaderBytes, std::min(fragment_length, record.size() - kRecordHeaderBytes));
    for (std::size_t i = 0; handshake_bytes + i < kHandshakeHeaderBytes && i < fragment.size();
         ++i) {
      header[handshake_bytes + i] = fragment[i];
    }
    handshake_bytes += fragment.size();
    if (!message_bytes && handshake_bytes >= kHandshakeHeaderBytes) {
      if (header[0] != kClientHelloType) return malformed();
      message_bytes = kHandshakeHeaderBytes +
                      (std::size_t{header[1]} << 16 | std::size_t{header[2]} << 8 | header[3]);
    }
    if (message_bytes && handshake_bytes >= *message_bytes) break;
    if (fragment.size() < fragment_length) return {};
    offset += kRecordHeaderBytes + fragment_length;
  }
  // The message whole: in place when the first record holds it (the usual case), else
  // gathered from the records' fragments.
  const auto first_fragment = received.subspan(kRecordHeaderBytes);
  if (first_fragment.size() >= *message_bytes &&
      (std::size_t{received[3]} << 8 | received[4]) >= *message_bytes) {
    return scan_hello_body(first_fragment.subspan(kHandshakeHeaderBytes,
                                                  *message_bytes - kHandshakeHeaderBytes));
  }
  std::vector<std::uint8_t> message;
  message.reserve(*message_bytes);
  for (std::size_t at = 0; message.size() < *message_bytes;) {
    const std::size_t fragment_length = std::size_t{received[at + 3]} << 8 | received[at + 4];
    const auto fragment = received.subspan(at + kRecordHeaderBytes).first(
        std::min({fragment_length, received.size() - at - kRecordHeaderBytes,
                  *message_bytes - message.size()}));
    message.insert(message.end(), fragment.begin(), fragment.end());
    at += kRecordHeaderBytes + fragment_length;
  }
  return scan_hello_body(std::span(message).subspan(kHandshakeHeaderBytes));
}

}  // namespace s3hc::passthrough
