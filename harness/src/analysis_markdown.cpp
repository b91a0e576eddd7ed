// analysis.md and its plots (analysis.h). Numbers are formatted as in report.md (report_markdown.h):
// quality with 3 decimals, times in human units, so mask_volatile() masks the same things.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis_internal.h"
#include "gnuplot_script.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/report_markdown.h"

namespace opsbench {
namespace {

namespace fs = std::filesystem;
using namespace analysis_detail;

constexpr std::size_t kFilesListed = 5;

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string code(const std::string& text) { return "`" + cell(text) + "`"; }

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

// `align` has one letter per column, 'l' (names, text) or 'r' (numbers); missing letters repeat the last.
std::string header(const std::vector<std::string>& names, const std::string& align) {
  std::string out = row(names) + "|";
  for (std::size_t i = 0; i < names.size(); ++i)
    out += align[std::min(i, align.size() - 1)] == 'r' ? " ---: |" : " --- |";
  return out + "\n";
}

// "0.812 ± 0.010" over several values, "0.812" for one, "–" for none.
std::string stat_text(const Stat& s) {
  if (s.n == 0) return "–";
  if (s.n == 1) return format_metric(s.mean);
  return format_metric(s.mean) + " ± " + format_metric(s.sd);
}

std::string count_text(double mean_count) {
  if (std::fabs(mean_count - std::round(mean_count)) < 1e-9) return std::to_string(std::llround(mean_count));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", mean_count);
  return buffer;
}

std::string percent(double part, double whole) {
  if (whole <= 0) return "–";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * part / whole);
  return buffer;
}

std::string plot_key(const std::string& analysis, const std::string& dataset) { return analysis + "/" + dataset; }

void render_plots(const PlotSet& plots, const std::string& key, std::ostringstream& out) {
  bool any = false;
  for (const PlotFile& p : plots.files) {
    if (p.dataset != key) continue;
    if (!any && !plots.available) out << "Plots unavailable: " << plots.unavailable_reason << ".\n\n";
    any = true;
    if (plots.available) out << "![" << cell(p.title) << "](" << p.svg << ")\n\n";
  }
}

void render_online(const AnalysisResult& r, const PlotSet& plots, std::ostringstream& out) {
  for (const OnlineSummary& s : online_summaries(r)) {
    out << "### " << s.dataset << "\n\n";
    const auto fits = entries_of(r, "fit", s.dataset);
    out << "Test rows: " << s.rows << "; fits: " << s.seeds << " of " << r.spec.seeds << ". Full sentences: F1 "
        << stat_text(quality_stat(fits, s.dataset, &Quality::f1)) << ", accuracy "
        << stat_text(quality_stat(fits, s.dataset, &Quality::accuracy)) << "."
        << (s.seeds > 1 ? " Counts are means over the fits." : "") << "\n\n";
    out << header({"p", "feature added", "accuracy", "first right (rows)", "share", "cumulative", "stable from (rows)"},
                  "llr");
    double cumulative = 0;
    const double rows = static_cast<double>(s.rows);
    for (std::size_t p = 0; p <= s.accuracy.size(); ++p) {
      const bool never = p == s.accuracy.size();
      cumulative += s.first_right[p];
      out << row({never ? "never" : std::to_string(p + 1),
                  never ? "" : (p < r.features.size() ? code(r.features[p]) : ""),
                  never ? "" : stat_text(s.accuracy[p]), count_text(s.first_right[p]), percent(s.first_right[p], rows),
                  never ? "" : percent(cumulative, rows), count_text(s.stable_from[p])});
    }
    out << "\n";
    render_plots(plots, plot_key(r.spec.name, s.dataset), out);
  }
}

void render_debias(const AnalysisResult& r, std::ostringstream& out) {
  std::vector<std::string> names = {"dataset", "training", "training rows"};
  for (const std::string& c : r.classes) names.push_back("P(" + c + " \\| \"\")");
  names.insert(names.end(), {"test F1", "test accuracy", "fits"});
  out << header(names, "llr");
  for (const DebiasRow& d : debias_rows(r)) {
    std::vector<std::string> cells = {code(d.dataset), d.role == "before" ? "as given" : "+ empty sentences",
                                      std::to_string(d.train_rows)};
    for (const Stat& p : d.empty_proba) cells.push_back(stat_text(p));
    cells.insert(cells.end(), {stat_text(d.f1), stat_text(d.accuracy), std::to_string(d.f1.n)});
    out << row(cells);
  }
  out << "\nMean ± sample standard deviation over the fits.\n\n";
}

void render_transfer(const AnalysisResult& r, const PlotSet& plots, std::ostringstream& out) {
  for (const auto& [title, field] :
       {std::pair<const char*, double Quality::*>{"F1", &Quality::f1}, {"Accuracy", &Quality::accuracy}}) {
    out << "**" << title << "** (rows: trained on; columns: evaluated on)\n\n";
    std::vector<std::string> names = {"trained on"};
    for (const std::string& d : r.spec.datasets) names.push_back(code(d));
    out << header(names, "lr");
    for (const std::string& from : r.spec.datasets) {
      std::vector<std::string> cells = {code(from)};
      const auto fits = entries_of(r, "matrix", from);
      std::vector<const AnalysisEntry*> all;  // evaluations of fits that failed elsewhere count too
      for (const AnalysisEntry& e : r.entries) {
        if (e.role == "matrix" && e.dataset == from) all.push_back(&e);
      }
      for (const std::string& on : r.spec.datasets) cells.push_back(stat_text(quality_stat(all, on, field)));
      out << row(cells);
    }
    out << "\n";
  }
  out << "**" << r.spec.source << " → " << r.spec.target << "** with growing amounts of target training rows "
      << "(target test part)\n\n";
  out << header({"target rows", "fine-tuned F1", "fine-tuned accuracy", "from scratch F1", "from scratch accuracy"},
                "r");
  for (const TransferCurvePoint& p : transfer_curve(r)) {
    out << row({p.rows == 0 ? "0 (the " + r.spec.source + " model)" : std::to_string(p.rows), stat_text(p.fine_tune_f1),
                stat_text(p.fine_tune_accuracy), p.rows == 0 ? "" : stat_text(p.scratch_f1),
                p.rows == 0 ? "" : stat_text(p.scratch_accuracy)});
  }
  out << "\n";
  render_plots(plots, plot_key(r.spec.name, r.spec.target), out);
}

void render_forgetting(const AnalysisResult& r, std::ostringstream& out) {
  const std::string& d1 = r.spec.datasets[0];
  const std::string& d2 = r.spec.datasets[1];
  const bool published = !r.spec.published_accuracy.empty();
  std::vector<std::string> names = {"stage",          "method",          d1 + " accuracy", d1 + " precision",
                                    d2 + " accuracy", d2 + " precision", "fit time",       "fits"};
  if (published) names.push_back("published " + d1 + " accuracy");
  out << header(names, "llr");
  const char* roles[] = {"d1", "full-d2", "linear-d2"};
  const std::string labels[] = {"SFT on " + d1, "+ all parameters on " + d2, "+ linear only on " + d2};
  for (int i = 0; i < 3; ++i) {
    const auto fits = entries_of(r, roles[i]);
    std::vector<double> seconds;
    for (const AnalysisEntry* e : fits) {
      if (const Figure* f = e->figure("fit.wall")) seconds.push_back(f->value);
    }
    const Stat time = stat(seconds);
    const std::string& spec = i == 2 ? r.linear_method : r.method;
    std::vector<std::string> cells = {labels[i],
                                      code(spec.substr(0, spec.find(':'))),
                                      stat_text(quality_stat(fits, d1, &Quality::accuracy)),
                                      stat_text(quality_stat(fits, d1, &Quality::precision)),
                                      stat_text(quality_stat(fits, d2, &Quality::accuracy)),
                                      stat_text(quality_stat(fits, d2, &Quality::precision)),
                                      time.n == 0 ? "–" : format_quantity(time.mean, "s"),
                                      std::to_string(fits.size())};
    if (published) cells.push_back(format_double(r.spec.published_accuracy[static_cast<std::size_t>(i)]));
    out << row(cells);
  }
  out << "\n";
  if (published) {
    out << "Published values (" << r.spec.published_source
        << ") are context, not a replication target: they come from the paper's models, data split and "
           "hardware.\n\n";
  }
}

void render_failures(const AnalysisResults& results, std::ostringstream& out) {
  std::ostringstream rows;
  std::size_t n = 0;
  for (const AnalysisDataset& d : results.datasets) {
    if (d.error.empty()) continue;
    rows << row({"dataset " + code(d.spec.name), "read", "", "", cell(d.error)});
    ++n;
  }
  for (const AnalysisResult& r : results.analyses) {
    if (!r.error.empty()) {
      rows << row({code(r.spec.name), "whole analysis", "", "", cell(r.error)});
      ++n;
    }
    for (const AnalysisEntry& e : r.entries) {
      if (e.ok) continue;
      rows << row({code(r.spec.name), e.role, code(e.dataset), std::to_string(e.repetition), cell(e.error)});
      ++n;
    }
  }
  if (n == 0) return;
  out << "## Failures\n\n"
      << header({"analysis", "stage", "dataset", "repetition", "error"}, "lllrl") << rows.str() << "\n";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

// Data file and plot commands of one planned plot.
std::pair<std::string, std::string> plot_body(const AnalysisResults& results, const PlotFile& file,
                                              const fs::path& data) {
  std::ostringstream rows;
  std::string setup = "set title " + gp_quote(file.title) + "\nset grid ytics\n";
  std::string plot;
  for (const AnalysisResult& r : results.analyses) {
    if (r.spec.kind == AnalysisKind::kOnline) {
      for (const OnlineSummary& s : online_summaries(r)) {
        if (plot_key(r.spec.name, s.dataset) != file.dataset) continue;
        const bool histogram = file.kind == "online-first-right";
        rows << "# p label " << (histogram ? "first_right_rows" : "accuracy_mean accuracy_sd") << "\n";
        for (std::size_t p = 0; p < s.first_right.size(); ++p) {
          const bool never = p + 1 == s.first_right.size();
          if (never && !histogram) break;
          const std::string label = never ? "never" : p < r.features.size() ? r.features[p] : std::to_string(p + 1);
          rows << p << " \"" << label << "\" ";
          rows << (histogram ? number(s.first_right[p]) : number(s.accuracy[p].mean) + " " + number(s.accuracy[p].sd))
               << "\n";
        }
        setup += "set key off\nset xtics rotate by -30 left nomirror\nset bmargin 9\nset xrange [-0.6:*]\n";
        if (histogram) {
          setup +=
              "set ylabel 'test rows first predicted right'\nset style fill solid 0.5 border -1\nset boxwidth "
              "0.6\nset yrange [0:*]\n";
          plot = "plot " + gp_quote(data.string()) + " using 1:3:xtic(2) with boxes lc rgb '#4e79a7'\n";
        } else {
          setup += "set ylabel 'test accuracy of the prefix'\nset yrange [0:1]\n";
          plot = "plot " + gp_quote(data.string()) + " using 1:3:4:xtic(2) with yerrorlines pt 7 lc rgb '#e15759'\n";
        }
      }
    }
    if (r.spec.kind == AnalysisKind::kTransfer && plot_key(r.spec.name, r.spec.target) == file.dataset) {
      rows << "# target_rows fine_tune_f1 fine_tune_sd scratch_f1 scratch_sd\n";
      for (const TransferCurvePoint& p : transfer_curve(r)) {
        rows << p.rows << ' ' << number(p.fine_tune_f1.n ? p.fine_tune_f1.mean : NAN) << ' '
             << number(p.fine_tune_f1.sd) << ' ' << number(p.scratch_f1.n ? p.scratch_f1.mean : NAN) << ' '
             << number(p.scratch_f1.sd) << "\n";
      }
      setup +=
          "set key bottom right\nset xlabel 'target training rows'\nset ylabel 'target test F1'\nset yrange "
          "[0:1]\nset offsets graph 0.02, graph 0.02, 0, 0\n";
      plot = "plot " + gp_quote(data.string()) + " using 1:2:3 with yerrorlines pt 7 title " +
             gp_quote("fine-tuned from " + r.spec.source) + ", '' using 1:4:5 with yerrorlines pt 5 title " +
             gp_quote("from scratch") + "\n";
    }
  }
  return {rows.str(), both_terminals(setup, plot, data.parent_path() / data.stem(), 560)};
}

}  // namespace

std::vector<PlotFile> plan_analysis_plots(const AnalysisResults& results) {
  std::vector<PlotFile> files;
  for (const AnalysisResult& r : results.analyses) {
    const std::string stem = "plots/" + safe_file_component(r.spec.name) + "-";
    if (r.spec.kind == AnalysisKind::kOnline) {
      for (const OnlineSummary& s : online_summaries(r)) {
        const std::string base = stem + safe_file_component(s.dataset);
        files.push_back({plot_key(r.spec.name, s.dataset), "online-first-right",
                         s.dataset + ": first prefix length predicted right (test rows)", base + "-first-right.svg",
                         base + "-first-right.png"});
        files.push_back({plot_key(r.spec.name, s.dataset), "online-accuracy",
                         s.dataset + ": test accuracy per prefix length", base + "-accuracy.svg",
                         base + "-accuracy.png"});
      }
    }
    if (r.spec.kind == AnalysisKind::kTransfer && !entries_of(r, "scratch").empty()) {
      files.push_back({plot_key(r.spec.name, r.spec.target), "transfer-curve",
                       r.spec.source + " -> " + r.spec.target + ": target test F1 per amount of target rows",
                       stem + "curve.svg", stem + "curve.png"});
    }
  }
  return files;
}

PlotSet write_analysis_plots(const AnalysisResults& results, const std::string& out_dir, const std::string& gnuplot) {
  PlotSet set;
  set.files = plan_analysis_plots(results);
  if (set.files.empty()) {
    set.available = true;
    return set;
  }
  const fs::path dir = make_plots_dir(out_dir, set);
  if (dir.empty()) return set;
  std::vector<fs::path> scripts;
  for (const PlotFile& file : set.files) {
    const fs::path base = dir / fs::path(file.svg).stem();
    const auto [data, script] = plot_body(results, file, base.string() + ".dat");
    std::ofstream(base.string() + ".dat", std::ios::binary) << data;
    std::ofstream(base.string() + ".gp", std::ios::binary) << script;
    scripts.push_back(base.string() + ".gp");
  }
  run_gnuplot_scripts(gnuplot, scripts, set);
  return set;
}

std::string render_analysis_markdown(const AnalysisResults& results, const PlotSet& plots) {
  std::ostringstream out;
  out << "# opsbench analyses: " << results.name << "\n\n";
  if (!results.description.empty()) out << results.description << "\n\n";
  std::vector<std::string> warnings = results.environment.warnings;
  for (const AnalysisResult& r : results.analyses) {
    for (const std::string& w : r.warnings) warnings.push_back(r.spec.name + ": " + w);
  }
  for (const AnalysisDataset& d : results.datasets) {
    if (d.synthetic)
      warnings.push_back("dataset '" + d.spec.name + "' is synthetic: the numbers say nothing about real data");
  }
  for (const std::string& w : warnings) out << "> **WARNING:** " << cell(w) << "\n>\n";
  if (!warnings.empty()) out << "\n";
  std::size_t fits = 0;
  for (const AnalysisResult& r : results.analyses) fits += r.entries.size();
  out << results.analyses.size() << " analyses, " << fits << " fits, " << results.failed()
      << " failed. File: " << code(results.path.empty() ? "(built in code)" : results.path) << ", seed " << results.seed
      << ". Canonical results: `analysis.json`; the format is described in docs/analyses.md.\n\n";

  out << "## Environment\n\n" << header({"fact", "value"}, "l");
  for (const auto& [key, value] : results.environment.facts) out << row({code(key), cell(value)});
  out << "\n## Datasets\n\n" << header({"dataset", "reader", "train", "validation", "test", "description"}, "llrrrl");
  for (const AnalysisDataset& d : results.datasets) {
    out << row({code(d.spec.name), code(d.spec.reader), std::to_string(d.train_rows), std::to_string(d.validation_rows),
                std::to_string(d.test_rows), cell(d.error.empty() ? d.description : "FAILED: " + d.error)});
  }
  out << "\n";
  // Readers of per-run traces consume hundreds of files: list a few, count the rest (the JSON has all).
  for (const AnalysisDataset& d : results.datasets) {
    if (d.files.empty()) continue;
    std::uint64_t bytes = 0;
    for (const DataFile& f : d.files) bytes += f.bytes;
    out << "Files of " << code(d.spec.name) << ": " << d.files.size() << ", "
        << format_quantity(static_cast<double>(bytes), "bytes") << " in all"
        << (d.files.size() > kFilesListed
                ? " (the first " + std::to_string(kFilesListed) + " below; every one with its sha256 in analysis.json)"
                : "")
        << ".\n\n"
        << header({"path", "bytes", "sha256"}, "lrl");
    for (std::size_t i = 0; i < d.files.size() && i < kFilesListed; ++i) {
      out << row({code(d.files[i].path), std::to_string(d.files[i].bytes), code(d.files[i].sha256)});
    }
    out << "\n";
  }

  for (const AnalysisResult& r : results.analyses) {
    out << "## " << r.spec.name << " (" << to_string(r.spec.kind) << ")\n\n";
    out << "Method " << code(r.method) << "; datasets ";
    for (std::size_t i = 0; i < r.spec.datasets.size(); ++i) out << (i ? ", " : "") << code(r.spec.datasets[i]);
    out << "; " << r.spec.seeds << (r.spec.seeds == 1 ? " seed" : " seeds") << "; ran for "
        << format_quantity(r.seconds, "s") << ".\n\n";
    for (const std::string& rule : r.rules) out << "- " << rule << "\n";
    if (!r.rules.empty()) out << "\n";
    if (!r.error.empty()) {
      out << "**Failed:** " << cell(r.error) << "\n\n";
      continue;
    }
    switch (r.spec.kind) {
      case AnalysisKind::kOnline:
        render_online(r, plots, out);
        break;
      case AnalysisKind::kDebias:
        render_debias(r, out);
        break;
      case AnalysisKind::kTransfer:
        render_transfer(r, plots, out);
        break;
      case AnalysisKind::kForgetting:
        render_forgetting(r, out);
        break;
    }
  }
  render_failures(results, out);
  return out.str();
}

std::vector<std::string> write_analysis_outputs(const AnalysisResults& results, const std::string& out_dir) {
  fs::create_directories(out_dir);
  const std::string json_path = (fs::path(out_dir) / "analysis.json").string();
  const std::string md_path = (fs::path(out_dir) / "analysis.md").string();
  {
    std::ofstream json(json_path, std::ios::binary);
    json << analysis_to_json(results);
    if (!json) throw Error("cannot write " + json_path);
  }
  const PlotSet plots = write_analysis_plots(results, out_dir, find_gnuplot());
  std::ofstream md(md_path, std::ios::binary);
  md << render_analysis_markdown(results, plots);
  if (!md) throw Error("cannot write " + md_path);
  return {json_path, md_path};
}

}  // namespace opsbench
