// The text readers of datasets/ (see readers.h): "flowbench-text" here, "hdfs-text" in
// text_readers_hdfs.cpp. Both give the transformer-encoder suites sentences in a text column named
// `text`, a binary label and a predefined split (Dataset::given_split); tokenisation and truncation
// happen in the model, not here. docs/text-datasets.md has the measured counts.
//
// Reader "flowbench-text": Flow-Bench jobs as the LLM paper's sentences (Jin et al.; the
// PoSeiDon-Workflows/LLM_AD release). Test and validation are exactly the rows of
// <text_root>/<workflow>/{test,validation}.csv(.gz) (`text,label`, in file order). The paper's
// training split is not released, so training is rebuilt from the per-job traces: every job of the
// workflow is read through the "flowbench" reader (features=paper: the nine template columns, in the
// template's order) and serialised by textualise() (transforms.h), which writes the release's
// template byte for byte. Jobs are matched to released rows by the sentence, which carries every
// feature the paper used:
//   1. Each released row, test first and then validation, in file order, claims the first job in
//      reader order with the same sentence and the same label that no earlier row claimed; failing
//      that, the first unclaimed job with the same sentence (a label mismatch, counted). A row whose
//      sentence no unclaimed job has is unmatched; more than `max_unmatched` of the released rows
//      unmatched is a DataError (the release and the traces would not be the same jobs).
//   2. Training = the unclaimed jobs. Identical jobs (same nine values) make identical sentences:
//      with duplicates=exclude (default) an unclaimed job whose sentence occurs in test or validation
//      is also dropped, so that no training sentence equals an evaluation sentence; with
//      duplicates=keep only the claimed jobs leave, which rebuilds the paper's 8:1:1 sizes exactly
//      (its random job split put such copies on both sides).
// Columns: `text`, then the numeric template columns (missing = missing; released rows get them by
// parsing their own sentence, so they are exactly what the text says), group = the DAG run of the
// claimed job ("unmatched" for an unmatched row). `text_features` k > 0 keeps the first k template
// features only, both in the sentence (cut after the k-th "<feat> is <val> ") and in the numeric
// columns: the online-detection analysis classifies these growing prefixes. `train_limit` draws a
// label-stratified subsample of the training part from the dataset seed (kept in reader order).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <system_error>
#include <unordered_map>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/transforms.h"
#include "readers.h"

namespace opsbench {

ReaderEntry hdfs_text_entry();  // text_readers_hdfs.cpp

namespace {

namespace fs = std::filesystem;

// A released row of test.csv / validation.csv.
struct TextRow {
  std::string text;
  int label = 0;
  std::int64_t line = 0;
  Part part = Part::kTest;
};

// `dir/name`, else `dir/name.gz`; a DataError naming the first when neither exists.
std::string existing_file(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const std::string& candidate : {name, name + ".gz"}) {
    if (fs::is_regular_file(dir / candidate, ec)) return (dir / candidate).string();
  }
  throw DataError((dir / name).string(), 0, 0, "no such file (nor " + name + ".gz)");
}

void read_text_rows(const std::string& path, Part part, std::vector<TextRow>& out) {
  CsvReader reader(path);
  const auto& header = reader.header();
  const auto text_col = std::find(header.begin(), header.end(), "text") - header.begin();
  const auto label_col = std::find(header.begin(), header.end(), "label") - header.begin();
  const auto width = static_cast<std::ptrdiff_t>(header.size());
  if (text_col == width || label_col == width) throw DataError(path, 1, 0, "expected columns 'text' and 'label'");
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& label = fields[static_cast<std::size_t>(label_col)];
    if (label != "0" && label != "1") {
      throw DataError(path, reader.line(), label_col + 1, "label '" + label + "' is neither 0 nor 1");
    }
    out.push_back(TextRow{fields[static_cast<std::size_t>(text_col)], label == "1" ? 1 : 0, reader.line(), part});
  }
}

// Parses "<f0> is <v0> <f1> is <v1> ... " (the template, trailing space included) back into the
// values, NaN for "nan". Anything else is a DataError at the row: a different feature order would
// make the numeric columns lie about the text.
std::vector<double> parse_sentence(const TextRow& row, const std::vector<std::string>& features,
                                   const std::string& path) {
  std::vector<double> values;
  std::size_t pos = 0;
  const std::string& text = row.text;
  for (const auto& feature : features) {
    const std::string head = feature + " is ";
    const std::size_t end = text.find(' ', pos + head.size());
    if (text.compare(pos, head.size(), head) != 0 || end == std::string::npos) {
      throw DataError(
          path, row.line, 1,
          "text does not follow the template: expected '" + head + "<value> ' at character " + std::to_string(pos + 1));
    }
    const std::string cell = text.substr(pos + head.size(), end - pos - head.size());
    double v = std::numeric_limits<double>::quiet_NaN();
    if (cell != "nan" && !parse_double(cell, v)) {
      throw DataError(path, row.line, 1, "feature '" + feature + "': '" + cell + "' is not a number");
    }
    values.push_back(v);
    pos = end + 1;
  }
  if (pos != text.size()) {
    throw DataError(path, row.line, 1, "text goes on after the last template feature: '" + text.substr(pos) + "'");
  }
  return values;
}

// The sentence up to and including the k-th value's trailing space (k = 0: all of it). Feature
// names and values hold no spaces, so every feature is exactly three space-terminated tokens.
std::string sentence_prefix(const std::string& text, std::size_t k) {
  if (k == 0) return text;
  std::size_t spaces = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ' && ++spaces == 3 * k) return text.substr(0, i + 1);
  }
  return text;
}

// `limit` of `rows` (training row indices), stratified by label: class c keeps its share, rounded,
// at least one row; drawn uniformly from the seed, returned in reader order.
std::vector<std::size_t> stratified_subsample(const std::vector<std::size_t>& rows, const std::vector<int>& labels,
                                              std::size_t limit, std::uint64_t seed) {
  if (limit == 0 || limit >= rows.size()) return rows;
  std::vector<std::size_t> by_class[2];
  for (std::size_t r : rows) by_class[labels[r]].push_back(r);
  std::mt19937_64 rng(seed ^ 0x666c6f7774657874ULL);  // "flowtext"
  std::vector<std::size_t> kept;
  std::size_t take[2];
  const double share = static_cast<double>(by_class[1].size()) / static_cast<double>(rows.size());
  take[1] = static_cast<std::size_t>(std::llround(share * static_cast<double>(limit)));
  if (!by_class[1].empty()) take[1] = std::max<std::size_t>(take[1], 1);
  if (!by_class[0].empty()) take[1] = std::min(take[1], limit - 1);
  take[0] = limit - take[1];
  for (int c = 0; c < 2; ++c) {
    auto pool = by_class[c];
    portable_shuffle(pool, rng);
    pool.resize(std::min(take[c], pool.size()));
    kept.insert(kept.end(), pool.begin(), pool.end());
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

Dataset read_flowbench_text(const Options& options, const ReadContext& ctx) {
  const std::string workflow = options.get_string("workflow");
  const bool exclude_duplicates = options.get_string("duplicates") == "exclude";

  // The released evaluation rows.
  const fs::path text_dir = fs::path(resolve_data_path(options.get_string("text_root"), ctx)) / workflow;
  const std::string test_path = existing_file(text_dir, "test.csv");
  const std::string validation_path = existing_file(text_dir, "validation.csv");
  std::vector<TextRow> released;
  read_text_rows(test_path, Part::kTest, released);
  read_text_rows(validation_path, Part::kValidation, released);

  // Every job, through the flowbench reader: one code path for the traces.
  const ReaderEntry traces = flowbench_reader_entry();
  const Options trace_options = resolve(
      traces.options,
      {{"root", options.get_string("root")}, {"workflow", workflow}, {"features", "paper"}, {"label", "binary"}},
      "reader flowbench (for flowbench-text)");
  Dataset jobs = traces.read(trace_options, ctx);
  const std::vector<std::string> features = jobs.table.column_names();
  const std::vector<std::string> sentences = textualise(jobs.table);
  const std::vector<int>& job_labels = jobs.table.label().values;

  const auto k = static_cast<std::size_t>(options.get_int("text_features"));
  if (k > features.size()) {
    throw ConfigError("reader flowbench-text: text_features " + std::to_string(k) + " exceeds the " +
                      std::to_string(features.size()) + " template features");
  }
  const std::size_t kept_features = k == 0 ? features.size() : k;

  std::unordered_map<std::string, std::vector<std::size_t>> jobs_of;
  jobs_of.reserve(sentences.size());
  for (std::size_t j = 0; j < sentences.size(); ++j) jobs_of[sentences[j]].push_back(j);

  // Step 1: each released row claims a job.
  std::vector<char> claimed(sentences.size(), 0);
  std::vector<std::ptrdiff_t> claim_of(released.size(), -1);
  std::size_t unmatched = 0, label_mismatches = 0;
  for (std::size_t r = 0; r < released.size(); ++r) {
    auto it = jobs_of.find(released[r].text);
    if (it == jobs_of.end()) {
      ++unmatched;
      continue;
    }
    std::ptrdiff_t any = -1;
    for (std::size_t j : it->second) {
      if (claimed[j]) continue;
      if (job_labels[j] == released[r].label) {
        claim_of[r] = static_cast<std::ptrdiff_t>(j);
        break;
      }
      if (any < 0) any = static_cast<std::ptrdiff_t>(j);
    }
    if (claim_of[r] < 0 && any >= 0) {
      claim_of[r] = any;
      ++label_mismatches;
    }
    if (claim_of[r] < 0) {
      ++unmatched;  // more released copies of this sentence than jobs
      continue;
    }
    claimed[static_cast<std::size_t>(claim_of[r])] = 1;
  }
  const double max_unmatched = options.get_double("max_unmatched");
  if (static_cast<double>(unmatched) > max_unmatched * static_cast<double>(released.size())) {
    throw DataError(text_dir.string(), 0, 0,
                    std::to_string(unmatched) + " of " + std::to_string(released.size()) +
                        " test/validation rows match no job of the traces (bound: max_unmatched = " +
                        format_double(max_unmatched) + "); are the text files and the traces the same workflow?");
  }

  // Step 2: the training jobs.
  std::vector<std::size_t> train;
  std::size_t duplicates_dropped = 0;
  {
    std::unordered_map<std::string, char> released_texts;
    if (exclude_duplicates) {
      released_texts.reserve(released.size());
      for (const auto& row : released) released_texts.emplace(row.text, 1);
    }
    for (std::size_t j = 0; j < sentences.size(); ++j) {
      if (claimed[j]) continue;
      if (exclude_duplicates && released_texts.count(sentences[j]) != 0) {
        ++duplicates_dropped;
        continue;
      }
      train.push_back(j);
    }
  }
  const std::size_t train_rebuilt = train.size();
  train = stratified_subsample(train, job_labels, static_cast<std::size_t>(options.get_int("train_limit")), ctx.seed);

  // The table: training rows in reader order, then validation, then test, each in file order.
  std::vector<std::size_t> evaluation;
  for (Part part : {Part::kValidation, Part::kTest}) {
    for (std::size_t r = 0; r < released.size(); ++r) {
      if (released[r].part == part) evaluation.push_back(r);
    }
  }
  std::vector<std::string> texts;
  std::vector<std::vector<double>> values(kept_features);
  std::vector<int> groups, labels;
  std::vector<Part> split;
  std::vector<std::string> group_names = jobs.table.group_names();
  const int unmatched_group = static_cast<int>(group_names.size());
  if (unmatched > 0) group_names.push_back("unmatched");
  for (std::size_t j : train) {
    texts.push_back(sentence_prefix(sentences[j], k));
    for (std::size_t f = 0; f < kept_features; ++f) values[f].push_back(jobs.table.column(f).values()[j]);
    groups.push_back(jobs.table.groups()[j]);
    labels.push_back(job_labels[j]);
    split.push_back(Part::kTrain);
  }
  for (std::size_t r : evaluation) {
    const TextRow& row = released[r];
    const std::string& path = row.part == Part::kTest ? test_path : validation_path;
    const std::vector<double> parsed = parse_sentence(row, features, path);
    texts.push_back(sentence_prefix(row.text, k));
    for (std::size_t f = 0; f < kept_features; ++f) values[f].push_back(parsed[f]);
    groups.push_back(claim_of[r] < 0 ? unmatched_group : jobs.table.groups()[static_cast<std::size_t>(claim_of[r])]);
    labels.push_back(row.label);
    split.push_back(row.part);
  }

  Dataset dataset;
  dataset.table.add_column(Column::text("text", std::move(texts)));
  for (std::size_t f = 0; f < kept_features; ++f)
    dataset.table.add_column(Column::numeric(features[f], std::move(values[f])));
  dataset.table.set_groups(std::move(groups), std::move(group_names));
  Labels label;
  label.name = "label";
  label.classes = {"normal", "anomalous"};
  label.values = std::move(labels);
  dataset.table.add_labels(std::move(label));
  dataset.given_split = std::move(split);
  dataset.files = jobs.files;
  for (const auto& p : {test_path, validation_path}) {
    const FileDigest digest = digest_file(p);
    dataset.files.push_back(DataFile{p, digest.bytes, digest.sha256});
  }
  std::size_t test_rows = 0;
  for (const auto& row : released) test_rows += row.part == Part::kTest ? 1 : 0;
  dataset.description = "Flow-Bench " + workflow + " sentences: " + std::to_string(train.size()) + " train (" +
                        std::to_string(train_rebuilt) + " rebuilt from " + std::to_string(sentences.size()) +
                        " jobs; " + std::to_string(duplicates_dropped) +
                        " dropped as copies of evaluation sentences), " + std::to_string(released.size() - test_rows) +
                        " validation, " + std::to_string(test_rows) + " test; " + std::to_string(unmatched) +
                        " unmatched, " + std::to_string(label_mismatches) + " label mismatches; " +
                        (k == 0 ? "all " : "first ") + std::to_string(kept_features) + " template features";
  return dataset;
}

ReaderEntry flowbench_text_entry() {
  ReaderEntry entry;
  entry.name = "flowbench-text";
  entry.description =
      "Flow-Bench jobs as the LLM paper's sentences: test/validation = the released rows, training rebuilt "
      "from the traces without the evaluation jobs; text column `text` plus the numeric template features";
  entry.options = {
      OptionDecl::choice("workflow", "1000genome", {"1000genome", "montage"}, "which workflow"),
      OptionDecl::string("text_root", "data:flowbench-text", "folder with <workflow>/{test,validation}.csv.gz"),
      OptionDecl::string("root", "data:flowbench", "Flow-Bench traces, as for the flowbench reader"),
      OptionDecl::choice("duplicates", "exclude", {"exclude", "keep"},
                         "exclude: drop every training job whose sentence occurs in test/validation; keep: drop "
                         "only the jobs claimed by released rows (the paper's 8:1:1 sizes, copies on both sides)"),
      OptionDecl::integer("train_limit", 0, 0, std::nullopt,
                          "label-stratified seeded subsample of the training part; 0 = all"),
      OptionDecl::integer("text_features", 0, 0, 9,
                          "first k template features (wms_delay, queue_delay, runtime, post_script_delay, "
                          "stage_in_delay, stage_out_delay, stage_in_bytes, stage_out_bytes, "
                          "kickstart_executables_cpu_time) in text and numeric columns; 0 = all"),
      OptionDecl::real("max_unmatched", 0.01, 0.0, 1.0,
                       "largest share of test/validation rows allowed to match no job (else DataError)"),
  };
  entry.read = read_flowbench_text;
  return entry;
}

}  // namespace

void add_text_readers(Registry& registry) {
  registry.add(flowbench_text_entry());
  registry.add(hdfs_text_entry());
}

}  // namespace opsbench
