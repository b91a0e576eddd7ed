// Private to harness/src: how suite-file readers name places and turn TOML values into spec-string
// text (shared by suite.cpp and search.cpp so that every message and value reads the same way).
#pragma once

#include <toml++/toml.h>

#include <string>

namespace opsbench {

// "ORIGIN:LINE:COLUMN" where the parser knows the place, else "ORIGIN".
std::string toml_place(const std::string& origin, const toml::source_region& where);

// A string, boolean, integer or float in spec-string form; arrays (when allowed) join their items
// with ';' (the list separator of spec strings). Anything else is a ConfigError naming `where`.
std::string toml_value_text(const toml::node& node, const std::string& where, bool allow_arrays);

}  // namespace opsbench
