// The server name a TLS client asks for, read from the first bytes of its connection (the
// ClientHello, RFC 8446 section 4.1.2; server_name, RFC 6066 section 3) without taking part
// in TLS. The ClientHello may arrive over several reads and span several TLS records: scan
// everything received so far, and read more while the verdict is kNeedMore.
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace s3hc::passthrough {

enum class HelloVerdict {
  kNeedMore,      // a prefix of a ClientHello: more bytes decide
  kNotTls,        // the bytes do not start with a TLS handshake record (HTTP, SSLv2, ...)
  kMalformed,     // TLS records, but no well-formed ClientHello in them
  kNoServerName,  // a ClientHello without a host_name in a server_name extension
  kServerName,    // a ClientHello naming a host
};

struct ClientHelloScan {
  HelloVerdict verdict = HelloVerdict::kNeedMore;
  // kServerName: the first host_name entry, byte for byte as sent (never empty; not
  // checked for being a DNS name: that is the destination policy's job).
  std::string server_name;
};

// The verdict on the first bytes of a connection. Once it is not kNeedMore, more bytes
// never change it. Bytes after the ClientHello message are not looked at.
ClientHelloScan scan_client_hello(std::span<const std::uint8_t> received);

}  // namespace s3hc::passthrough
