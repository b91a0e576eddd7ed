// Rendering reports from a results store: what `opsbench run` does after its cells and what
// `opsbench report` does on its own, without re-running anything.
#pragma once

#include <string>
#include <vector>

namespace opsbench {

// Renders one report per suite found in the store at `store_path` into `out_dir`
// (out_dir/report.md and out_dir/plots/ when the store holds one suite, out_dir/<suite>/... when it
// holds several). Returns the paths of the reports written. ConfigError when the store is missing.
std::vector<std::string> write_reports_from_store(const std::string& store_path, const std::string& out_dir);

}  // namespace opsbench
