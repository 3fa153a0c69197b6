#include "obs/access_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "obs/access_log_record.h"
#include "temp_dir.h"

namespace s3hc::obs {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Amazon S3's server access log record: 25 fields, the time bracketed, request line,
// referrer and user agent quoted; more fields may follow (here the cache status).
const std::regex kS3AccessLogLine(
    R"re(^(\S+) (\S+) \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)\] (\S+) (\S+) (\S+) )re"
    R"re((\S+) (\S+) "([^"]*)" (\d{3}|-) (\S+) (\d+|-) (\d+|-) (\d+|-) (\d+|-) "([^"]*)" )re"
    R"re("([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))*$)re");

AccessLogRecord sample() {
  AccessLogRecord record;
  record.time = std::chrono::system_clock::from_time_t(1'796'000'000);
  record.bucket = "my-bucket";
  record.remote_ip = "10.0.0.7";
  record.requester = "AKIAEXAMPLE";
  record.operation = "REST.GET.OBJECT";
  record.key = "photos/cat.jpg";
  record.method = "GET";
  record.target = "/my-bucket/photos/cat.jpg";
  record.status = 200;
  record.bytes_sent = 1234;
  record.object_size = 1000;
  record.total_time = 12ms;
  record.turn_around_time = 3ms;
  record.user_agent = "aws-cli/1.45 Python/3.11";
  record.signature_version = "SigV4";
  record.authentication_type = "AuthHeader";
  record.host_header = "s3.us-east-1.amazonaws.com";
  record.cache_status = "HIT";
  return record;
}

TEST(AccessLogTest, LinesFollowS3sServerAccessLogFormat) {
  std::smatch fields;
  const auto line = format_access_log_line(sample());
  ASSERT_TRUE(std::regex_match(line, fields, kS3AccessLogLine)) << line;
  EXPECT_EQ(fields[1], "-");  // bucket owner
  EXPECT_EQ(fields[2], "my-bucket");
  EXPECT_EQ(fields[3], "30/Nov/2026:00:53:20 +0000");
  EXPECT_EQ(fields[5], "AKIAEXAMPLE");
  EXPECT_EQ(fields[7], "REST.GET.OBJECT");
  EXPECT_EQ(fields[9], "GET /my-bucket/photos/cat.jpg HTTP/1.1");
  EXPECT_EQ(fields[10], "200");
  EXPECT_EQ(fields[11], "-");  // no error code
  EXPECT_EQ(fields[12], "1234");
  EXPECT_EQ(fields[14], "12");
  EXPECT_EQ(fields[15], "3");
  EXPECT_EQ(fields[17], "aws-cli/1.45 Python/3.11");
  EXPECT_EQ(fields[20], "SigV4");
  EXPECT_EQ(fields[22], "AuthHeader");
  EXPECT_TRUE(line.ends_with(" HIT"));
}

TEST(AccessLogTest, AClientsHeadersCannotForgeFieldsOrLines) {
  auto record = sample();
  record.user_agent = "evil\" 200 - \nforged line";
  record.key = "a key with spaces";
  record.host_header = "host with space";
  const auto line = format_access_log_line(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::smatch fields;
  ASSERT_TRUE(std::regex_match(line, fields, kS3AccessLogLine)) << line;
  EXPECT_EQ(fields[8], "a_key_with_spaces");
  EXPECT_EQ(fields[23], "host_with_space");
}

TEST(AccessLogTest, TheFileIsRotatedBySizeAndOldFilesDropped) {
  testing::TempDir dir{"access-log"};
  const auto path = (dir.path() / "access.log").string();
  MetricsRegistry registry;
  {
    AccessLog log({.path = path, .rotate_bytes = 600, .rotate_interval = 1h, .keep_files = 2},
                  registry);
    const auto line = format_access_log_line(sample());
    for (int i = 0; i < 20; ++i) {
      log.append(line);
      // One line at a time, so each write may find the file over its size.
      const auto give_up = std::chrono::steady_clock::now() + 5s;
      while (registry.render_prometheus().find("s3hc_access_log_lines_total " +
                                               std::to_string(i + 1)) == std::string::npos &&
             std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
    }
  }
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    ++files;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      EXPECT_TRUE(std::regex_match(line, kS3AccessLogLine)) << entry.path() << ": " << line;
    }
    EXPECT_LE(fs::file_size(entry.path()), 600u + 400u) << entry.path();
  }
  EXPECT_EQ(files, 3);  // the current file and the two newest rotated ones
  EXPECT_NE(registry.render_prometheus().find("s3hc_access_log_lines_total 20\n"),
            std::string::npos);
}

}  // namespace
}  // namespace s3hc::obs
