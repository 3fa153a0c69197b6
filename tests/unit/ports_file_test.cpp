// Port 0 listeners and the ports file that reports what they were bound to.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "config/proxy_config.h"
#include "obs/ports_file.h"
#include "temp_dir.h"

namespace s3hc {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

TEST(ListenAddressTest, PortZeroMeansAnyPort) {
  const auto v4 = config::parse_listen_address("127.0.0.1:0");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 0);
  const auto v6 = config::parse_listen_address("[::1]:0");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  EXPECT_EQ(config::parse_listen_address("0.0.0.0:8080").port, 8080);
}

TEST(ListenAddressTest, OtherMistakesAreStillRefused) {
  for (const char* text : {":0", "host:", "host", "host:00", "host:65536", "[::1:0", "h:0x"}) {
    EXPECT_THROW(config::parse_listen_address(text), std::invalid_argument) << text;
  }
}

TEST(ListenAddressTest, ConfigTakesPortZeroForBothListeners) {
  const auto parsed = config::parse_config_yaml(
      "listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\nports_file: /run/s3hc/ports.json\n");
  EXPECT_EQ(parsed.listen.port, 0);
  EXPECT_EQ(parsed.admin_listen.port, 0);
  EXPECT_EQ(parsed.ports_file, "/run/s3hc/ports.json");
  // Two port-0 listeners get two ports from the kernel: no clash to refuse.
  EXPECT_NO_THROW(config::validate(parsed));
  EXPECT_TRUE(config::parse_config_yaml("").ports_file.empty());
}

TEST(ListenAddressTest, ValidateStillRefusesOneFixedPortTwice) {
  auto clash = config::parse_config_yaml("listen: 127.0.0.1:9090\nadmin_listen: 127.0.0.1:9090");
  EXPECT_THROW(config::validate(clash), std::invalid_argument);
  auto mixed = config::parse_config_yaml("listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:9090");
  EXPECT_NO_THROW(config::validate(mixed));
}

TEST(ListenAddressTest, AnOriginOnPortZeroIsStillAnError) {
  // Port 0 means "any" only for a socket we bind; nothing can be reached there.
  EXPECT_THROW(config::parse_config_yaml("upstream: {url: 'http://origin:0'}"),
               std::invalid_argument);
  try {
    config::parse_config_yaml("listen: ':0'");
    FAIL() << "accepted a listen address without a host";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("listen: invalid listen address ':0'"),
              std::string::npos)
        << error.what();
  }
}

// Two listeners, or three with the HTTPS passthrough's.
obs::BoundPorts ports(std::uint16_t listen, std::uint16_t admin,
                      std::optional<std::uint16_t> passthrough = std::nullopt) {
  return {.listen = listen, .admin = admin, .passthrough = passthrough};
}

TEST(PortsFileTest, JsonNamesBothPorts) {
  EXPECT_EQ(obs::ports_json(ports(8080, 9090)), "{\"listen\":8080,\"admin\":9090}\n");
}

TEST(PortsFileTest, JsonNamesThePassthroughPortWhenItListens) {
  EXPECT_EQ(obs::ports_json(ports(8080, 9090, 8443)),
            "{\"listen\":8080,\"admin\":9090,\"passthrough\":8443}\n");
}

TEST(PortsFileTest, WritesAndReplacesTheFileLeavingNothingElse) {
  testing::TempDir dir("ports-file");
  const auto path = dir.path() / "ports.json";
  obs::write_ports_file(path.string(), ports(1, 2));
  EXPECT_EQ(read_text(path), obs::ports_json(ports(1, 2)));
  obs::write_ports_file(path.string(), ports(40001, 40002));
  EXPECT_EQ(read_text(path), obs::ports_json(ports(40001, 40002)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(PortsFileTest, AnUnwritableDirectoryIsAnError) {
  testing::TempDir dir("ports-file");
  EXPECT_THROW(
      obs::write_ports_file((dir.path() / "missing" / "ports.json").string(), ports(0, 0)),
      std::system_error);
}

TEST(PortsFileTest, AReaderNeverSeesPartOfTheFile) {
  testing::TempDir dir("ports-file");
  const auto path = dir.path() / "ports.json";
  std::set<std::string> written;
  for (std::uint16_t i = 1; i <= 100; ++i) written.insert(obs::ports_json(ports(i, i)));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint16_t i = 1; i <= 100; ++i) obs::write_ports_file(path.string(), ports(i, i));
    done = true;
  });
  int reads = 0;
  while (!done) {
    if (!fs::exists(path)) continue;
    const auto text = read_text(path);
    // Between exists() and the open, the file is only ever replaced, never missing again.
    EXPECT_TRUE(written.contains(text)) << "read '" << text << "'";
    ++reads;
  }
  writer.join();
  EXPECT_EQ(read_text(path), obs::ports_json(ports(100, 100)));
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace s3hc
