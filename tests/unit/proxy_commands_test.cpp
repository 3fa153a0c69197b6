#include "controlplane/proxy_commands.h"

#include <gtest/gtest.h>

#include <future>

namespace s3hc::control {
namespace {

using namespace std::chrono_literals;

ProxyCommands::Deadline in(std::chrono::milliseconds duration) {
  return std::chrono::steady_clock::now() + duration;
}

v1::ProxyCommand purge_of(const std::string& bucket) {
  v1::ProxyCommand command;
  command.mutable_purge()->set_bucket(bucket);
  return command;
}

v1::CommandResult result_of(const std::string& proxy_id, const v1::ProxyCommand& command,
                            std::uint64_t purged) {
  v1::CommandResult result;
  result.set_proxy_id(proxy_id);
  result.set_command_id(command.command_id());
  result.set_purged(purged);
  return result;
}

TEST(ProxyCommandsTest, NoProxyConnectedIsSaidAtOnce) {
  ProxyCommands commands;
  EXPECT_TRUE(std::holds_alternative<NoProxyConnected>(
      commands.carry_out(purge_of("b"), in(10s))));
}

TEST(ProxyCommandsTest, AConnectedProxyTakesTheCommandAndItsResultIsTheAnswer) {
  ProxyCommands commands;
  commands.attach("a");
  auto outcome = std::async(std::launch::async,
                            [&] { return commands.carry_out(purge_of("b"), in(10s)); });
  const auto command = commands.next("a", in(10s));
  ASSERT_TRUE(command);
  EXPECT_EQ(command->purge().bucket(), "b");
  EXPECT_FALSE(commands.next("a", in(50ms)));  // handed out once
  commands.report(result_of("a", *command, 3));
  const auto answered = outcome.get();
  ASSERT_TRUE(std::holds_alternative<v1::CommandResult>(answered));
  EXPECT_EQ(std::get<v1::CommandResult>(answered).purged(), 3u);
}

TEST(ProxyCommandsTest, AProxyThatHangsUpBeforeAnsweringHandsItsCommandToAnother) {
  ProxyCommands commands;
  commands.attach("a");
  commands.attach("b");
  auto outcome = std::async(std::launch::async,
                            [&] { return commands.carry_out(purge_of("b"), in(10s)); });
  // Whichever proxy it went to first hangs up without answering.
  std::optional<v1::ProxyCommand> first;
  std::string first_proxy;
  while (!first) {
    for (const std::string proxy : {"a", "b"}) {
      if ((first = commands.next(proxy, in(10ms)))) {
        first_proxy = proxy;
        break;
      }
    }
  }
  const std::string other = first_proxy == "a" ? "b" : "a";
  commands.detach(first_proxy);
  const auto again = commands.next(other, in(10s));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->command_id(), first->command_id());
  commands.report(result_of(first_proxy, *first, 1));  // late, from the one gone: dropped
  commands.report(result_of(other, *again, 2));
  const auto answered = outcome.get();
  ASSERT_TRUE(std::holds_alternative<v1::CommandResult>(answered));
  EXPECT_EQ(std::get<v1::CommandResult>(answered).proxy_id(), other);
  EXPECT_EQ(std::get<v1::CommandResult>(answered).purged(), 2u);
}

TEST(ProxyCommandsTest, TheOnlyProxyHangingUpLeavesNoOneToCarryItOut) {
  ProxyCommands commands;
  commands.attach("a");
  auto outcome = std::async(std::launch::async,
                            [&] { return commands.carry_out(purge_of("b"), in(10s)); });
  ASSERT_TRUE(commands.next("a", in(10s)));
  commands.detach("a");
  EXPECT_TRUE(std::holds_alternative<NoProxyConnected>(outcome.get()));
}

TEST(ProxyCommandsTest, NoAnswerByTheDeadlineIsATimeOut) {
  ProxyCommands commands;
  commands.attach("a");
  EXPECT_TRUE(std::holds_alternative<CommandTimedOut>(
      commands.carry_out(purge_of("b"), in(100ms))));
  EXPECT_FALSE(commands.next("a", in(10ms)));  // a command no one waits for is gone
}

TEST(ProxyCommandsTest, AProxyStillConnectedByASecondStreamKeepsItsCommand) {
  ProxyCommands commands;
  commands.attach("a");
  commands.attach("a");  // reconnected before the old stream ended
  auto outcome = std::async(std::launch::async,
                            [&] { return commands.carry_out(purge_of("b"), in(10s)); });
  const auto command = commands.next("a", in(10s));
  ASSERT_TRUE(command);
  commands.detach("a");
  commands.report(result_of("a", *command, 5));
  const auto answered = outcome.get();
  ASSERT_TRUE(std::holds_alternative<v1::CommandResult>(answered));
  EXPECT_EQ(std::get<v1::CommandResult>(answered).purged(), 5u);
}

}  // namespace
}  // namespace s3hc::control
