// Analyses: the studies of Jin et al. (2024, LLMs for workflow anomaly detection) that are more
// than one suite cell, run by `opsbench analyse FILE.toml --out DIR`.
//
// An analysis file (TOML, documented in docs/analyses.md) declares datasets exactly as a suite does
// ([[datasets]] with name, reader, options), the optional [split] and [preprocess] tables of a
// suite (the preprocessing's `text` defaults to "keep" here: the analyses classify sentences), and
// one [[analyses]] entry per study: kind, method (a spec string), datasets, seeds and the keys of
// its kind. Parsing is strict like suites: an unknown key, a wrong type, an unknown reader or
// method, an option out of bounds or a dataset name that is not declared is a ConfigError starting
// "FILE:LINE:COLUMN:" where the TOML parser knows the place.
//
// Kinds (the rule each one applies is written into its results, so a report states it):
//   online      fit on the training part's full sentences; for every test row the sentences of its
//               growing feature prefixes (p = 1..P of the numeric feature columns of the raw test
//               row, written by textualise(), byte for byte the template's prefix) are predicted;
//               per row the first p whose prediction equals the label ("never" when none), the
//               smallest p from which every longer prefix is right, and the accuracy per p.
//   debias      `seeds` fits (default 10); the predicted class probabilities of the empty sentence
//               "" (mean, sd over seeds) and the test quality; then the same with `augment` extra
//               training rows holding "" whose labels cycle through the classes (label-balanced),
//               0 = 1% of the training rows rounded up to a multiple of the class count (at least
//               one row per class).
//   transfer    one fit per dataset, evaluated on every dataset's test part (F1 and accuracy
//               matrix); then for source -> target, target test quality after fitting on the first
//               n rows (for each n of `target_rows`) of a seeded shuffle of the target training
//               part, once continuing from the source-trained model (the method's `save` and
//               `weights` options) and once from the method's own starting point.
//   forgetting  fit on datasets[0] (D1, saved); then continue on datasets[1] (D2) once with
//               `method` (all parameters) and once with `linear_method` (linear-only); accuracy,
//               precision, recall and F1 on both test parts and the training time of each stage,
//               beside the published values the file gives.
// validation_limit / test_limit (any kind) evaluate on label-stratified seeded subsamples of the
// validation and test parts, the same rows for every fit of one analysis.
// online and debias see the "text view" of the prepared parts: the text column (`text_column`, or
// the only one) and the labels, nothing else, so the sentence is the whole input. transfer and
// forgetting give methods the prepared parts as a suite cell does (numeric methods such as mlp or
// logreg run there on textless data; continued training needs a method that declares `save` and
// `weights`, as the bert-* classifiers do: others record that stage as failed).
//
// Results are data, failures included: a dataset that cannot be read or prepared, a fit or a
// prediction that throws, becomes an entry with its error and the analysis goes on. The split is
// the dataset's own (Dataset::given_split) or the file's [split] with one seed per dataset; every
// fit's seed is derive_seed(file seed, file name, dataset, analysis name/role, repetition), so a
// rerun gives the same numbers (wall times aside). Fitted models that later stages continue from
// are saved under <out>/models/<analysis>/ and removed when the analysis ends unless keep_models.
// Nothing here prints; progress goes to the caller's callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "opsbench/core/dataset.h"
#include "opsbench/core/environment.h"
#include "opsbench/core/record.h"
#include "opsbench/harness/plot_gnuplot.h"
#include "opsbench/harness/suite.h"

namespace opsbench {

class Registry;

enum class AnalysisKind { kOnline, kDebias, kTransfer, kForgetting };
const char* to_string(AnalysisKind kind);
AnalysisKind parse_analysis_kind(const std::string& text);  // ConfigError listing the kinds

struct AnalysisSpec {
  AnalysisKind kind = AnalysisKind::kOnline;
  std::string name;                        // unique in the file; default: the kind, then kind-2, ...
  std::string method;                      // spec string as written
  std::vector<std::string> datasets;       // names declared in [[datasets]]
  int seeds = 1;                           // repetitions (debias: 10 unless given)
  std::string text_column;                 // online, debias: "" = the only text column
  int max_features = 0;                    // online: longest prefix (0 = every numeric feature)
  int augment = 0;                         // debias: empty-sentence rows added (0 = the rule above)
  std::string source, target;              // transfer
  std::vector<std::size_t> target_rows;    // transfer: growing amounts of target training rows
  std::string linear_method;               // forgetting: the linear-only method spec
  std::vector<double> published_accuracy;  // forgetting: D1 test accuracy after D1, full, linear
  std::string published_source;            // where published_accuracy comes from
  bool keep_models = false;                // keep the saved models under <out>/models
  // Label-stratified seeded subsamples of every validation and test part the analysis uses (0 =
  // all): the same rows for every fit of the analysis, so CPU-sized runs stay comparable.
  std::size_t validation_limit = 0;
  std::size_t test_limit = 0;
};

struct AnalysisFile {
  std::string name;
  std::string description;
  std::string path;      // "" when built in code
  std::string base_dir;  // relative dataset paths resolve here
  std::uint64_t seed = 0;
  std::vector<DatasetSpec> datasets;
  SplitSpec split;            // for datasets without their own split
  PreprocessSpec preprocess;  // text = "keep" unless the file says otherwise
  std::vector<AnalysisSpec> analyses;
};

// Reads and validates an analysis file against the registry (readers, methods and their options).
AnalysisFile load_analysis_file(const std::string& path, const Registry& registry);
AnalysisFile parse_analysis_file(const std::string& toml_text, const std::string& origin, const Registry& registry);

// Binary metrics (class 1 positive) for two classes, macro averages for more.
struct Quality {
  std::size_t rows = 0;
  double accuracy = 0;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

// One fit and what was measured with it. Roles by kind:
//   online "fit"; debias "before" | "after"; transfer "matrix" | "fine-tune" | "scratch";
//   forgetting "d1" | "full-d2" | "linear-d2".
struct AnalysisEntry {
  std::string role;
  std::string dataset;         // the dataset fitted on
  std::size_t train_rows = 0;  // rows the fit saw (augmentation included)
  int repetition = 0;
  std::uint64_t seed = 0;
  std::string method;  // canonical spec (the analysis file's; save/weights overrides in info)
  bool ok = true;
  std::string error;
  std::vector<Figure> figures;  // fit.wall, fit.cpu, fit.peak_rss and the method's diagnostics
  std::map<std::string, std::string> info;
  std::map<std::string, Quality> quality;  // by evaluated dataset name
  std::vector<double> empty_proba;         // debias: P(class | "")
  std::vector<double> prefix_accuracy;     // online: [p - 1]
  std::vector<std::size_t> first_right;    // online: rows first right at p ([p - 1]); back() = never
  std::vector<std::size_t> stable_from;    // online: rows right from p on; back() = not at P

  const Figure* figure(const std::string& name) const;
};

struct AnalysisResult {
  AnalysisSpec spec;
  std::string method;                 // canonical spec of spec.method
  std::string linear_method;          // forgetting: canonical spec of spec.linear_method
  std::string error;                  // the analysis could not start (its datasets failed)
  std::vector<std::string> rules;     // the declared rules with this run's numbers
  std::vector<std::string> warnings;  // loud: results that would mislead
  std::vector<std::string> features;  // online: the feature added at p = 1..P
  std::vector<std::string> classes;   // class names of the labels
  std::vector<AnalysisEntry> entries;
  double seconds = 0;

  std::size_t failed() const;  // entries that failed, plus one when `error` is set
};

struct AnalysisDataset {
  DatasetSpec spec;
  std::string description;
  bool synthetic = false;
  std::vector<DataFile> files;
  std::size_t train_rows = 0, validation_rows = 0, test_rows = 0;
  std::vector<std::string> notes;  // how it was split and preprocessed
  std::string error;               // reading or preparing failed
};

struct AnalysisResults {
  std::string name;
  std::string description;
  std::string path;
  std::uint64_t seed = 0;
  Environment environment;
  std::vector<AnalysisDataset> datasets;
  std::vector<AnalysisResult> analyses;

  std::size_t failed() const;
};

struct AnalysisRunOptions {
  std::string data_root;  // --data / $OPSBENCH_DATA
  std::string out_dir;    // saved models go to <out_dir>/models
  int threads = 1;
  std::string command_line;
  std::function<void(const std::string& line)> on_progress;  // one line per fit; may be empty
};

// Runs every analysis in file order. Throws only for what stops everything (the output directory
// cannot be created); everything else is recorded.
AnalysisResults run_analyses(const AnalysisFile& file, const Registry& registry, const AnalysisRunOptions& options);

// The canonical results (analysis.json): the environment, datasets with their file hashes, every
// entry and the per-kind summaries the Markdown shows. Measured times are the only volatile values.
std::string analysis_to_json(const AnalysisResults& results);

// The plots the results yield (online: first-right histogram and accuracy per prefix; transfer:
// target F1 per amount of target rows), without writing anything.
std::vector<PlotFile> plan_analysis_plots(const AnalysisResults& results);
// Writes the plots' data and scripts under out_dir/plots and renders them with `gnuplot` ("" = not
// available: the set says why). Never throws.
PlotSet write_analysis_plots(const AnalysisResults& results, const std::string& out_dir, const std::string& gnuplot);

// analysis.md: title, loud warnings, environment, datasets, one section per analysis (its rule,
// tables, plots), failures. Depends only on its inputs (golden-tested after mask_volatile()).
std::string render_analysis_markdown(const AnalysisResults& results, const PlotSet& plots);

// Writes out_dir/analysis.json, out_dir/analysis.md and the plots; returns the two file paths.
std::vector<std::string> write_analysis_outputs(const AnalysisResults& results, const std::string& out_dir);

}  // namespace opsbench
