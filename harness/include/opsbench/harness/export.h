// Exports of a results store: JSON (the canonical exchange format) and CSV (for spreadsheets and
// pandas). Both are documented field by field in docs/results-format.md.
//
// JSON: {"schema_version": 1, "runs": [...], "cells": [...]} with runs in run_id order and cells in
// (suite, dataset, method, repetition) order, so the same store always exports the same bytes.
// read_results_json() reads it back; a report rendered from an import equals one rendered from the
// store (everything else can be re-rendered from JSON).
//
// CSV: RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold a comma, quote, CR or
// LF, quotes doubled). One row per cell x metric and cell x figure:
//   suite,dataset,method,repetition,seed,status,kind,name,value,unit,source,available,reason
// kind is "metric" or "figure"; an unavailable figure has an empty value and its reason; a cell
// with neither metrics nor figures (a failed cell) has one row with kind "cell", empty name and
// value, and the error message as reason, so failed cells are never dropped from the CSV.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "opsbench/harness/store.h"

namespace opsbench {

// Everything a store holds, as plain values.
struct ResultsSnapshot {
  int schema_version = kSchemaVersion;
  std::vector<StoredRun> runs;
  std::vector<StoredCell> cells;
};

// Cells of `suite` (all suites when empty) and the runs they or the suite refer to.
ResultsSnapshot snapshot(const ResultsStore& store, const std::string& suite = "");

void export_json(const ResultsSnapshot& results, std::ostream& out);
void export_json(const ResultsStore& store, std::ostream& out);
// DataError on malformed input; ConfigError when schema_version is not one this build reads.
ResultsSnapshot read_results_json(std::istream& in, const std::string& what_for = "results JSON");

void export_csv(const ResultsSnapshot& results, std::ostream& out);
void export_csv(const ResultsStore& store, std::ostream& out);

// One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF.
std::string csv_field(const std::string& text);

}  // namespace opsbench
