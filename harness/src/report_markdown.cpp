#include "opsbench/harness/report_markdown.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "opsbench/core/error.h"
#include "refine_report.h"

namespace opsbench {

namespace {

// Table cells: a pipe would end the cell and a newline the row.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string code(const std::string& text) {
  return text.find('`') == std::string::npos ? "`" + cell(text) + "`" : "``" + cell(text) + "``";
}

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

// `align` has one letter per column: 'l' left (names, text), 'r' right (numbers); missing letters
// repeat the last one.
std::string header(const std::vector<std::string>& names, const std::string& align) {
  std::string out = row(names) + "|";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const char a = align.empty() ? 'l' : align[std::min(i, align.size() - 1)];
    out += a == 'r' ? " ---: |" : " --- |";
  }
  return out + "\n";
}

std::string percent(double level) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%g%%", level * 100);
  return buffer;
}

std::string figure_text(const FigureSummary* f) {
  if (f == nullptr) return "—";
  if (!f->available) return "unavailable (" + cell(f->reason) + ")";
  return format_quantity(f->median, f->unit);
}

std::string signed_metric(double v) { return (v >= 0 ? "+" : "−") + format_metric(std::fabs(v)); }

// Figure names present in any method of a dataset, in first-seen order.
std::vector<std::string> figure_names(const DatasetSummary& ds) {
  std::vector<std::string> names;
  for (const MethodSummary& m : ds.methods) {
    for (const FigureSummary& f : m.figures) {
      if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
    }
  }
  return names;
}

bool is_energy(const std::string& name) { return name == "energy" || name.rfind("energy.", 0) == 0; }

// Batch sizes with latency figures, ascending.
std::vector<long> latency_batches(const std::vector<std::string>& names) {
  std::set<long> sizes;
  for (const std::string& name : names) {
    long n = 0;
    if (std::sscanf(name.c_str(), "latency.b%ld.", &n) == 1) sizes.insert(n);
  }
  return {sizes.begin(), sizes.end()};
}

void render_environment(const ReportModel& model, std::ostringstream& out) {
  out << "## Environment\n\n";
  if (model.environment.facts.empty()) {
    out << "No environment was recorded.\n\n";
    return;
  }
  out << header({"fact", "value"}, "l");
  for (const auto& [key, value] : model.environment.facts) out << row({code(key), cell(value)});
  out << "\n";
}

void render_data_files(const ReportModel& model, std::ostringstream& out) {
  if (model.data_files.empty()) return;
  out << "## Data files\n\nEvery file the cells read, as stored (compressed or not).\n\n";
  // Long lists (one file per DAG run) fold away so they do not bury the results.
  const bool fold = model.data_files.size() > 10;
  if (fold) out << "<details><summary>" << model.data_files.size() << " files</summary>\n\n";
  out << header({"file", "bytes", "sha256"}, "lrl");
  for (const DataFile& f : model.data_files) {
    out << row({code(f.path), std::to_string(f.bytes), code(f.sha256)});
  }
  out << (fold ? "\n</details>\n\n" : "\n");
}

void render_quality(const ReportModel& model, const DatasetSummary& ds, std::ostringstream& out) {
  out << "### Quality\n\nMean ± " << percent(model.ci_level)
      << " confidence half-width (Student t) over repetitions; sd = standard deviation over repetitions; n = ok cells with the metric";
  if (!ds.primary_metric.empty()) out << "; primary metric: **" << ds.primary_metric << "**";
  out << ".\n\n";
  if (ds.metric_names.empty()) {
    out << "No quality metrics were recorded.\n\n";
    return;
  }
  std::vector<std::string> names{"method", "cells ok/failed"};
  for (const std::string& m : ds.metric_names) names.push_back(m);
  out << header(names, "lr");
  for (const MethodSummary& m : ds.methods) {
    std::vector<std::string> cells{code(m.method), std::to_string(m.n_ok) + "/" + std::to_string(m.n_failed)};
    for (const std::string& name : ds.metric_names) {
      const MetricSummary* s = m.metric(name);
      cells.push_back(s == nullptr ? "—"
                                   : format_metric(s->stats.mean) + " ± " + format_metric(s->stats.half_width) +
                                         " (sd " + format_metric(s->stats.stddev) + ", n=" +
                                         std::to_string(s->stats.n) + ")");
    }
    out << row(cells);
  }
  out << "\n";
}

void render_costs(const DatasetSummary& ds, std::ostringstream& out) {
  const std::vector<std::string> all = figure_names(ds);
  // Time and memory: the phase figures and the model size, in a fixed order, present ones only.
  // Detectors have a score phase, classifiers a predict phase (core/measure.h names).
  const char* const kColumns[][2] = {{"fit.wall", "fit wall"},
                                     {"fit.cpu", "fit CPU"},
                                     {"score.wall", "score wall"},
                                     {"score.cpu", "score CPU"},
                                     {"predict.wall", "predict wall"},
                                     {"predict.cpu", "predict CPU"},
                                     {"fit.peak_rss", "fit peak RSS"},
                                     {"score.peak_rss", "score peak RSS"},
                                     {"predict.peak_rss", "predict peak RSS"},
                                     {"fit.cuda_peak_allocated", "fit GPU peak"},
                                     {"score.cuda_peak_allocated", "score GPU peak"},
                                     {"predict.cuda_peak_allocated", "predict GPU peak"},
                                     {"model_size", "model size"}};
  std::vector<std::pair<std::string, std::string>> columns;
  for (const auto& c : kColumns) {
    if (std::find(all.begin(), all.end(), c[0]) != all.end()) columns.emplace_back(c[0], c[1]);
  }
  if (!columns.empty()) {
    out << "### Time and memory\n\nMedian over ok cells. Wall time from the steady clock, CPU time from "
           "getrusage (all threads), peak RSS from VmHWM reset per phase.\n\n";
    std::vector<std::string> names{"method"};
    for (const auto& c : columns) names.push_back(c.second);
    out << header(names, "lr");
    for (const MethodSummary& m : ds.methods) {
      std::vector<std::string> cells{code(m.method)};
      for (const auto& c : columns) cells.push_back(figure_text(m.figure(c.first)));
      out << row(cells);
    }
    out << "\n";
  }
  const std::vector<long> batches = latency_batches(all);
  if (!batches.empty()) {
    out << "### Latency\n\nSeconds per batch of the score (detectors) or predict (classifiers) call (warm-up "
           "batches excluded) and throughput; "
           "median over ok cells.\n\n";
    out << header({"method", "batch", "p50", "p95", "p99", "throughput"}, "lr");
    for (const MethodSummary& m : ds.methods) {
      for (long b : batches) {
        const std::string prefix = "latency.b" + std::to_string(b) + ".";
        if (m.figure(prefix + "p50") == nullptr && m.figure(prefix + "throughput") == nullptr) continue;
        out << row({code(m.method), std::to_string(b), figure_text(m.figure(prefix + "p50")),
                    figure_text(m.figure(prefix + "p95")), figure_text(m.figure(prefix + "p99")),
                    figure_text(m.figure(prefix + "throughput"))});
      }
    }
    out << "\n";
  }
}

void render_energy(const ReportModel& model, const DatasetSummary& ds, std::ostringstream& out) {
  std::vector<std::string> names;
  for (const std::string& n : figure_names(ds)) {
    if (is_energy(n)) names.push_back(n);
  }
  if (names.empty()) return;
  out << "### Energy\n\n";
  bool any = false;
  for (const MethodSummary& m : ds.methods) {
    for (const std::string& n : names) {
      const FigureSummary* f = m.figure(n);
      any = any || (f != nullptr && f->available);
    }
  }
  if (!any) {
    std::string reason = model.energy_reason;
    if (reason.empty()) reason = "no energy source";
    out << "Energy: unavailable (" << cell(reason) << "). No number is shown that was not measured.\n\n";
    return;
  }
  out << "Median over ok cells; net = gross − idle power × duration.\n\n";
  std::vector<std::string> head{"method"};
  for (const std::string& n : names) head.push_back(n);
  head.push_back("source");
  out << header(head, "l" + std::string(names.size(), 'r') + "l");
  for (const MethodSummary& m : ds.methods) {
    std::vector<std::string> cells{code(m.method)};
    std::string source;
    for (const std::string& n : names) {
      const FigureSummary* f = m.figure(n);
      cells.push_back(figure_text(f));
      if (f != nullptr && f->available && source.find(f->source) == std::string::npos) {
        source += (source.empty() ? "" : "; ") + f->source;
      }
    }
    cells.push_back(source.empty() ? "—" : cell(source));
    out << row(cells);
  }
  out << "\n";
}

void render_replication(const DatasetSummary& ds, std::ostringstream& out) {
  if (ds.replication.empty()) return;
  out << "### Replication\n\nPublished value against ours (mean ± CI half-width over repetitions); "
         "reproduced when |delta| ≤ tolerance.\n\n";
  out << header({"method", "metric", "published", "ours", "delta", "tolerance", "verdict", "source"}, "llrrrrll");
  for (const ReplicationRow& r : ds.replication) {
    const bool run = !r.method.empty();
    std::string source = cell(r.published.source);
    if (!r.published.note.empty()) source += " (" + cell(r.published.note) + ")";
    out << row({code(run ? r.method : r.published.method), r.published.metric, format_metric(r.published.value),
                run ? format_metric(r.ours.mean) + " ± " + format_metric(r.ours.half_width) + " (n=" +
                          std::to_string(r.ours.n) + ")"
                    : "—",
                run ? signed_metric(r.delta) : "—", format_metric(r.published.tolerance),
                r.verdict == "reproduced" ? "reproduced" : "**" + r.verdict + "**", source});
  }
  out << "\n";
}

void render_failed(const DatasetSummary& ds, std::ostringstream& out) {
  if (ds.failed.empty()) return;
  out << "### Failed cells\n\n";
  for (const FailedCell& f : ds.failed) {
    out << "- " << code(f.method) << " repetition " << f.repetition << " (seed " << f.seed
        << "): " << cell(f.error) << "\n";
  }
  out << "\n";
}

void render_plots(const DatasetSummary& ds, const PlotSet& plots, std::ostringstream& out) {
  std::vector<const PlotFile*> mine;
  for (const PlotFile& p : plots.files) {
    if (p.dataset == ds.name) mine.push_back(&p);
  }
  if (mine.empty()) return;
  out << "### Plots\n\n";
  if (!plots.available) {
    out << "Plots unavailable: " << plots.unavailable_reason << ".\n\n";
    return;
  }
  for (const PlotFile* p : mine) {
    out << "![" << cell(p->title) << "](" << p->svg << ")\n\n[" << p->kind << " (PNG)](" << p->png << ")\n\n";
  }
}

// Refine's lineage across datasets (only when some cell wrote refine.iter.* figures).
void render_refine(const ReportModel& model, const PlotSet& plots, std::ostringstream& out) {
  if (!has_refine_figures(model)) return;
  out << "## Refine iterations\n\n"
         "Lineage of the `refine` cells, median over ok cells per dataset. F1, precision and recall are macro "
         "averages on the test rows with Refine's own threshold (the 99th percentile of the reconstruction MAE of "
         "the training rows left); the quality table above thresholds every method by the suite's policy instead. "
         "The anomaly ratio left is computed from training labels for evaluation only: Refine never reads them.\n\n";
  auto table = [&](const std::string& name, const std::string& title, bool counts) {
    const std::vector<RefineSeries> series = refine_series(model, name);
    if (series.empty()) return;
    int last = 0;
    for (const auto& s : series) last = std::max(last, s.points.back().first);
    out << "### " << title << "\n\n";
    std::vector<std::string> names{"iteration"};
    for (const auto& s : series) names.push_back(code(s.dataset));
    out << header(names, "r");
    for (int it = 1; it <= last; ++it) {
      std::vector<std::string> cells{std::to_string(it)};
      for (const auto& s : series) {
        std::string v = "—";
        for (const auto& [i, value] : s.points) {
          if (i == it) v = counts ? std::to_string(std::llround(value)) : format_metric(value);
        }
        cells.push_back(v);
      }
      out << row(cells);
    }
    out << "\n";
  };
  table("f1_macro", "Macro F1 per iteration (paper Fig. 6)", false);
  table("anomaly_ratio_left", "Anomaly ratio of the training rows left (paper Fig. 7)", false);
  table("samples_left", "Training rows left", true);
  table("knee_epoch", "Knee epoch (Kneedle on the training curve)", true);

  out << "### Stage times (paper Table III)\n\nSteady-clock wall time per stage: the first iteration, the mean "
         "per iteration and the sum over all iterations of a cell (median over cells).\n\n";
  out << header({"dataset", "method", "stage", "first iteration", "mean per iteration", "all iterations"}, "lllr");
  for (const DatasetSummary& ds : model.datasets) {
    for (const MethodSummary& m : ds.methods) {
      const FigureSummary* iterations = m.figure("refine.iterations");
      if (iterations == nullptr || !iterations->available || iterations->median <= 0) continue;
      for (const std::string& stage : refine_stages()) {
        const FigureSummary* total = m.figure("refine.stage." + stage);
        std::string mean = "—";
        if (total != nullptr && total->available) mean = format_quantity(total->median / iterations->median, "s");
        out << row({code(ds.name), code(m.method), stage, figure_text(m.figure("refine.iter.1.time." + stage)), mean,
                    figure_text(total)});
      }
    }
  }
  out << "\n";
  std::vector<const PlotFile*> mine;
  for (const PlotFile& p : plots.files) {
    if (p.kind.rfind("refine-", 0) == 0) mine.push_back(&p);
  }
  if (mine.empty()) return;
  out << "### Refine plots\n\n";
  if (!plots.available) {
    out << "Plots unavailable: " << plots.unavailable_reason << ".\n\n";
    return;
  }
  for (const PlotFile* p : mine) {
    out << "![" << cell(p->title) << "](" << p->svg << ")\n\n[" << p->kind << " (PNG)](" << p->png << ")\n\n";
  }
}

}  // namespace

std::string format_metric(double value) {
  if (!std::isfinite(value)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  if (std::string(buffer) == "-0.000") return "0.000";
  return buffer;
}

std::string format_significant(double value) {
  if (!std::isfinite(value)) return "n/a";
  if (value == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  const int decimals = std::max(0, 2 - magnitude);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string format_quantity(double value, const std::string& unit) {
  if (!std::isfinite(value)) return "n/a";
  const double a = std::fabs(value);
  if (unit == "s") {
    if (a == 0) return "0 s";
    if (a < 1e-6) return format_significant(value * 1e9) + " ns";
    if (a < 1e-3) return format_significant(value * 1e6) + " µs";
    if (a < 1) return format_significant(value * 1e3) + " ms";
    if (a < 120) return format_significant(value) + " s";
    if (a < 7200) return format_significant(value / 60) + " min";
    return format_significant(value / 3600) + " h";
  }
  if (unit == "bytes" || unit == "B") {
    const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = value;
    int i = 0;
    while (std::fabs(v) >= 1024 && i < 5) {
      v /= 1024;
      ++i;
    }
    return (i == 0 ? std::to_string(static_cast<long long>(v)) : format_significant(v)) + " " + kUnits[i];
  }
  if (unit == "samples/s" || unit == "J" || unit == "W") {
    const char* const kPrefix[] = {"", "k", "M", "G"};
    if (unit == "J" && a > 0 && a < 1) return format_significant(value * 1e3) + " mJ";
    double v = value;
    int i = 0;
    while (std::fabs(v) >= 1000 && i < 3) {
      v /= 1000;
      ++i;
    }
    const std::string sep = unit == "samples/s" ? "" : " ";
    return unit == "samples/s" ? format_significant(v) + kPrefix[i] + " samples/s"
                               : format_significant(v) + sep + kPrefix[i] + unit;
  }
  return unit.empty() ? format_significant(value) : format_significant(value) + " " + unit;
}

std::string render_markdown(const ReportModel& model, const ReportOptions& options) {
  std::ostringstream out;
  out << "# " << model.title << "\n\n";
  if (!model.description.empty()) out << model.description << "\n\n";
  for (const std::string& w : model.warnings) out << "> **WARNING:** " << cell(w) << "\n>\n";
  if (!model.warnings.empty()) out << "\n";
  std::size_t methods = 0;
  for (const DatasetSummary& ds : model.datasets) methods = std::max(methods, ds.methods.size());
  out << "Suite " << code(model.suite) << ": " << model.n_cells << " cells (" << (model.n_cells - model.n_failed)
      << " ok, " << model.n_failed << " failed) over " << model.datasets.size() << " dataset(s) and up to "
      << methods << " method(s) per dataset.\n\n";
  render_environment(model, out);
  render_data_files(model, out);
  for (const DatasetSummary& ds : model.datasets) {
    out << "## Dataset " << code(ds.name) << "\n\n";
    if (!ds.description.empty()) out << ds.description << "\n\n";
    if (ds.synthetic) out << "**Synthetic data**: generated look-alike rows, not real measurements.\n\n";
    if (ds.methods.empty()) {
      out << "No cells stored for this dataset.\n\n";
      continue;
    }
    render_quality(model, ds, out);
    render_costs(ds, out);
    render_energy(model, ds, out);
    render_replication(ds, out);
    render_failed(ds, out);
    render_plots(ds, options.plots, out);
  }
  render_refine(model, options.plots, out);
  std::string text = out.str();
  while (text.size() >= 2 && text[text.size() - 1] == '\n' && text[text.size() - 2] == '\n') text.pop_back();
  return text;
}

std::string write_report(const ReportModel& model, const std::string& out_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw Error("cannot create report directory " + out_dir + ": " + ec.message());
  ReportOptions options;
  options.plots = write_plots(model, out_dir, find_gnuplot());
  const std::string path = (fs::path(out_dir) / "report.md").string();
  std::ofstream out(path, std::ios::binary);
  out << render_markdown(model, options);
  out.close();
  if (!out) throw Error("cannot write report " + path);
  return path;
}

std::string mask_volatile(const std::string& report) {
  // Order matters: dates before plain numbers with units, so a time of day is not read as seconds.
  static const std::regex kDate(R"(\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?)");
  static const std::regex kCommit(R"(\b[0-9a-f]{40}\b)");
  static const std::regex kTime(R"(-?\d+(\.\d+)? (ns|µs|ms|s|min|h)\b)");
  static const std::regex kBytes(R"(-?\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB)\b)");
  static const std::regex kRate(R"(-?\d+(\.\d+)?[kMG]? samples/s)");
  static const std::regex kEnergy(R"(-?\d+(\.\d+)? (mJ|J|kJ|MJ|GJ|W|kW)\b)");
  std::string s = std::regex_replace(report, kDate, "<date>");
  s = std::regex_replace(s, kCommit, "<commit>");
  s = std::regex_replace(s, kTime, "<time>");
  s = std::regex_replace(s, kBytes, "<bytes>");
  s = std::regex_replace(s, kRate, "<rate>");
  s = std::regex_replace(s, kEnergy, "<energy>");
  return s;
}

}  // namespace opsbench
