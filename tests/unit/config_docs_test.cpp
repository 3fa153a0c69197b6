// The configuration reference (docs/CONFIGURATION.md) and the example file
// (config/s3hc.example.yaml) against the loader's own list of keys: a key added to the loader
// and not documented, or documented and not there (renamed, removed, misspelt), fails here.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/proxy_config.h"

namespace s3hc::config {
namespace {

std::string read_source_file(const std::string& path) {
  std::ifstream file(std::string(S3HC_SOURCE_DIR) + "/" + path);
  EXPECT_TRUE(file) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The keys of the table under "## Keys": the backquoted first cell of each row. The table
// ends at the first line that is not a row, as it does for a Markdown renderer: rows after a
// blank line would not show as part of it.
std::vector<std::string> documented_keys(const std::string& markdown) {
  std::istringstream lines(markdown);
  std::string line;
  while (std::getline(lines, line) && line != "## Keys") {
    // to the section
  }
  while (std::getline(lines, line) && !line.starts_with("|")) {
    // past the table's header row
  }
  std::vector<std::string> keys;
  const std::string row_start = "| `";
  while (std::getline(lines, line) && line.starts_with("|")) {
    if (!line.starts_with(row_start)) continue;  // the separator below the header
    const auto end = line.find('`', row_start.size());
    keys.push_back(line.substr(row_start.size(), end - row_start.size()));
  }
  return keys;
}

// The dotted names of a YAML document's scalar keys.
void collect_yaml_keys(const YAML::Node& mapping, const std::string& prefix,
                       std::vector<std::string>& keys) {
  for (const auto& entry : mapping) {
    const auto name = prefix + entry.first.as<std::string>();
    if (entry.second.IsMap()) {
      collect_yaml_keys(entry.second, name + ".", keys);
    } else {
      keys.push_back(name);
    }
  }
}

// Both ways: what `found` lacks of the loader's keys, and what it has that the loader lacks.
void expect_same_keys(const std::vector<std::string>& found, const std::string& where) {
  const auto loader = config_keys();
  const std::set<std::string> known(loader.begin(), loader.end());
  const std::set<std::string> listed(found.begin(), found.end());
  for (const auto& key : loader) {
    EXPECT_TRUE(listed.contains(key)) << key << " is missing from " << where;
  }
  for (const auto& key : found) {
    EXPECT_TRUE(known.contains(key)) << where << " lists " << key << ", which is no key";
    EXPECT_EQ(std::count(found.begin(), found.end(), key), 1) << where << " lists " << key
                                                               << " more than once";
  }
}

TEST(ConfigDocsTest, TheLoaderListsItsKeys) {
  const auto keys = config_keys();
  EXPECT_NE(std::find(keys.begin(), keys.end(), "listen"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "upstream.url"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "cache.sweep_per_round"), keys.end());
  // Sections are not keys of their own.
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "cache"), keys.end());
}

TEST(ConfigDocsTest, TheReferenceDocumentsEveryKeyAndNoOther) {
  const auto keys = documented_keys(read_source_file("docs/CONFIGURATION.md"));
  EXPECT_FALSE(keys.empty()) << "no table of keys under '## Keys'";
  expect_same_keys(keys, "docs/CONFIGURATION.md");
}

TEST(ConfigDocsTest, TheExampleConfigListsEveryKeyAndNoOther) {
  std::vector<std::string> keys;
  collect_yaml_keys(YAML::Load(read_source_file("config/s3hc.example.yaml")), "", keys);
  expect_same_keys(keys, "config/s3hc.example.yaml");
}

}  // namespace
}  // namespace s3hc::config
