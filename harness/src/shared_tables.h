// Private to harness/src: the tables that suite files (suite.cpp) and analysis files
// (analysis_file.cpp) share, read one way: [[datasets]], [split] and [preprocess]. Every error names
// the place (file:line:column) and the key (toml_keys.h).
#pragma once

#include <string>
#include <vector>

#include "opsbench/harness/suite.h"
#include "toml_keys.h"

namespace opsbench {

struct SharedTableRules {
  std::string file_kind = "a suite";   // in "<file_kind> needs at least one [[datasets]] entry"
  std::string reader_example = "csv";  // in "missing (e.g. reader = \"...\")"
  bool train_contamination = true;     // the key is allowed in [[datasets]] and [split]
};

// [[datasets]]: at least one; names unique (default: the reader's name); options kept as spec text
// (resolved against the reader's declarations by the caller).
std::vector<DatasetSpec> read_dataset_tables(TomlKeys& top, const SharedTableRules& rules);

// [split] when present, over `split`'s values as defaults.
void read_split_table(TomlKeys& top, SplitSpec& split, const SharedTableRules& rules);

// [preprocess] when present, over `p`'s values as defaults; every value checked against its choices.
void read_preprocess_table(TomlKeys& top, PreprocessSpec& p);

}  // namespace opsbench
