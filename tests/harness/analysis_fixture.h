// Shared fixture of the analysis tests (analysis_test.cpp, analysis_file_test.cpp): a registry
// with a tiny Flow-Bench look-alike text reader ("toy-text") and fast test-only classifiers
// ("nbayes", "nbayes-linear", "failing"), two datasets wf-a / wf-b, and helpers to parse and run
// analysis files against them. Everything here is synthetic.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "opsbench/core/registry.h"
#include "opsbench/harness/analysis.h"

namespace opsbench::analysis_test {

const Registry& test_registry();

// The [[datasets]] part every test file starts with, and [[analyses]] of all four kinds.
extern const char* const kDatasets;
extern const char* const kAllKinds;

AnalysisFile parse(const std::string& analyses);      // kDatasets + analyses
std::string message_of(const std::string& analyses);  // the ConfigError's text, or "(no error)"
AnalysisResults run(const AnalysisFile& file, const std::string& out);

// A per-process output directory removed before and after use.
struct TempOut {
  std::string path;
  explicit TempOut(const std::string& name)
      : path((std::filesystem::temp_directory_path() / ("opsbench-analysis-" + name + "-" + std::to_string(::getpid())))
                 .string()) {
    std::filesystem::remove_all(path);
  }
  ~TempOut() { std::filesystem::remove_all(path); }
};

}  // namespace opsbench::analysis_test
