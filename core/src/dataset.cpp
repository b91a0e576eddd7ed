// resolve_data_path. See dataset.h for the contract.
#include "opsbench/core/dataset.h"

#include <filesystem>
#include <system_error>

#include "opsbench/core/error.h"

namespace opsbench {

std::string resolve_data_path(const std::string& path, const ReadContext& ctx) {
  namespace fs = std::filesystem;
  static const std::string kDataPrefix = "data:";
  if (path.compare(0, kDataPrefix.size(), kDataPrefix) == 0) {
    std::string rel = path.substr(kDataPrefix.size());
    if (ctx.data_root.empty()) {
      throw ConfigError("path '" + path +
                        "' is under the data root, but no data root is set (use --data DIR or OPSBENCH_DATA)");
    }
    std::error_code ec;
    if (!fs::is_directory(ctx.data_root, ec)) {
      throw ConfigError("path '" + path + "': the data root '" + ctx.data_root + "' is not a directory");
    }
    // A leading '/' in REL still means "under the root", never the file system root.
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    return rel.empty() ? ctx.data_root : (fs::path(ctx.data_root) / rel).string();
  }
  fs::path p(path);
  if (p.is_absolute() || ctx.base_dir.empty()) return path;
  return (fs::path(ctx.base_dir) / p).string();
}

}  // namespace opsbench
