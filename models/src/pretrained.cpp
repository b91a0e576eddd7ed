// Pretrained model lookup (see pretrained.h). Torch-free.
#include "opsbench/models/pretrained.h"

#include <cstdlib>
#include <filesystem>

#include "opsbench/core/error.h"

namespace opsbench::models {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRequiredFiles[] = {"config.json", "vocab.txt", "model.safetensors"};

bool holds_model(const fs::path& dir) {
  std::error_code ec;
  for (const char* file : kRequiredFiles) {
    if (!fs::is_regular_file(dir / file, ec)) return false;
  }
  return true;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

}  // namespace

const std::vector<std::string>& known_pretrained() {
  static const std::vector<std::string> kNames = {"all-MiniLM-L6-v2"};
  return kNames;
}

std::vector<std::string> pretrained_search_dirs() {
  std::vector<std::string> dirs;
  if (const std::string root = env("OPSBENCH_MODEL_DIR"); !root.empty()) dirs.push_back(root);
  if (const std::string home = env("HOME"); !home.empty()) dirs.push_back(home + "/.cache/opsbench/models");
  return dirs;
}

std::string find_pretrained(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return holds_model(name) ? name : "";
  for (const std::string& root : pretrained_search_dirs()) {
    const fs::path dir = fs::path(root) / name;
    if (holds_model(dir)) return dir.string();
  }
  return "";
}

std::string how_to_fetch(const std::string& name) {
  const std::string files = "config.json, vocab.txt and model.safetensors";
  if (name.find('/') != std::string::npos) return name + " does not hold " + files;
  std::string where;
  for (const std::string& root : pretrained_search_dirs()) where += (where.empty() ? "" : " or ") + root + "/" + name;
  if (where.empty()) where = "$OPSBENCH_MODEL_DIR/" + name + " (neither OPSBENCH_MODEL_DIR nor HOME is set)";
  for (const std::string& known : known_pretrained()) {
    if (known == name) return "pretrained model " + name + " not found in " + where + "; run ci/fetch-models.sh";
  }
  return "pretrained model " + name + " not found in " + where + "; put " + files + " there";
}

std::string require_pretrained(const std::string& name) {
  std::string dir = find_pretrained(name);
  if (dir.empty()) throw ConfigError(how_to_fetch(name));
  return dir;
}

}  // namespace opsbench::models
