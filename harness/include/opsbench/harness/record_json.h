// JSON text for the plain records the harness stores and exchanges.
//
// These are the pieces of the canonical exchange format (docs/results-format.md): a RunRecord,
// an Environment and a Figure each have one JSON shape, used by the results store (its *_json
// columns), by export_json and by import. nlohmann::json stays out of this header: callers get and
// give text, so code that includes harness headers does not compile the JSON library.
//
// Conventions (why they are not the "obvious" ones):
// - seeds are 64-bit and JSON readers often hold numbers as doubles, so a seed is a decimal string;
// - a figure that was not measured has "value": null (never a number that was not measured);
// - a non-finite metric value is written as null and read back as NaN, so a store never holds
//   text that strict JSON readers reject.
// Reading is strict about types (a string where a number belongs is a DataError naming the key)
// and lenient about absent optional keys (they take the struct's defaults).
#pragma once

#include <string>

#include "opsbench/core/environment.h"
#include "opsbench/core/record.h"

namespace opsbench {

// indent < 0: one line; otherwise pretty-printed with that many spaces.
std::string to_json_text(const RunRecord& record, int indent = -1);
std::string to_json_text(const Environment& environment, int indent = -1);
std::string to_json_text(const Figure& figure, int indent = -1);

// Throw DataError (with `what_for` in the message, e.g. "cells row 'k'") on malformed text.
RunRecord record_from_json_text(const std::string& text, const std::string& what_for = "record");
Environment environment_from_json_text(const std::string& text,
                                       const std::string& what_for = "environment");
Figure figure_from_json_text(const std::string& text, const std::string& what_for = "figure");

// "ok" | "failed" -> CellStatus; DataError otherwise.
CellStatus parse_cell_status(const std::string& text);

}  // namespace opsbench
