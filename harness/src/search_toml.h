// Private to harness/src: reading the [resample] and [search.<method>] tables of a suite file
// (suite.cpp calls these; the keys are documented in search.h and docs/writing-a-suite.md).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "opsbench/harness/search.h"

namespace opsbench {

// Throws ConfigError "ORIGIN:LINE:COLUMN: resample.KEY: ..." on unknown keys or invalid values.
ResampleSpec parse_resample_table(const toml::table& table, const std::string& origin);
// One spec per sub-table of [search]; option values may be strings, numbers or booleans.
std::vector<SearchSpec> parse_search_table(const toml::table& table, const std::string& origin);

}  // namespace opsbench
