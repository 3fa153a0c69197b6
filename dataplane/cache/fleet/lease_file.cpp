#include "cache/fleet/lease_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include "cache/cache_layout.h"
#include "cache/synced_file.h"
#include "util/errno_error.h"

namespace s3hc::cache {
namespace {

constexpr std::string_view kLeaseMagic = "s3hc-lease 1\n";
constexpr std::string_view kClaimMagic = "s3hc-lease-claim 1\n";
// Dead claims on one version a contender steps over before it gives up for this round.
constexpr int kMaxClaimGenerations = 16;
// A file replaced by another NFS client while we open or read it fails with ESTALE; the new
// one is there to read.
constexpr int kStaleHandleRetries = 3;

// a + b held at the int64 limits: expiry times come from a shared file.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

// A file's bytes and mtime, both from one open file.
struct FileSnapshot {
  std::string bytes;
  std::int64_t mtime_ns = 0;
};

bool read_open_file(int fd, FileSnapshot& snapshot) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) return false;
  snapshot.mtime_ns = std::int64_t{status.st_mtim.tv_sec} * 1'000'000'000 + status.st_mtim.tv_nsec;
  char buffer[4096];
  for (;;) {
    const auto got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    if (got == 0) return true;
    snapshot.bytes.append(buffer, static_cast<std::size_t>(got));
  }
}

// nullopt when there is no such file; throws std::system_error when it cannot be read.
std::optional<FileSnapshot> read_file(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = attempt < kStaleHandleRetries;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    if (fd < 0 && errno == ESTALE && may_retry) continue;
    if (fd < 0) util::throw_errno("open " + path);
    FileSnapshot snapshot;
    const bool read = read_open_file(fd, snapshot);
    const int saved = errno;
    ::close(fd);
    if (read) return snapshot;
    if (saved == ESTALE && may_retry) continue;
    errno = saved;
    util::throw_errno("read " + path);
  }
}

// The value of the line "<name> <value>\n" at the front of `text`, which it then drops.
std::optional<std::string_view> take_field(std::string_view& text, std::string_view name) {
  if (!text.starts_with(name) || text.size() <= name.size() || text[name.size()] != ' ') {
    return std::nullopt;
  }
  const auto end = text.find('\n', name.size() + 1);
  if (end == std::string_view::npos) return std::nullopt;
  const auto value = text.substr(name.size() + 1, end - name.size() - 1);
  text.remove_prefix(end + 1);
  return value;
}

template <typename Int>
std::optional<Int> parse_int(std::optional<std::string_view> digits) {
  if (!digits) return std::nullopt;
  Int value{};
  const auto* end = digits->data() + digits->size();
  const auto [stop, error] = std::from_chars(digits->data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

std::string serialize(const LeaseState& state) {
  std::string text(kLeaseMagic);
  text.append("owner ").append(state.owner);
  text.append("\ntoken ").append(std::to_string(state.token));
  text.append("\nexpires_ms ").append(std::to_string(state.expires_at_ms));
  text += '\n';
  return text;
}

std::optional<LeaseState> parse_lease(std::string_view text) {
  const auto whole = text;
  if (!text.starts_with(kLeaseMagic)) return std::nullopt;
  text.remove_prefix(kLeaseMagic.size());
  const auto owner = take_field(text, "owner");
  const auto token = parse_int<std::uint64_t>(take_field(text, "token"));
  const auto expires = parse_int<std::int64_t>(take_field(text, "expires_ms"));
  if (!owner || owner->empty() || !token || *token == 0 || !expires || *expires < 0 ||
      !text.empty()) {
    return std::nullopt;
  }
  LeaseState state{std::string(*owner), *token, *expires};
  // Only the one spelling serialize() writes: "007" or "+7" is not a lease.
  if (serialize(state) != whole) return std::nullopt;
  return state;
}

std::string claim_text(const std::string& owner, std::int64_t now_ms) {
  std::string text(kClaimMagic);
  text.append("owner ").append(owner);
  text.append("\nclaimed_ms ").append(std::to_string(now_ms));
  text += '\n';
  return text;
}

// When the claim was made; nullopt when it does not parse.
std::optional<std::int64_t> claimed_ms(std::string_view text) {
  if (!text.starts_with(kClaimMagic)) return std::nullopt;
  text.remove_prefix(kClaimMagic.size());
  if (!take_field(text, "owner")) return std::nullopt;
  const auto claimed = parse_int<std::int64_t>(take_field(text, "claimed_ms"));
  if (!text.empty()) return std::nullopt;
  return claimed;
}

// Writes `path` atomically (synced_file.h); false when its directory has vanished (the cache
// directory may be deleted under running proxies).
bool write_unless_directory_vanished(const std::string& path, std::string_view bytes) {
  try {
    write_file_atomically(path, bytes);
    return true;
  } catch (const std::system_error& error) {
    if (error.code() == std::errc::no_such_file_or_directory) return false;
    throw;
  }
}

// Creates `path` holding `bytes`, whole from the moment it has its name; false when the name
// exists or the directory has vanished.
bool create_exclusively(const std::string& path, std::string_view bytes) {
  const auto temp = CacheLayout::temp_path_for(path);
  if (!write_unless_directory_vanished(temp, bytes)) return false;
  bool created = ::link(temp.c_str(), path.c_str()) == 0;
  const int saved = errno;
  // An NFSv3 server may answer a retransmitted LINK with EEXIST although the first one made
  // the link; then the temp file has two names (the check open(2) advises).
  struct stat status {};
  if (!created && saved == EEXIST && ::stat(temp.c_str(), &status) == 0 && status.st_nlink == 2) {
    created = true;
  }
  ::unlink(temp.c_str());
  if (created || saved == EEXIST || saved == ENOENT) return created;
  errno = saved;
  util::throw_errno("link " + path);
}

void create_parent_directories(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  // A contender may have created them at the same time.
  if (error && !std::filesystem::is_directory(parent)) {
    throw std::filesystem::filesystem_error("create directories", parent, error);
  }
}

}  // namespace

struct LeaseFile::Observed {
  FileSnapshot file;
  std::optional<LeaseState> state;  // nullopt: unparseable

  // nullopt when there is no lease file; throws std::system_error when it cannot be read.
  static std::optional<Observed> read(const std::string& path) {
    auto file = read_file(path);
    if (!file) return std::nullopt;
    auto state = parse_lease(file->bytes);
    return Observed{std::move(*file), std::move(state)};
  }

  // Names this version in claim file names, the same for every process that read it. Bytes
  // that parse say all there is to a version; others only differ in mtime, maybe.
  std::string key() const {
    const auto seed = state ? 0 : static_cast<XXH64_hash_t>(file.mtime_ns);
    const auto hash = XXH3_64bits_withSeed(file.bytes.data(), file.bytes.size(), seed);
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
    return std::string(hex, 16);
  }

  bool same_version(const Observed& other) const {
    return file.bytes == other.file.bytes && (state || file.mtime_ns == other.file.mtime_ns);
  }
};

LeaseFile::LeaseFile(std::string path, std::string owner, LeaseOptions options)
    : path_(std::move(path)), owner_(std::move(owner)), options_(options) {
  if (owner_.empty() || owner_.find('\n') != std::string::npos) {
    throw std::invalid_argument("lease owner must be a non-empty line: " + owner_);
  }
  if (options_.duration.count() <= 0 || options_.takeover_grace.count() < 0) {
    throw std::invalid_argument("lease duration must be positive and grace not negative");
  }
}

std::optional<std::uint64_t> LeaseFile::acquire(std::int64_t now_ms) {
  const auto seen = Observed::read(path_);
  if (!seen) return create(now_ms);
  if (seen->state && is_ours(*seen->state) && now_ms < seen->state->expires_at_ms) {
    return renew(*seen, now_ms);
  }
  if (!may_take_over(*seen, now_ms)) return std::nullopt;
  return take_over(*seen, now_ms);
}

bool LeaseFile::held(std::int64_t now_ms) const {
  const auto state = read(path_);
  return state && is_ours(*state) && now_ms < state->expires_at_ms;
}

void LeaseFile::release(std::int64_t now_ms) {
  const auto seen = Observed::read(path_);
  if (!seen || !seen->state || !is_ours(*seen->state) || seen->state->expires_at_ms == 0) return;
  replace(*seen, LeaseState{owner_, seen->state->token, 0}, now_ms);
}

std::optional<LeaseState> LeaseFile::read(const std::string& path) {
  try {
    const auto seen = Observed::read(path);
    if (!seen) return std::nullopt;
    return seen->state;
  } catch (const std::system_error&) {
    return std::nullopt;
  }
}

std::optional<std::uint64_t> LeaseFile::create(std::int64_t now_ms) {
  create_parent_directories(path_);
  const LeaseState next{owner_, next_token(0, now_ms),
                        saturating_add(now_ms, options_.duration.count())};
  if (!create_exclusively(path_, serialize(next))) return std::nullopt;
  token_ = next.token;
  return next.token;
}

std::optional<std::uint64_t> LeaseFile::renew(const Observed& seen, std::int64_t now_ms) {
  const auto extended =
      std::max(seen.state->expires_at_ms, saturating_add(now_ms, options_.duration.count()));
  if (!replace(seen, LeaseState{owner_, seen.state->token, extended}, now_ms)) {
    return std::nullopt;
  }
  return seen.state->token;
}

std::optional<std::uint64_t> LeaseFile::take_over(const Observed& seen, std::int64_t now_ms) {
  const LeaseState next{owner_, next_token(seen.state ? seen.state->token : 0, now_ms),
                        saturating_add(now_ms, options_.duration.count())};
  if (!replace(seen, next, now_ms)) return std::nullopt;
  token_ = next.token;
  return next.token;
}

bool LeaseFile::may_take_over(const Observed& seen, std::int64_t now_ms) const {
  if (!seen.state) {
    return now_ms > saturating_add(seen.file.mtime_ns / 1'000'000, abandoned_after_ms());
  }
  const auto expires = seen.state->expires_at_ms;
  // Our own lapsed lease: nobody else may have taken it yet, so no grace to wait for.
  if (is_ours(*seen.state) && now_ms >= expires) return true;
  return expires == 0 || now_ms > saturating_add(expires, options_.takeover_grace.count());
}

bool LeaseFile::is_ours(const LeaseState& state) const {
  const auto token = token_.load();
  return token != 0 && state.token == token && state.owner == owner_;
}

std::uint64_t LeaseFile::next_token(std::uint64_t old_token, std::int64_t now_ms) const {
  const auto clock = static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms, 1));
  return std::max({old_token + 1, clock, token_.load() + 1});
}

bool LeaseFile::replace(const Observed& seen, const LeaseState& next, std::int64_t now_ms) const {
  const auto key = seen.key();
  const auto generation = claim(key, now_ms);
  if (!generation) return false;
  // Ours goes whatever happens, and the dead claims below it with it.
  const auto drop_claims = [&] {
    for (int g = 0; g <= *generation; ++g) ::unlink(claim_path(key, g).c_str());
  };
  try {
    const auto current = Observed::read(path_);
    const bool replaced = current && current->same_version(seen) &&
                          write_unless_directory_vanished(path_, serialize(next));
    drop_claims();
    return replaced;
  } catch (...) {
    drop_claims();
    throw;
  }
}

std::optional<int> LeaseFile::claim(const std::string& key, std::int64_t now_ms) const {
  const auto text = claim_text(owner_, now_ms);
  for (int generation = 0; generation < kMaxClaimGenerations; ++generation) {
    const auto path = claim_path(key, generation);
    if (create_exclusively(path, text)) return generation;
    const auto other = read_file(path);
    // Gone: its claimant finished, so the lease is no longer the version we read. Claims are
    // whole from the start, so one that does not parse is nobody's.
    if (!other) return std::nullopt;
    const auto claimed = claimed_ms(other->bytes);
    if (claimed && now_ms <= saturating_add(*claimed, abandoned_after_ms())) return std::nullopt;
  }
  return std::nullopt;
}

std::string LeaseFile::claim_path(const std::string& key, int generation) const {
  std::string path = path_;
  path.append(kTempFileMarker).append("claim-").append(key);
  path.append("-").append(std::to_string(generation));
  return path;
}

std::int64_t LeaseFile::abandoned_after_ms() const {
  return saturating_add(options_.duration.count(), options_.takeover_grace.count());
}

}  // namespace s3hc::cache
