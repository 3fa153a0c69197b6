// util::loggable: text from the network made safe for one log line.
#include <gtest/gtest.h>

#include <string>

#include "util/ascii.h"

namespace s3hc::util {
namespace {

TEST(LoggableTest, PrintableAsciiStaysAsItIs) {
  EXPECT_EQ(loggable("s3.us-east-1.amazonaws.com"), "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(loggable(""), "");
}

TEST(LoggableTest, OtherBytesAreEscaped) {
  EXPECT_EQ(loggable(std::string("a\nb\r\x01\x7f\xff", 7)), "a\\x0ab\\x0d\\x01\\x7f\\xff");
  EXPECT_EQ(loggable(std::string("\0", 1)), "\\x00");
}

TEST(LoggableTest, LongTextIsCutAndMarked) {
  EXPECT_EQ(loggable(std::string(300, 'a'), 10), std::string(10, 'a') + "...");
  EXPECT_EQ(loggable(std::string(10, 'a'), 10), std::string(10, 'a'));
}

}  // namespace
}  // namespace s3hc::util
