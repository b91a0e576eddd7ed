// Reader "hdfs-text": HDFS_v1 block sessions as event-template text, for the efficiency study of
// BERT fine-tuning on HDFS (Zhang et al.: full, LoRA, QLoRA and pruning).
//
// Sessions are the logdeep release's (as reader "hdfs-sessions"): hdfs/hdfs_train(.gz) holds one
// normal session per line, hdfs/hdfs_test_abnormal(.gz) one abnormal session per line, each a
// space-separated list of integer event keys.
//
// Key -> template. logdeep's key k is loghub's HDFS_v1 event E<k> (loghub HDFS/HDFS_templates.csv,
// `EventId,EventTemplate`). The evidence, in docs/text-datasets.md: (1) the normal session
// "22 5 5 5 11 9 11 9 11 9 26 26 26" reads, under this mapping, as the HDFS block life cycle:
// allocateBlock once, then per replica (three) Receiving block, PacketResponder terminating /
// Received block, addStoredBlock; (2) the per-key counts in hdfs_train have the same proportions as
// the EventIds of loghub's HDFS_2k sample matched to these templates; (3) logdeep's own code reads
// the semantic vector of key k as event2semantic_vec[k - 1], and those 29 vectors are closest in
// pairs whose E<k> templates share their words (E5/E6 "Receiving/Received block ... src: dest:",
// E27/E28 "addStoredBlock ... request received for"). keys=tokens writes `E<k>` instead and reads no
// templates file (for a check without the mapping).
//
// Text: the templates of a session's keys, in order, joined by the declared separator. Each
// template's `<*>` placeholders are padded with single spaces and runs of spaces collapsed
// ("<*>Served block<*>to<*>" -> "<*> Served block <*> to <*>"); placeholders=false drops them.
// Nothing is truncated here: the tokenizer truncates to the model's length.
//
// Split (predefined parts): the training part is `train_fraction` of the sessions of the base
// (`fraction_of`: hdfs_v1 = the 575,061 sessions of the full HDFS_v1 set, i.e. "1% of the data" as
// the paper counts it; available = the sessions in these two files), split normal:abnormal
// `train_ratio`:1; the test part is `test_size` sessions of each class (balanced) from the sessions
// left. Both are uniform draws from the dataset seed, disjoint by session, kept in file order (train
// normal, train abnormal, test normal, test abnormal). Normal HDFS sessions repeat a few shapes, so
// identical texts do fall on both sides; the sessions themselves never do.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <system_error>

#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "readers.h"

namespace opsbench {
namespace {

namespace fs = std::filesystem;

constexpr double kHdfsV1Sessions = 575061.0;  // loghub HDFS_v1: 558,223 normal + 16,838 anomalous blocks

struct KeySession {
  std::vector<int> keys;
  std::int64_t line = 0;
};

std::string existing_file(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const std::string& candidate : {name, name + ".gz"}) {
    if (fs::is_regular_file(dir / candidate, ec)) return (dir / candidate).string();
  }
  throw DataError((dir / name).string(), 0, 0, "no such file (nor " + name + ".gz)");
}

// One session per line; blank lines are no sessions. A token that is not a key is a DataError at
// its line and character.
std::vector<KeySession> read_key_sessions(const std::string& path) {
  CsvOptions csv;
  csv.has_header = false;
  csv.delimiter = '\x1f';  // never in these files: each line is one field
  CsvReader reader(path, csv);
  std::vector<KeySession> sessions;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& text = fields[0];
    KeySession session;
    session.line = reader.line();
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
      const std::size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') ++i;
      if (start == i) break;
      const std::string token = text.substr(start, i - start);
      const bool digits =
          token.size() <= 9 && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) {
        throw DataError(path, reader.line(), static_cast<std::int64_t>(start) + 1,
                        "event key '" + token + "' is not a non-negative integer");
      }
      session.keys.push_back(std::stoi(token));
    }
    if (!session.keys.empty()) sessions.push_back(std::move(session));
  }
  return sessions;
}

std::string normalise_template(const std::string& raw, bool placeholders) {
  std::string spaced;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 3, "<*>") == 0) {
      spaced += placeholders ? " <*> " : " ";
      i += 3;
    } else {
      spaced += raw[i++];
    }
  }
  std::string out;
  for (char c : spaced) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// EventId "E<k>" -> normalised template text.
std::map<int, std::string> read_templates(const std::string& path, bool placeholders) {
  CsvReader reader(path);
  const auto& header = reader.header();
  const auto id_col = std::find(header.begin(), header.end(), "EventId") - header.begin();
  const auto tpl_col = std::find(header.begin(), header.end(), "EventTemplate") - header.begin();
  const auto width = static_cast<std::ptrdiff_t>(header.size());
  if (id_col == width || tpl_col == width)
    throw DataError(path, 1, 0, "expected columns 'EventId' and 'EventTemplate'");
  std::map<int, std::string> templates;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    const std::string& id = fields[static_cast<std::size_t>(id_col)];
    const bool ok = id.size() >= 2 && id.size() <= 10 && id[0] == 'E' &&
                    std::all_of(id.begin() + 1, id.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) throw DataError(path, reader.line(), id_col + 1, "EventId '" + id + "' is not E<number>");
    if (!templates
             .emplace(std::stoi(id.substr(1)),
                      normalise_template(fields[static_cast<std::size_t>(tpl_col)], placeholders))
             .second) {
      throw DataError(path, reader.line(), id_col + 1, "EventId '" + id + "' given twice");
    }
  }
  return templates;
}

// Moves `count` uniformly drawn items out of `pool` (which keeps the rest) and returns them sorted.
std::vector<std::size_t> take_random(std::vector<std::size_t>& pool, std::size_t count, std::mt19937_64& rng) {
  portable_shuffle(pool, rng);
  std::vector<std::size_t> taken(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
  pool.erase(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
  std::sort(taken.begin(), taken.end());
  return taken;
}

const char* separator_text(const std::string& name) {
  if (name == "space") return " ";
  if (name == "period") return ". ";
  if (name == "newline") return "\n";
  return " [SEP] ";
}

Dataset read_hdfs_text(const Options& options, const ReadContext& ctx) {
  const fs::path root(resolve_data_path(options.get_string("root"), ctx));
  const std::string normal_path = existing_file(root / "hdfs", "hdfs_train");
  const std::string abnormal_path = existing_file(root / "hdfs", "hdfs_test_abnormal");
  const std::vector<KeySession> sessions[2] = {read_key_sessions(normal_path), read_key_sessions(abnormal_path)};
  const std::string paths[2] = {normal_path, abnormal_path};

  const bool use_templates = options.get_string("keys") == "templates";
  std::string templates_path;
  std::map<int, std::string> templates;
  if (use_templates) {
    templates_path = resolve_data_path(options.get_string("templates"), ctx);
    std::error_code ec;
    if (!fs::is_regular_file(templates_path, ec)) throw DataError(templates_path, 0, 0, "no such file");
    templates = read_templates(templates_path, options.get_bool("placeholders"));
    // Every session, drawn or not: whether the files are usable must not depend on the seed.
    for (int c = 0; c < 2; ++c) {
      for (const KeySession& session : sessions[c]) {
        for (int key : session.keys) {
          if (templates.count(key) == 0) {
            throw DataError(paths[c], session.line, 0,
                            "event key " + std::to_string(key) + " has no template E" + std::to_string(key) + " in " +
                                templates_path);
          }
        }
      }
    }
  }

  // Sizes.
  const double base = options.get_string("fraction_of") == "hdfs_v1"
                          ? kHdfsV1Sessions
                          : static_cast<double>(sessions[0].size() + sessions[1].size());
  const double ratio = options.get_double("train_ratio");
  const auto train_total = static_cast<std::size_t>(std::llround(options.get_double("train_fraction") * base));
  std::size_t train_n[2];
  train_n[1] = static_cast<std::size_t>(std::llround(static_cast<double>(train_total) / (ratio + 1.0)));
  train_n[1] = std::max<std::size_t>(train_n[1], 1);
  train_n[0] = std::max<std::size_t>(train_total > train_n[1] ? train_total - train_n[1] : 0, 1);
  const auto test_n = static_cast<std::size_t>(options.get_int("test_size"));
  const char* names[2] = {"normal", "abnormal"};
  for (int c = 0; c < 2; ++c) {
    if (train_n[c] + test_n > sessions[c].size()) {
      throw ConfigError("reader hdfs-text: " + std::to_string(train_n[c]) + " training + " + std::to_string(test_n) +
                        " test " + names[c] + " sessions requested, " + std::to_string(sessions[c].size()) + " in " +
                        paths[c] + "; lower train_fraction or test_size");
    }
  }

  std::mt19937_64 rng(ctx.seed ^ 0x6864667374787400ULL);  // "hdfstxt"
  std::vector<std::size_t> parts[2][2];                   // [class][0 train, 1 test]
  for (int c = 0; c < 2; ++c) {
    std::vector<std::size_t> pool(sessions[c].size());
    for (std::size_t i = 0; i < pool.size(); ++i) pool[i] = i;
    parts[c][0] = take_random(pool, train_n[c], rng);
    parts[c][1] = take_random(pool, test_n, rng);
  }

  const std::string separator = separator_text(options.get_string("separator"));
  std::vector<std::string> texts;
  Labels labels;
  labels.name = "label";
  labels.classes = {"normal", "abnormal"};
  std::vector<Part> split;
  for (int part = 0; part < 2; ++part) {
    for (int c = 0; c < 2; ++c) {
      for (std::size_t i : parts[c][part]) {
        const KeySession& session = sessions[c][i];
        std::string text;
        for (std::size_t e = 0; e < session.keys.size(); ++e) {
          const int key = session.keys[e];
          if (e > 0) text += separator;
          if (!use_templates) {
            text += "E" + std::to_string(key);
            continue;
          }
          text += templates.at(key);  // checked above
        }
        texts.push_back(std::move(text));
        labels.values.push_back(c);
        split.push_back(part == 0 ? Part::kTrain : Part::kTest);
      }
    }
  }

  Dataset dataset;
  dataset.table.add_column(Column::text("text", std::move(texts)));
  dataset.table.add_labels(std::move(labels));
  dataset.given_split = std::move(split);
  std::vector<std::string> read = {normal_path, abnormal_path};
  if (use_templates) read.push_back(templates_path);
  for (const auto& p : read) {
    const FileDigest digest = digest_file(p);
    dataset.files.push_back(DataFile{p, digest.bytes, digest.sha256});
  }
  dataset.description = "HDFS_v1 sessions as " + std::string(use_templates ? "event-template" : "E<key> token") +
                        " text: train " + std::to_string(train_n[0]) + " normal + " + std::to_string(train_n[1]) +
                        " abnormal, test " + std::to_string(test_n) + " + " + std::to_string(test_n) + " (of " +
                        std::to_string(sessions[0].size()) + " normal, " + std::to_string(sessions[1].size()) +
                        " abnormal sessions)";
  return dataset;
}

}  // namespace

ReaderEntry hdfs_text_entry() {
  ReaderEntry entry;
  entry.name = "hdfs-text";
  entry.description =
      "HDFS_v1 block sessions (logdeep) as the text of their loghub event templates; down-sampled 2:1 training "
      "part and a balanced test part; label 1 = abnormal";
  entry.options = {
      OptionDecl::string("root", "data:logs/hdfs-logdeep",
                         "folder holding hdfs/hdfs_train.gz and hdfs_test_abnormal.gz"),
      OptionDecl::string("templates", "data:logs/loghub/HDFS/HDFS_templates.csv",
                         "loghub HDFS_v1 templates (EventId,EventTemplate); key k = E<k>"),
      OptionDecl::choice("keys", "templates", {"templates", "tokens"},
                         "templates: each key as its template text; tokens: as the token E<k> (no mapping used)"),
      OptionDecl::boolean("placeholders", true, "keep the templates' <*> placeholders (padded with spaces)"),
      OptionDecl::choice("separator", "period", {"space", "period", "newline", "sep"},
                         "between a session's events: ' ', '. ', a newline, or ' [SEP] '"),
      OptionDecl::real("train_fraction", 0.01, 0.0, 1.0, "training sessions as a share of the base (fraction_of)"),
      OptionDecl::choice("fraction_of", "hdfs_v1", {"hdfs_v1", "available"},
                         "base of train_fraction: the 575,061 sessions of HDFS_v1, or the sessions in the files"),
      OptionDecl::real("train_ratio", 2.0, 0.01, 1000.0, "normal sessions per abnormal one in the training part"),
      OptionDecl::integer("test_size", 1000, 0, std::nullopt, "test sessions per class (balanced)"),
  };
  entry.read = read_hdfs_text;
  return entry;
}

}  // namespace opsbench
