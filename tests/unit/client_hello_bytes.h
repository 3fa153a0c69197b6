// The first bytes of TLS connections, for tests of what the HTTPS passthrough reads from them:
// real ClientHellos from OpenSSL's client, re-framed ones, and hand-made ones for what no
// real client sends.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3hc::testing {

using Bytes = std::vector<std::uint8_t>;

// `bytes` appended to `out` (a loop: GCC 12 at -O3 warns falsely of overflows in
// vector::insert of one byte vector into another).
inline void append(Bytes& out, std::span<const std::uint8_t> bytes) {
  for (const auto byte : bytes) out.push_back(byte);
}

// The ClientHello OpenSSL's client sends first: with SNI `server_name` (none when empty), TLS
// up to `max_version` (0: the newest, 1.3). One handshake record.
inline Bytes openssl_client_hello(const std::string& server_name, int max_version = 0) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (max_version != 0) SSL_CTX_set_max_proto_version(context, max_version);
  SSL* ssl = SSL_new(context);
  BIO* written = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), written);  // the SSL owns both
  if (!server_name.empty()) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // writes the ClientHello, then waits for an answer that never comes
  char* data = nullptr;
  const long size = BIO_get_mem_data(written, &data);
  Bytes hello(data, data + size);
  SSL_free(ssl);
  SSL_CTX_free(context);
  if (hello.size() < 50) throw std::runtime_error("OpenSSL wrote no ClientHello");
  return hello;
}

// The handshake bytes of `records` (one or more whole handshake records) framed anew in
// records of at most `fragment_bytes` each.
inline Bytes reframed(const Bytes& records, std::size_t fragment_bytes) {
  Bytes handshake;
  for (std::size_t at = 0; at + 5 <= records.size();) {
    const std::size_t length = std::size_t{records[at + 3]} << 8 | records[at + 4];
    append(handshake, std::span(records).subspan(at + 5, length));
    at += 5 + length;
  }
  Bytes out;
  for (std::size_t at = 0; at < handshake.size(); at += fragment_bytes) {
    const auto length = std::min(fragment_bytes, handshake.size() - at);
    append(out, Bytes{22, 3, 1, static_cast<std::uint8_t>(length >> 8),
                      static_cast<std::uint8_t>(length)});
    append(out, std::span(handshake).subspan(at, length));
  }
  return out;
}

// `value` in `width` big-endian bytes, appended.
inline void append_number(Bytes& out, std::size_t value, int width) {
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

// `contents` after its length in `width` bytes, appended (TLS's opaque<..>).
inline void append_vector(Bytes& out, const Bytes& contents, int width) {
  append_number(out, contents.size(), width);
  append(out, contents);
}

// A server_name extension (type 0) listing these (name type, name) entries.
inline Bytes server_name_extension(
    const std::vector<std::pair<std::uint8_t, std::string>>& entries) {
  Bytes list;
  for (const auto& [type, name] : entries) {
    list.push_back(type);
    append_vector(list, Bytes(name.begin(), name.end()), 2);
  }
  Bytes data;
  append_vector(data, list, 2);
  Bytes extension;
  append_number(extension, 0, 2);
  append_vector(extension, data, 2);
  return extension;
}

// A minimal TLS 1.2 ClientHello in one record with these extensions (concatenated), or with
// no extensions block at all.
inline Bytes hand_made_client_hello(const std::optional<Bytes>& extensions) {
  Bytes body{3, 3};
  body.insert(body.end(), 32, 0xab);                 // random
  append_vector(body, {}, 1);                        // session id
  append_vector(body, {0xc0, 0x2f}, 2);              // one cipher suite
  append_vector(body, {0}, 1);                       // null compression
  if (extensions) append_vector(body, *extensions, 2);
  Bytes message{1};
  append_vector(message, body, 3);
  Bytes record{22, 3, 1};
  append_vector(record, message, 2);
  return record;
}

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

}  // namespace s3hc::testing
