#include "net/dns_channel.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <mutex>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "net/resolve_error.h"

namespace s3hc::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Answers hold a handful of addresses (S3 gives up to 8); more are ignored.
constexpr int kMaxAddresses = 64;
// Each query is sent twice at most, the second time with twice the first's wait (c-ares
// doubles it per round): three shares of the timeout in all.
constexpr int kTries = 2;

void initialise_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const int status = ares_library_init(ARES_LIB_INIT_ALL); status != ARES_SUCCESS) {
      throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
    }
  });
}

std::string servers_csv(const std::vector<http::HostPort>& servers) {
  std::string csv;
  for (const auto& server : servers) {
    if (!csv.empty()) csv += ',';
    csv += server.to_string();
  }
  return csv;
}

}  // namespace

// A socket c-ares opened, waited on by the event loop. c-ares owns the descriptor: it is
// released (not closed) when c-ares says it is done with it.
struct DnsChannel::Socket {
  explicit Socket(asio::posix::stream_descriptor descriptor)
      : descriptor(std::move(descriptor)) {}

  asio::posix::stream_descriptor descriptor;
  bool want_read = false, want_write = false;  // what c-ares asked for last
  bool reading = false, writing = false;       // waits pending
  bool closed = false;  // c-ares closed it; pending waits end without touching the channel
};

// The two queries of a lookup (A and AAAA) and what they found so far.
struct DnsChannel::Lookup {
  struct Query {
    Lookup* lookup;
    bool v6;
  };

  Lookup(std::string name, Callback done) : name(std::move(name)), done(std::move(done)) {}

  void take(const Query& query, int status, unsigned char* reply, int length) {
    if (status == ARES_SUCCESS) status = parse(query.v6, reply, length);
    if (status == ARES_SUCCESS || status == ARES_ENODATA) {
      // The name exists; this family may have no address.
    } else if (status == ARES_ENOTFOUND) {
      nxdomain = true;
    } else if (status == ARES_ETIMEOUT) {
      timed_out = true;
    } else if (status == ARES_EDESTRUCTION) {
      destroyed = true;
    } else {
      failed = true;
    }
    if (status != ARES_SUCCESS && status != ARES_EDESTRUCTION) {
      spdlog::debug("dns: {} {}: {}", name, query.v6 ? "AAAA" : "A", ares_strerror(status));
    }
  }

  int parse(bool v6, unsigned char* reply, int length) {
    int count = kMaxAddresses;
    if (v6) {
      ares_addr6ttl records[kMaxAddresses];
      const int status = ares_parse_aaaa_reply(reply, length, nullptr, records, &count);
      for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
        asio::ip::address_v6::bytes_type bytes;
        std::copy_n(records[i].ip6addr._S6_un._S6_u8, bytes.size(), bytes.begin());
        add(asio::ip::address_v6(bytes), records[i].ttl);
      }
      return status;
    }
    ares_addrttl records[kMaxAddresses];
    const int status = ares_parse_a_reply(reply, length, nullptr, records, &count);
    for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
      add(asio::ip::address_v4(ntohl(records[i].ipaddr.s_addr)), records[i].ttl);
    }
    return status;
  }

  void add(const asio::ip::address& address, int ttl) {
    const std::chrono::seconds seconds(std::max(ttl, 0));
    answer.ttl = answer.addresses.empty() ? seconds : std::min(answer.ttl, seconds);
    answer.addresses.push_back(address);
  }

  // Without an address, the more telling failure: the name does not exist (or has neither
  // family), then the servers were silent, then anything else.
  void finish() {
    if (answer.addresses.empty()) {
      answer.ec = nxdomain || !(timed_out || failed) ? ResolveError::kNotFound
                  : timed_out                        ? ResolveError::kTimedOut
                                                     : ResolveError::kFailed;
    }
    done(std::move(answer));
  }

  std::string name;
  Callback done;
  Query queries[2]{{this, false}, {this, true}};
  int replies_due = 2;
  Answer answer;
  bool nxdomain = false, timed_out = false, failed = false, destroyed = false;
};

DnsChannel::DnsChannel(asio::any_io_executor executor, const std::vector<http::HostPort>& servers,
                       std::chrono::milliseconds timeout)
    : executor_(executor), timer_(executor), alive_(std::make_shared<DnsChannel*>(this)) {
  initialise_library();
  ares_options options{};
  options.sock_state_cb = &DnsChannel::on_socket_state;
  options.sock_state_cb_data = this;
  options.timeout = std::max(1, static_cast<int>(timeout.count() / (1 + 2 * (kTries - 1))));
  options.tries = kTries;
  // DNS only, never the hosts file (that is where clients may be pointed at the proxy).
  // ares_query reads no hosts file anyway; this keeps any other call from doing it.
  char dns_only[] = "b";
  options.lookups = dns_only;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  if (const int status = ares_init_options(&channel_, &options, mask); status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  }
  if (!servers.empty()) {
    const auto csv = servers_csv(servers);
    if (const int status = ares_set_servers_ports_csv(channel_, csv.c_str());
        status != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("c-ares: DNS servers " + csv + ": " + ares_strerror(status));
    }
  }
}

DnsChannel::~DnsChannel() {
  *alive_ = nullptr;
  // Ends pending lookups (ARES_EDESTRUCTION: their callbacks are not called) and closes the
  // sockets, each announced through on_socket_state.
  ares_destroy(channel_);
  for (auto& [fd, socket] : sockets_) {
    socket->closed = true;
    socket->descriptor.release();
  }
}

void DnsChannel::lookup(const std::string& name, Callback done) {
  auto* lookup = new Lookup(name, std::move(done));
  ares_query(channel_, name.c_str(), ns_c_in, ns_t_a, &DnsChannel::on_reply, &lookup->queries[0]);
  ares_query(channel_, name.c_str(), ns_c_in, ns_t_aaaa, &DnsChannel::on_reply,
             &lookup->queries[1]);
  arm_timer();
}

void DnsChannel::on_reply(void* arg, int status, int /*timeouts*/, unsigned char* reply,
                          int length) {
  const auto& query = *static_cast<Lookup::Query*>(arg);
  std::unique_ptr<Lookup> lookup(query.lookup);
  lookup->take(query, status, reply, length);
  if (--lookup->replies_due > 0) {
    lookup.release();  // the other query still refers to it
    return;
  }
  if (!lookup->destroyed) lookup->finish();
}

void DnsChannel::on_socket_state(void* self, int fd, int readable, int writable) {
  auto& sockets = static_cast<DnsChannel*>(self)->sockets_;
  if (!readable && !writable) {  // c-ares closes it next
    if (const auto found = sockets.find(fd); found != sockets.end()) {
      found->second->closed = true;
      found->second->descriptor.release();  // ends the pending waits
      sockets.erase(found);
    }
    return;
  }
  auto& socket = sockets[fd];
  if (!socket) {
    socket = std::make_shared<Socket>(
        asio::posix::stream_descriptor(static_cast<DnsChannel*>(self)->executor_, fd));
  }
  socket->want_read = readable;
  socket->want_write = writable;
  static_cast<DnsChannel*>(self)->watch(socket);
}

void DnsChannel::watch(const std::shared_ptr<Socket>& socket) {
  if (socket->want_read && !socket->reading) wait(socket, true);
  if (socket->want_write && !socket->writing) wait(socket, false);
}

void DnsChannel::wait(const std::shared_ptr<Socket>& socket, bool for_read) {
  (for_read ? socket->reading : socket->writing) = true;
  const auto type = for_read ? asio::posix::descriptor_base::wait_read
                             : asio::posix::descriptor_base::wait_write;
  socket->descriptor.async_wait(type, [this, socket, for_read](const error_code& ec) {
    (for_read ? socket->reading : socket->writing) = false;
    if (socket->closed || ec) return;
    const int fd = socket->descriptor.native_handle();
    process(for_read ? fd : ARES_SOCKET_BAD, for_read ? ARES_SOCKET_BAD : fd);
    if (!socket->closed) watch(socket);
  });
}

void DnsChannel::process(int read_fd, int write_fd) {
  ares_process_fd(channel_, read_fd, write_fd);  // also times out what is due
  arm_timer();
}

void DnsChannel::arm_timer() {
  timeval wait{};
  if (!ares_timeout(channel_, nullptr, &wait)) {
    timer_.cancel();  // nothing pending
    return;
  }
  timer_.expires_after(std::chrono::seconds(wait.tv_sec) +
                       std::chrono::microseconds(wait.tv_usec));
  timer_.async_wait([alive = alive_](const error_code& ec) {
    // Cancelled (re-armed, or the channel destroyed): nothing to do.
    if (!ec && *alive) (*alive)->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  });
}

}  // namespace s3hc::net
