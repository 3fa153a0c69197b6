// scan_client_hello: the server name of real ClientHellos (OpenSSL's, TLS 1.3 and 1.2), over
// any number of reads and records, and the verdicts on everything that is not one.
#include "passthrough/client_hello.h"

#include <gtest/gtest.h>

#include "client_hello_bytes.h"

namespace s3hc::passthrough {
namespace {

using testing::Bytes;
using testing::bytes_of;
using testing::hand_made_client_hello;
using testing::server_name_extension;

constexpr const char* kName = "s3.us-east-1.amazonaws.com";

ClientHelloScan scan(const Bytes& bytes) { return scan_client_hello(bytes); }

HelloVerdict verdict(const Bytes& bytes) { return scan(bytes).verdict; }

TEST(ClientHelloTest, NamesTheServerOfOpenSslsTls13Hello) {
  const auto result = scan(testing::openssl_client_hello(kName));
  EXPECT_EQ(result.verdict, HelloVerdict::kServerName);
  EXPECT_EQ(result.server_name, kName);
}

TEST(ClientHelloTest, NamesTheServerOfATls12OnlyHello) {
  const auto result =
      scan(testing::openssl_client_hello("bucket.s3.amazonaws.com", TLS1_2_VERSION));
  EXPECT_EQ(result.verdict, HelloVerdict::kServerName);
  EXPECT_EQ(result.server_name, "bucket.s3.amazonaws.com");
}

TEST(ClientHelloTest, AHelloWithoutServerNameSaysSo) {
  EXPECT_EQ(verdict(testing::openssl_client_hello("")), HelloVerdict::kNoServerName);
  // TLS 1.2 allows a ClientHello with no extensions at all.
  EXPECT_EQ(verdict(hand_made_client_hello(std::nullopt)), HelloVerdict::kNoServerName);
  EXPECT_EQ(verdict(hand_made_client_hello(Bytes{})), HelloVerdict::kNoServerName);
}

TEST(ClientHelloTest, EveryPrefixNeedsMore) {
  const auto hello = testing::openssl_client_hello(kName);
  for (std::size_t size = 0; size < hello.size(); ++size) {
    ASSERT_EQ(verdict(Bytes(hello.begin(), hello.begin() + size)), HelloVerdict::kNeedMore)
        << size << " of " << hello.size() << " bytes";
  }
}

TEST(ClientHelloTest, AHelloSplitOverManyRecordsReadsTheSame) {
  const auto hello = testing::openssl_client_hello(kName);
  for (const std::size_t fragment : {1, 2, 3, 5, 64, 100, 1000}) {
    const auto records = testing::reframed(hello, fragment);
    const auto result = scan(records);
    EXPECT_EQ(result.verdict, HelloVerdict::kServerName) << "fragments of " << fragment;
    EXPECT_EQ(result.server_name, kName);
    // Decided with the last byte of the message, not before.
    EXPECT_EQ(verdict(Bytes(records.begin(), records.end() - 1)), HelloVerdict::kNeedMore);
  }
}

TEST(ClientHelloTest, BytesAfterTheHelloAreNotLookedAt) {
  auto bytes = testing::openssl_client_hello(kName);
  for (const auto& more : {Bytes{23, 3, 3, 0, 1, 0}, bytes_of("GET / HTTP/1.1\r\n"), Bytes{0}}) {
    auto followed = bytes;
    testing::append(followed, more);
    EXPECT_EQ(scan(followed).server_name, kName);
  }
  // Also within the hello's last record: a record may hold more than one message.
  auto padded = testing::hand_made_client_hello(server_name_extension({{0, kName}}));
  const std::size_t record_length = std::size_t{padded[3]} << 8 | padded[4];
  padded[4] = static_cast<std::uint8_t>(record_length + 4);  // small: no carry
  testing::append(padded, Bytes{2, 0, 0, 0});                // a ServerHello header, say
  EXPECT_EQ(scan(padded).server_name, kName);
}

TEST(ClientHelloTest, OtherProtocolsAreNotTlsFromTheirFirstBytes) {
  EXPECT_EQ(verdict(bytes_of("G")), HelloVerdict::kNotTls);
  EXPECT_EQ(verdict(bytes_of("GET / HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")),
            HelloVerdict::kNotTls);
  EXPECT_EQ(verdict(bytes_of("SSH-2.0-OpenSSH_9.2\r\n")), HelloVerdict::kNotTls);
  EXPECT_EQ(verdict(Bytes{0x80, 0x2e, 0x01, 0x03, 0x01}), HelloVerdict::kNotTls);  // SSLv2
  EXPECT_EQ(verdict(Bytes{21, 3, 3, 0, 2, 2, 40}), HelloVerdict::kNotTls);        // an alert
  EXPECT_EQ(verdict(Bytes{22, 2}), HelloVerdict::kNotTls);  // not a 3.x record
  EXPECT_EQ(verdict(Bytes{}), HelloVerdict::kNeedMore);
  EXPECT_EQ(verdict(Bytes{22, 3, 1, 0}), HelloVerdict::kNeedMore);
}

TEST(ClientHelloTest, BrokenRecordsAreMalformed) {
  EXPECT_EQ(verdict(Bytes{22, 3, 1, 0, 0}), HelloVerdict::kMalformed);           // empty
  EXPECT_EQ(verdict(Bytes{22, 3, 1, 0x40, 0x01}), HelloVerdict::kMalformed);     // > 16 KiB
  EXPECT_EQ(verdict(Bytes{22, 3, 1, 0, 4, 2, 0, 0, 38}), HelloVerdict::kMalformed);  // ServerHello
  // A record of another type before the hello's end.
  auto split = testing::reframed(testing::openssl_client_hello(kName), 100);
  split[105] = 23;
  EXPECT_EQ(verdict(split), HelloVerdict::kMalformed);
}

TEST(ClientHelloTest, InconsistentLengthsAreMalformed) {
  const auto good = hand_made_client_hello(server_name_extension({{0, kName}}));
  ASSERT_EQ(scan(good).server_name, kName);
  // Offsets in the hand-made hello: record header 5, handshake header 4, version 2, random
  // 32, session id length at 43, cipher suites length at 44.
  auto long_session_id = good;
  long_session_id[43] = 33;
  EXPECT_EQ(verdict(long_session_id), HelloVerdict::kMalformed);
  auto odd_suites = good;
  odd_suites[45] = 3;
  EXPECT_EQ(verdict(odd_suites), HelloVerdict::kMalformed);
  // The extensions block longer than what is left of the message.
  auto long_extensions = good;
  long_extensions[51] += 1;
  EXPECT_EQ(verdict(long_extensions), HelloVerdict::kMalformed);
  // A name longer than its list.
  auto long_name = good;
  long_name[long_name.size() - std::string_view(kName).size() - 1] += 1;
  EXPECT_EQ(verdict(long_name), HelloVerdict::kMalformed);
}

TEST(ClientHelloTest, ServerNameRulesOfRfc6066) {
  const auto with = [](const Bytes& extensions) {
    return scan(hand_made_client_hello(extensions));
  };
  EXPECT_EQ(with(server_name_extension({{0, ""}})).verdict, HelloVerdict::kMalformed);
  EXPECT_EQ(with(server_name_extension({{0, "a.example"}, {0, "b.example"}})).verdict,
            HelloVerdict::kMalformed);
  EXPECT_EQ(with(server_name_extension({})).verdict, HelloVerdict::kMalformed);
  auto twice = server_name_extension({{0, "a.example"}});
  const auto once = twice;
  testing::append(twice, once);
  EXPECT_EQ(with(twice).verdict, HelloVerdict::kMalformed);
  // Another name type only: no host name to go by.
  EXPECT_EQ(with(server_name_extension({{7, "opaque"}})).verdict, HelloVerdict::kNoServerName);
  // The first host_name, whatever other types come around it.
  EXPECT_EQ(with(server_name_extension({{7, "x"}, {0, "a.example"}})).server_name, "a.example");
  // Other extensions before it are skipped.
  Bytes both{0xff, 0x01, 0, 1, 0};  // renegotiation_info
  const auto name = server_name_extension({{0, "a.example"}});
  testing::append(both, name);
  EXPECT_EQ(with(both).server_name, "a.example");
}

TEST(ClientHelloTest, TheNameComesAsSentForThePolicyToJudge) {
  const std::string odd("S3.Amazonaws.COM.\x01:443", 22);
  EXPECT_EQ(scan(hand_made_client_hello(server_name_extension({{0, odd}}))).server_name, odd);
}

}  // namespace
}  // namespace s3hc::passthrough
