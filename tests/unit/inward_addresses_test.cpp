#include "net/inward_addresses.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace s3hc::net {
namespace {

using boost::asio::ip::make_address;

TEST(InwardAddressesTest, PrivateLoopbackLinkLocalAndTheirSpellingsAreInward) {
  for (const auto* text :
       {"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::",
        "fd00:ec2::254", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"}) {
    EXPECT_TRUE(is_inward(make_address(text))) << text;
  }
  for (const auto* text : {"52.216.8.1", "3.5.140.2", "172.32.0.1", "100.128.0.1",
                           "2600:1f18::1", "::ffff:52.216.8.1"}) {
    EXPECT_FALSE(is_inward(make_address(text))) << text;
  }
}

TEST(InwardAddressesTest, NetworksParseAndContain) {
  const auto ten = parse_network("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(make_address("10.255.0.1")));
  EXPECT_TRUE(ten.contains(make_address("::ffff:10.1.1.1")));
  EXPECT_FALSE(ten.contains(make_address("11.0.0.1")));
  EXPECT_FALSE(ten.contains(make_address("fd00::1")));
  EXPECT_TRUE(parse_network("fd00::/8").contains(make_address("fd12::1")));
  EXPECT_TRUE(parse_network("192.0.2.7").contains(make_address("192.0.2.7")));
  EXPECT_FALSE(parse_network("192.0.2.7").contains(make_address("192.0.2.8")));
  for (const auto* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "ten/8", "10.0.0.0/8x"}) {
    EXPECT_THROW(parse_network(bad), std::invalid_argument) << bad;
  }
}

TEST(InwardAddressesTest, OnlyOutwardAddressesRemainUnlessAllowed) {
  const std::vector candidates = {make_address("10.0.0.5"), make_address("52.216.8.1"),
                                  make_address("198.51.100.9")};
  const std::vector own = {make_address("198.51.100.9")};  // the proxy's own public address
  EXPECT_EQ(outward_addresses(candidates, {}, own), std::vector{make_address("52.216.8.1")});
  EXPECT_EQ(outward_addresses(candidates, {parse_network("10.0.0.0/24")}, own),
            (std::vector{make_address("10.0.0.5"), make_address("52.216.8.1")}));
}

}  // namespace
}  // namespace s3hc::net
