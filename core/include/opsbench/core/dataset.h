// Dataset: what a reader returns, with the provenance the results store records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "opsbench/core/table.h"

namespace opsbench {

// A file a reader consumed: path, byte size and sha256 of its bytes as stored (compressed or not).
struct DataFile {
  std::string path;
  std::uint64_t bytes = 0;
  std::string sha256;
};

// Which part of a predefined split a row belongs to (readers of explicit train/validation/test files).
enum class Part : std::uint8_t { kTrain = 0, kValidation = 1, kTest = 2 };

struct Dataset {
  Table table;
  // Present when the data came with its own split; the suite's split is then not applied.
  std::optional<std::vector<Part>> given_split;
  std::vector<DataFile> files;  // every file read, for the environment block
  bool synthetic = false;       // generated data: reports say so
  std::string description;      // one line for reports
};

// What every reader receives besides its own options.
struct ReadContext {
  std::string data_root;  // --data / OPSBENCH_DATA; may be empty
  std::string base_dir;   // directory of the suite file, for relative paths
  std::uint64_t seed = 0; // generators draw from this
};

// Resolves a path option: absolute stays, "data:REL" is under data_root, otherwise relative to
// base_dir. Throws ConfigError when "data:" is used and data_root is empty or missing.
std::string resolve_data_path(const std::string& path, const ReadContext& ctx);

}  // namespace opsbench
