#include "controlplane/proxy_commands.h"

namespace s3hc::control {

void ProxyCommands::attach(const std::string& proxy_id) {
  {
    std::lock_guard lock(mutex_);
    ++streams_[proxy_id];
  }
  changed_.notify_all();
}

void ProxyCommands::detach(const std::string& proxy_id) {
  {
    std::lock_guard lock(mutex_);
    if (--streams_[proxy_id] > 0) return;
    streams_.erase(proxy_id);
    // What it held and did not answer goes back to be handed to another proxy.
    for (auto& [id, pending] : pending_) {
      if (pending.proxy_id == proxy_id && !pending.result) {
        pending.proxy_id.clear();
        pending.taken = false;
      }
    }
  }
  changed_.notify_all();
}

std::optional<v1::ProxyCommand> ProxyCommands::next(const std::string& proxy_id,
                                                    Deadline deadline) {
  std::unique_lock lock(mutex_);
  std::optional<v1::ProxyCommand> found;
  changed_.wait_until(lock, deadline, [&] {
    for (auto& [id, pending] : pending_) {
      if (pending.proxy_id == proxy_id && !pending.taken) {
        pending.taken = true;
        found = commands_.at(id);
        return true;
      }
    }
    return false;
  });
  return found;
}

void ProxyCommands::report(const v1::CommandResult& result) {
  {
    std::lock_guard lock(mutex_);
    const auto pending = pending_.find(result.command_id());
    if (pending == pending_.end() || pending->second.result ||
        pending->second.proxy_id != result.proxy_id()) {
      return;
    }
    pending->second.result = result;
  }
  changed_.notify_all();
}

std::string ProxyCommands::pick_proxy(const std::set<std::string>& tried) const {
  std::string picked;
  int fewest = 0;
  for (const auto& [proxy_id, streams] : streams_) {
    if (tried.contains(proxy_id)) continue;
    int in_hand = 0;
    for (const auto& [id, pending] : pending_) in_hand += pending.proxy_id == proxy_id;
    if (picked.empty() || in_hand < fewest) {
      picked = proxy_id;
      fewest = in_hand;
    }
  }
  return picked;
}

CommandOutcome ProxyCommands::carry_out(v1::ProxyCommand command, Deadline deadline) {
  std::unique_lock lock(mutex_);
  const auto id = ++last_id_;
  command.set_command_id(id);
  commands_[id] = std::move(command);
  auto& pending = pending_[id];
  std::set<std::string> tried;
  CommandOutcome outcome = CommandTimedOut{};
  while (true) {
    if (pending.result) {
      outcome = *pending.result;
      break;
    }
    if (pending.proxy_id.empty()) {
      pending.proxy_id = pick_proxy(tried);
      if (pending.proxy_id.empty()) {
        outcome = NoProxyConnected{};
        break;
      }
      tried.insert(pending.proxy_id);
      changed_.notify_all();
    }
    if (!changed_.wait_until(lock, deadline,
                             [&] { return pending.result || pending.proxy_id.empty(); })) {
      break;
    }
  }
  pending_.erase(id);
  commands_.erase(id);
  return outcome;
}

}  // namespace s3hc::control
