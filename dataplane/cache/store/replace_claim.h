// The exclusive right to replace one version of a file on the shared directory: the
// compare-and-swap that keeps two proxies from overwriting each other's record updates (a
// proxy loads a record, decides, and replaces it only if it is still the version it loaded).
//
// Protocol (the maintenance lease's claims, lease_file.h, for one file version at a time):
// a claim is the empty file "<path>.tmp.claim-<key>-<n>", key = 16 hex digits of the XXH3-64
// of the version's stamp (file_stamp.h: a stamp names one version, never reused), created with
// O_CREAT|O_EXCL so only one process gets it. The holder stats the file again and renames its
// replacement over it only if the stamp is still the one claimed; as every replacer of that
// version needs the claim, nothing changes between that check and the rename. A claim whose
// file is older than `dead_after` was left by a process that died mid-change: a contender
// claims the next n instead (a dead claim is stepped over, never moved, so two processes
// stepping over one compete for the next like any others). Claims are removed when the holder
// is done, with the dead ones below them; a crash leaves one for the sweeper (".tmp.").
//
// Limit: a holder that stalls (an NFS hang, SIGSTOP) for longer than `dead_after` between its
// check and its rename may still overwrite a change made after its claim was stepped over.
//
// Thread-safety: a ReplaceClaim is used by one thread; take() from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "cache/file_stamp.h"

namespace s3hc::cache {

class ReplaceClaim {
 public:
  enum class Outcome {
    kClaimed,  // the caller may replace the version (after checking it is still current)
    kBusy,     // another process holds the claim now: load again and retry
  };
  // Claims the right to replace version `stamp` of `path`.
  static std::pair<Outcome, std::unique_ptr<ReplaceClaim>> take(
      const std::string& path, const FileStamp& stamp, std::chrono::milliseconds dead_after);

  ~ReplaceClaim();  // removes the claim and the dead ones stepped over
  ReplaceClaim(const ReplaceClaim&) = delete;
  ReplaceClaim& operator=(const ReplaceClaim&) = delete;

  // The name of claim `n` of `stamp` of `path` (for tests and the sweeper's eyes).
  static std::string claim_path(const std::string& path, const FileStamp& stamp, unsigned n);

 private:
  ReplaceClaim(std::string path, FileStamp stamp, unsigned n)
      : path_(std::move(path)), stamp_(stamp), n_(n) {}

  std::string path_;
  FileStamp stamp_;
  unsigned n_;
};

}  // namespace s3hc::cache
