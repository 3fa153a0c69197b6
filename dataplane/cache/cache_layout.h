// Where an object's files live in the shared cache directory:
//   <root>/objects/<h0h1>/<h2h3>/<hash>/record      its CacheRecord
//   <root>/objects/<h0h1>/<h2h3>/<hash>/<range>.rng its range files
//   <root>/uploads/<h0h1>/<h2h3>/<hash'>/            a multipart upload in progress
// where hash is the XXH3-128 of bucket and key, hash' that of bucket, key and upload id.
// Names never come from the key itself (no traversal, no length limits) and two directory
// levels keep directories small. The stored bucket and key are compared on every read, so a
// hash collision is a miss, never wrong bytes.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::cache {

inline constexpr std::string_view kRecordFileName = "record";
// In the name of every temp file (see temp_path_for).
inline constexpr std::string_view kTempFileMarker = ".tmp.";

class CacheLayout {
 public:
  explicit CacheLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // A directory's id: its path below the root ("objects/ab/cd/<hash>", "uploads/..."), the
  // name the fleet engine's journals and index know it by.
  static std::string object_id(std::string_view bucket, std::string_view key);
  static std::string upload_id(std::string_view bucket, std::string_view key,
                               std::string_view upload);
  // 64 bits of the hash naming the object's directory, for tables indexed by object
  // (record_changes.h); object_hash_of_dir reads them back from the directory's path (nullopt
  // when it does not end in an object directory's name).
  static std::uint64_t object_hash(std::string_view bucket, std::string_view key);
  static std::optional<std::uint64_t> object_hash_of_dir(std::string_view dir);
  std::string path_of(std::string_view id) const {
    std::string path = root_;
    path += '/';
    path.append(id);
    return path;
  }
  std::string object_dir(std::string_view bucket, std::string_view key) const {
    return path_of(object_id(bucket, key));
  }
  // The object's record file, below the root ("objects/ab/cd/<hash>/record") and in full.
  static std::string record_id(std::string_view bucket, std::string_view key) {
    auto id = object_id(bucket, key);
    id += '/';
    id += kRecordFileName;
    return id;
  }
  std::string record_path(std::string_view bucket, std::string_view key) const {
    return path_of(record_id(bucket, key));
  }

  std::string upload_dir(std::string_view bucket, std::string_view key,
                         std::string_view upload) const {
    return path_of(upload_id(bucket, key, upload));
  }

  // A unique temp name beside `final_path`, to write a file and rename it into place; the
  // ".tmp." marker lets a sweeper find those a dead writer left behind.
  static std::string temp_path_for(const std::string& final_path);

 private:
  std::string root_;
};

}  // namespace s3hc::cache
