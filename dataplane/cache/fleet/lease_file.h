// A time-limited lease kept in one file of the shared cache directory, so that one proxy of a
// fleet (hosts sharing the directory over NFSv3/v4) at a time does a job such as maintenance.
// Built only on what NFS guarantees: rename() within a directory is atomic, link() and
// open(O_CREAT|O_EXCL) fail when the name exists, and close-to-open consistency (a file opened
// after another host closed it shows what that host wrote). No flock/fcntl locks, no inotify.
// Host clocks are assumed to agree to within takeover_grace.
//
// The lease file is this text and nothing else:
//   s3hc-lease 1\n
//   owner <owner>\n        who holds it: unique per process (e.g. host:pid), no newline
//   token <n>\n            the fencing token, decimal, >= 1
//   expires_ms <ms>\n      wall-clock ms since the epoch; 0 when released
// It is parsed strictly (exactly this spelling, no leading zeros). Anything else is taken for
// a lease being written (held) until the file's mtime is older than duration + takeover_grace,
// and for an expired one after that.
//
// Protocol:
// - A lease file never changes once it has its name. Each change writes a complete new file
//   (synced) to a temp name beside it, "<lease>.tmp.<random>", and renames it over the old one;
//   the first one is link()ed into place. Readers see one whole version or none.
// - No file (first use, or the cache directory was deleted): create the parent directories,
//   write the lease to a temp file and link() it to the lease name. EEXIST: another contender
//   was first, not acquired.
// - Every other change (renew, release, takeover) replaces the version a process read by the
//   next one, and only the process holding that version's claim may make it. The claim is the
//   file "<lease>.tmp.claim-<key>-<generation>", key = 16 hex digits of the XXH3-64 of the
//   version's bytes (seeded with its mtime in ns when they do not parse), generation from 0,
//   created like a first lease (temp + link(), so only one process gets it) and holding
//   "s3hc-lease-claim 1\nowner <owner>\nclaimed_ms <ms>\n". After claiming, the claimant reads
//   the lease again: only if it still is the version claimed does it rename the new version
//   over it. Then it removes its claim and the abandoned ones below it. As only the claimant of
//   the current version can change the lease, nothing changes between that check and the
//   rename: a compare-and-swap. A holder's renewal and a contender's takeover cannot overwrite
//   each other, whatever their clocks say.
// - A claim older than duration + takeover_grace (by its claimed_ms) was left by a process that
//   died; a contender then claims the next generation. A dead claim is stepped over, never
//   moved, and removed only after the change, so two processes stepping over the same one
//   compete for the next generation like any others.
// - acquire(now), by what the lease file says:
//     our owner and token (of this object's      renew: same token, expires_ms =
//     last acquire), now < expires_ms            max(expires_ms, now + duration)
//     our owner and token, expired               take over at once (a new token: what was
//                                                done under the old one may overlap the lapse)
//     released (expires_ms 0)                    take over at once
//     any lease with now > expires_ms + grace    take over
//     unparseable, mtime older than
//     duration + grace                           take over
//     anything else                              not acquired
//   Taking over writes our owner, now + duration, and the token
//   max(old token + 1, now_ms, our last token + 1), old token 0 when the file did not parse.
// - release(now): when the file says our owner and token, replace it with expires_ms 0 and the
//   same token (so the next holder's is larger). Anyone may take it over at once.
// - Fencing tokens increase strictly from holder to holder of one lease path, through releases
//   and takeovers. They are seeded from the wall clock: a new lease file starts at
//   max(1, now_ms), and takeovers keep them at least at now_ms. So a lease file created again
//   after its directory was deleted still gets a larger token than any before it, unless
//   holders changed more than once per ms just before (or clocks went back).
//
// Limits: a process that stalls (an NFS hang, SIGSTOP) for longer than what is left of its lease
// or claim may still act after others took over. held() right before a change narrows that
// window; the fencing token lets whatever is changed refuse an older holder.
// ".tmp." in every temp and claim name lets a sweeper remove those a dead process left behind;
// it must spare ones younger than duration + takeover_grace.
//
// Thread-safety: acquire() and release() of one object from one thread at a time; held(),
// token() and read() from any thread. Any number of objects, in any processes on any hosts,
// may contend for one path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace s3hc::cache {

// What a lease file says.
struct LeaseState {
  std::string owner;
  std::uint64_t token = 0;
  std::int64_t expires_at_ms = 0;  // 0: released

  bool operator==(const LeaseState&) const = default;
};

struct LeaseOptions {
  // How long one acquire (or renewal) holds the lease. Default: 10 s.
  std::chrono::milliseconds duration{10000};
  // Another owner's lease is taken over only this long after it expired, to cover clock skew
  // between hosts. Default: 2 s.
  std::chrono::milliseconds takeover_grace{2000};
};

class LeaseFile {
 public:
  // Touches no file. Throws std::invalid_argument for an empty owner or one with a newline, a
  // duration that is not positive or a negative grace.
  LeaseFile(std::string path, std::string owner, LeaseOptions options = {});
  LeaseFile(const LeaseFile&) = delete;
  LeaseFile& operator=(const LeaseFile&) = delete;

  // Becomes the holder, or stays it and renews, when the lease is free, released, ours, or
  // expired for longer than the grace. Returns the fencing token held; nullopt when another
  // owner's lease is live, when another contender got there first, or when ours was taken
  // over. now_ms: wall-clock ms since the epoch (a parameter so tests can simulate time).
  // Throws std::system_error when the directory cannot be read or written.
  std::optional<std::uint64_t> acquire(std::int64_t now_ms);

  // True while the lease file, read now, says this object holds the lease: our owner and
  // token, not expired at now_ms. Call it right before any change that must not happen after
  // the lease is lost. False too when the file cannot be read.
  bool held(std::int64_t now_ms) const;

  // Gives the lease up so that others may take it at once; does nothing when we do not hold
  // it. now_ms dates the short claim it takes. Throws std::system_error like acquire().
  void release(std::int64_t now_ms);

  // What the lease file at `path` says now; nullopt when there is none or it does not parse.
  static std::optional<LeaseState> read(const std::string& path);

  // The token of the last successful acquire, 0 before the first.
  std::uint64_t token() const { return token_.load(); }
  const std::string& path() const { return path_; }

 private:
  struct Observed;  // one version of the lease file as read (lease_file.cpp)

  std::optional<std::uint64_t> create(std::int64_t now_ms);
  std::optional<std::uint64_t> renew(const Observed& seen, std::int64_t now_ms);
  std::optional<std::uint64_t> take_over(const Observed& seen, std::int64_t now_ms);
  bool may_take_over(const Observed& seen, std::int64_t now_ms) const;
  bool is_ours(const LeaseState& state) const;
  std::uint64_t next_token(std::uint64_t old_token, std::int64_t now_ms) const;

  // Replaces `seen` by `next` under the claim of `seen`; false when the claim is someone
  // else's or the lease is no longer `seen`.
  bool replace(const Observed& seen, const LeaseState& next, std::int64_t now_ms) const;
  // The generation of the claim on `key` this process now holds; nullopt when another
  // process's live claim is there, or a claim vanished (so the lease has moved on).
  std::optional<int> claim(const std::string& key, std::int64_t now_ms) const;
  std::string claim_path(const std::string& key, int generation) const;
  // A claim or an unparseable lease this much older than now is abandoned.
  std::int64_t abandoned_after_ms() const;

  std::string path_;
  std::string owner_;
  LeaseOptions options_;
  std::atomic<std::uint64_t> token_{0};
};

}  // namespace s3hc::cache
