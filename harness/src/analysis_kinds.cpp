// The four analyses of Jin et al. (analysis.h): online detection, debiasing, transfer and
// catastrophic forgetting. Each fit is one AnalysisEntry; an exception fails that entry only.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "analysis_internal.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/harness/report_markdown.h"

namespace opsbench {
namespace analysis_detail {
namespace {

AnalysisEntry new_entry(Session& session, const AnalysisResult& result, const std::string& role,
                        const std::string& dataset, const std::string& seed_role, int repetition) {
  AnalysisEntry e;
  e.role = role;
  e.dataset = dataset;
  e.repetition = repetition;
  e.seed = session.seed(result.spec, dataset, seed_role, repetition);
  e.method = result.method;
  return e;
}

void report(const Session& session, const AnalysisResult& result, const AnalysisEntry& e, const std::string& what) {
  const Figure* wall = e.figure("fit.wall");
  session.progress("  [" + result.spec.name + "] " + what + ": " +
                   (e.ok ? "ok" + (wall ? " (fit " + format_quantity(wall->value, "s") + ")" : std::string())
                         : "FAILED: " + e.error));
}

std::string seed_text(int rep) { return "seed " + std::to_string(rep); }

// ---- online ----------------------------------------------------------------------------------

// The prefix sentences of the raw test rows: [p - 1] holds textualise() over the first p numeric
// feature columns, which is the template's sentence cut after the p-th "<feat> is <val> ".
struct Prefixes {
  std::vector<std::string> features;
  std::vector<std::vector<std::string>> sentences;
};

Prefixes build_prefixes(const Table& raw_test, int max_features, const std::string& dataset) {
  Prefixes out;
  std::vector<const Column*> numeric;
  for (const Column& c : raw_test.columns()) {
    if (c.type() == ColumnType::kNumeric) numeric.push_back(&c);
  }
  if (numeric.empty()) throw DataError("dataset '" + dataset + "' has no numeric feature columns to build prefixes of");
  if (max_features > 0 && static_cast<std::size_t>(max_features) < numeric.size()) numeric.resize(max_features);
  Table prefix;
  for (const Column* c : numeric) {
    prefix.add_column(*c);
    out.features.push_back(c->name());
    out.sentences.push_back(textualise(prefix));
  }
  return out;
}

// Online detection needs the model's sentences to be the template's: count the test rows whose
// sentence starts with (or, at every feature, equals) the longest prefix.
std::size_t rows_matching(const Prefixes& prefixes, const Column& text, bool whole) {
  const auto& longest = prefixes.sentences.back();
  std::size_t n = 0;
  for (std::size_t r = 0; r < longest.size(); ++r) {
    const std::string& s = text.texts()[r];
    n += whole ? s == longest[r] : s.compare(0, longest[r].size(), longest[r]) == 0;
  }
  return n;
}

void online_dataset(Session& session, AnalysisResult& result, const ResolvedMethod& method, const std::string& name) {
  const AnalysisSpec& spec = result.spec;
  const DataView d = session.view(spec, name);
  const Table train = text_view(d.train, spec.text_column, name);
  const Table validation = d.validation.num_rows() > 0 ? text_view(d.validation, spec.text_column, name) : Table();
  const Table test = text_view(d.test, spec.text_column, name);
  const std::string column = train.column(0).name();
  const int classes = train.label().num_classes();

  const Prefixes prefixes = build_prefixes(d.raw_test, spec.max_features, name);
  const std::size_t p_max = prefixes.features.size();
  std::size_t numeric_columns = 0;
  for (const Column& c : d.raw_test.columns()) numeric_columns += c.type() == ColumnType::kNumeric ? 1 : 0;
  const bool whole = p_max == numeric_columns;
  const std::size_t matching = d.raw_test.has_column(column) && d.raw_test.column(column).type() == ColumnType::kText
                                   ? rows_matching(prefixes, d.raw_test.column(column), whole)
                                   : 0;
  const std::size_t rows = test.num_rows();
  if (matching == 0) {
    throw DataError("dataset '" + name + "': no test sentence " + (whole ? "equals" : "starts with") +
                    " the template's sentence of its numeric features; online detection needs sentences written "
                    "by the Flow-Bench template (reader flowbench-text)");
  }
  if (matching < rows) {
    result.warnings.push_back(name + ": only " + std::to_string(matching) + " of " + std::to_string(rows) +
                              " test sentences " + (whole ? "equal" : "start with") +
                              " the template's sentence of their features: their prefixes are not what the model "
                              "was trained on");
  }
  if (result.features.empty()) result.features = prefixes.features;
  result.rules.push_back(name + ": " + std::to_string(matching) + " of " + std::to_string(rows) + " test sentences " +
                         (whole ? "equal" : "start with") + " textualise() of their first " + std::to_string(p_max) +
                         " numeric features (byte for byte)");

  for (int rep = 0; rep < spec.seeds; ++rep) {
    const AnalysisEntry& e = record(result, new_entry(session, result, "fit", name, "fit", rep), [&](AnalysisEntry& e) {
      const auto classifier = fit(method, train, &validation, classes, session.threads(), e);
      const Context ctx = context_for(e, session.threads());
      evaluate(*classifier, test, name, classes, ctx, e);
      const std::vector<int>& truth = test.label().values;
      std::vector<std::vector<int>> predicted(p_max);
      for (std::size_t p = 0; p < p_max; ++p) {
        Table t;
        t.add_column(Column::text(column, prefixes.sentences[p]));
        predicted[p] = argmax(predict(*classifier, t, classes, ctx));
        std::size_t right = 0;
        for (std::size_t r = 0; r < rows; ++r) right += predicted[p][r] == truth[r];
        e.prefix_accuracy.push_back(static_cast<double>(right) / static_cast<double>(rows));
      }
      e.first_right.assign(p_max + 1, 0);
      e.stable_from.assign(p_max + 1, 0);
      for (std::size_t r = 0; r < rows; ++r) {
        std::size_t first = p_max;  // "never"
        for (std::size_t p = 0; p < p_max && first == p_max; ++p) {
          if (predicted[p][r] == truth[r]) first = p;
        }
        std::size_t stable = p_max;  // "not right at P"
        for (std::size_t p = p_max; p-- > 0 && predicted[p][r] == truth[r];) stable = p;
        ++e.first_right[first];
        ++e.stable_from[stable];
      }
    });
    report(session, result, e, name + " " + seed_text(rep));
  }
}

// ---- debias ----------------------------------------------------------------------------------

// Label-balanced empty-input augmentation: `count` rows of "" whose labels cycle 0, 1, ..., K-1.
Table augmented(const Table& train, std::size_t count) {
  const Column& text = train.column(0);
  std::vector<std::string> texts = text.texts();
  Labels labels = train.label();
  for (std::size_t i = 0; i < count; ++i) {
    texts.emplace_back();
    labels.values.push_back(static_cast<int>(i % labels.classes.size()));
  }
  Table out;
  out.add_column(Column::text(text.name(), std::move(texts)));
  out.add_labels(std::move(labels));
  return out;
}

std::size_t augment_count(const AnalysisSpec& spec, std::size_t train_rows, std::size_t classes) {
  if (spec.augment > 0) return static_cast<std::size_t>(spec.augment);
  const auto one_percent = static_cast<std::size_t>(std::ceil(0.01 * static_cast<double>(train_rows)));
  return std::max(classes, (one_percent + classes - 1) / classes * classes);
}

void debias_dataset(Session& session, AnalysisResult& result, const ResolvedMethod& method, const std::string& name) {
  const AnalysisSpec& spec = result.spec;
  const DataView d = session.view(spec, name);
  const Table train = text_view(d.train, spec.text_column, name);
  const Table validation = d.validation.num_rows() > 0 ? text_view(d.validation, spec.text_column, name) : Table();
  const Table test = text_view(d.test, spec.text_column, name);
  const int classes = train.label().num_classes();
  const std::size_t count = augment_count(spec, train.num_rows(), static_cast<std::size_t>(classes));
  const Table train_after = augmented(train, count);
  Table empty;
  empty.add_column(Column::text(train.column(0).name(), {std::string()}));
  result.rules.push_back(name + ": " + std::to_string(count) + " empty-sentence rows added to " +
                         std::to_string(train.num_rows()) + " training rows (" +
                         (spec.augment > 0 ? "augment as given"
                                           : "1% of the training rows, rounded up to a multiple "
                                             "of the class count") +
                         "), labels cycling through the " + std::to_string(classes) + " classes");

  for (int rep = 0; rep < spec.seeds; ++rep) {
    for (const char* role : {"before", "after"}) {
      // Both fits of a repetition share its seed: the augmentation is the only difference.
      const AnalysisEntry& e =
          record(result, new_entry(session, result, role, name, "fit", rep), [&](AnalysisEntry& e) {
            const bool after = std::string(role) == "after";
            const auto classifier =
                fit(method, after ? train_after : train, &validation, classes, session.threads(), e);
            const Context ctx = context_for(e, session.threads());
            const Matrix p = predict(*classifier, empty, classes, ctx);
            e.empty_proba.assign(p.row(0), p.row(0) + p.cols);
            evaluate(*classifier, test, name, classes, ctx, e);
          });
      report(session, result, e, name + " " + role + " augmentation, " + seed_text(rep));
    }
  }
}

// ---- transfer --------------------------------------------------------------------------------

using Views = std::map<std::string, DataView>;

Views views_of(Session& session, const AnalysisSpec& spec) {
  Views views;
  for (const std::string& name : spec.datasets) views.emplace(name, session.view(spec, name));
  return views;
}

void evaluate_all(const Views& views, const AnalysisSpec& spec, const Classifier& classifier, int classes,
                  const Context& ctx, AnalysisEntry& e) {
  std::string errors;
  for (const std::string& on : spec.datasets) {
    try {
      evaluate(classifier, views.at(on).test, on, classes, ctx, e);
    } catch (const std::exception& ex) {
      errors += (errors.empty() ? "" : "; ") + std::string("evaluating on '") + on + "': " + ex.what();
    }
  }
  if (!errors.empty()) {
    e.ok = false;
    e.error = errors;
  }
}

}  // namespace

void run_online(Session& session, AnalysisResult& result) {
  const ResolvedMethod method = session.registry().resolve_method(result.spec.method);
  result.rules.push_back(
      "Online detection: the model is fitted on the training part's full sentences; each test row is predicted "
      "from the sentences of its first p features (p = 1..P, textualise() of the raw test row's first p numeric "
      "feature columns, the template's prefix). \"First right\" is the smallest p whose prediction equals the "
      "label (\"never\" when none does); \"stable from\" is the smallest p from which every longer prefix is "
      "predicted right.");
  for (const std::string& name : result.spec.datasets) online_dataset(session, result, method, name);
}

void run_debias(Session& session, AnalysisResult& result) {
  const ResolvedMethod method = session.registry().resolve_method(result.spec.method);
  result.rules.push_back(
      "Debiasing: P(class | \"\") is the prediction for the empty sentence after fitting on the training part "
      "(before) and on the training part plus label-balanced empty-sentence rows (after); both fits of a "
      "repetition use the same seed.");
  for (const std::string& name : result.spec.datasets) debias_dataset(session, result, method, name);
}

void run_transfer(Session& session, AnalysisResult& result) {
  const AnalysisSpec& spec = result.spec;
  const Registry& registry = session.registry();
  const ResolvedMethod plain = registry.resolve_method(spec.method);
  const int classes = static_cast<int>(result.classes.size());
  const Views views = views_of(session, spec);
  const DataView& target = views.at(spec.target);
  result.rules.push_back(
      "Transfer: one fit per dataset on its training part (early stopping on its own validation part), evaluated "
      "on every dataset's test part. Then for " +
      spec.source + " -> " + spec.target +
      ": the first n rows of a seeded shuffle of the target training part (nested amounts), fitted once "
      "continuing from the " +
      spec.source +
      "-trained model (weights = its saved directory) and once from the "
      "method's own starting point, without validation rows (the declared epochs run); evaluated on the target "
      "test part. n = 0 is the " +
      spec.source + " model itself.");
  for (std::size_t n : spec.target_rows) {
    if (n > target.train.num_rows()) {
      result.warnings.push_back(spec.target + " has " + std::to_string(target.train.num_rows()) +
                                " training rows: the amount " + std::to_string(n) + " uses all of them");
    }
  }
  for (int rep = 0; rep < spec.seeds; ++rep) {
    std::string source_dir, cannot_continue;
    for (const std::string& name : spec.datasets) {
      const DataView& parts = views.at(name);
      ResolvedMethod method = plain;
      if (name == spec.source) {
        try {
          source_dir = session.model_dir(spec, "source-" + name + "-rep" + std::to_string(rep));
          method = with_overrides(registry, spec.method, {{"save", source_dir}});
        } catch (const std::exception& e) {
          cannot_continue = e.what();
        }
      }
      const AnalysisEntry& e =
          record(result, new_entry(session, result, "matrix", name, "matrix", rep), [&](AnalysisEntry& e) {
            const auto c = fit(method, parts.train, &parts.validation, classes, session.threads(), e);
            evaluate_all(views, spec, *c, classes, context_for(e, session.threads()), e);
          });
      if (name == spec.source && cannot_continue.empty() && e.figure("fit.wall") == nullptr) {
        cannot_continue = "the " + spec.source + " fit failed: " + e.error;
      }
      report(session, result, e, "trained on " + name + ", " + seed_text(rep));
    }

    std::vector<std::size_t> order(target.train.num_rows());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(session.seed(spec, spec.target, "subsample", rep));
    portable_shuffle(order, rng);
    for (std::size_t n : spec.target_rows) {
      std::vector<std::size_t> rows(order.begin(),
                                    order.begin() + static_cast<std::ptrdiff_t>(std::min(n, order.size())));
      std::sort(rows.begin(), rows.end());
      const Table subset = target.train.take(rows);
      for (const char* role : {"fine-tune", "scratch"}) {
        const bool fine = std::string(role) == "fine-tune";
        AnalysisEntry entry = new_entry(session, result, role, spec.target, "curve", rep);
        entry.info["target_rows.asked"] = std::to_string(n);
        if (fine) entry.info["continued_from"] = "the " + spec.source + "-trained model of this repetition";
        const AnalysisEntry& e = record(result, std::move(entry), [&](AnalysisEntry& e) {
          if (fine && !cannot_continue.empty()) throw ConfigError(cannot_continue);
          const ResolvedMethod method = fine ? with_overrides(registry, spec.method, {{"weights", source_dir}}) : plain;
          const auto c = fit(method, subset, nullptr, classes, session.threads(), e);
          evaluate(*c, target.test, spec.target, classes, context_for(e, session.threads()), e);
        });
        report(
            session, result, e,
            std::string(role) + " on " + std::to_string(rows.size()) + " " + spec.target + " rows, " + seed_text(rep));
      }
    }
  }
}

void run_forgetting(Session& session, AnalysisResult& result) {
  const AnalysisSpec& spec = result.spec;
  const Registry& registry = session.registry();
  const std::string& d1 = spec.datasets[0];
  const std::string& d2 = spec.datasets[1];
  const int classes = static_cast<int>(result.classes.size());
  result.rules.push_back(
      "Catastrophic forgetting: fit on " + d1 + " (D1) and save; then continue from that model on " + d2 +
      " (D2) once with all parameters (" + result.method + ") and once linear-only (" + result.linear_method +
      "); every stage stops early on its own dataset's validation part and is evaluated on both test parts. Both "
      "D2 stages of a repetition use the same seed.");
  if (!spec.published_accuracy.empty()) {
    result.rules.push_back("Published (" + spec.published_source + "): accuracy on D1's test part " +
                           format_double(spec.published_accuracy[0]) + " after D1, " +
                           format_double(spec.published_accuracy[1]) + " after all-parameter SFT on D2, " +
                           format_double(spec.published_accuracy[2]) + " after linear-only SFT on D2.");
  }
  const Views views = views_of(session, spec);
  const DataView& p1 = views.at(d1);
  const DataView& p2 = views.at(d2);
  for (int rep = 0; rep < spec.seeds; ++rep) {
    std::string dir, stage_one_error;
    const AnalysisEntry& first = record(result, new_entry(session, result, "d1", d1, "d1", rep), [&](AnalysisEntry& e) {
      dir = session.model_dir(spec, "d1-rep" + std::to_string(rep));
      const ResolvedMethod method = with_overrides(registry, spec.method, {{"save", dir}});
      const auto c = fit(method, p1.train, &p1.validation, classes, session.threads(), e);
      evaluate_all(views, spec, *c, classes, context_for(e, session.threads()), e);
    });
    if (first.figure("fit.wall") == nullptr) stage_one_error = "the D1 stage failed: " + first.error;
    report(session, result, first, "SFT on " + d1 + ", " + seed_text(rep));
    for (const char* role : {"full-d2", "linear-d2"}) {
      const bool linear = std::string(role) == "linear-d2";
      AnalysisEntry entry = new_entry(session, result, role, d2, "d2", rep);
      if (linear) entry.method = result.linear_method;
      entry.info["continued_from"] = "the " + d1 + "-trained model of this repetition";
      const AnalysisEntry& e = record(result, std::move(entry), [&](AnalysisEntry& e) {
        if (!stage_one_error.empty()) throw ModelError(stage_one_error);
        const ResolvedMethod method =
            with_overrides(registry, linear ? spec.linear_method : spec.method, {{"weights", dir}});
        const auto c = fit(method, p2.train, &p2.validation, classes, session.threads(), e);
        evaluate_all(views, spec, *c, classes, context_for(e, session.threads()), e);
      });
      report(session, result, e,
             std::string(linear ? "linear-only" : "all-parameter") + " SFT on " + d2 + ", " + seed_text(rep));
    }
  }
}

}  // namespace analysis_detail
}  // namespace opsbench
