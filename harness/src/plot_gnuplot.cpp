#include "opsbench/harness/plot_gnuplot.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "gnuplot_script.h"
#include "refine_report.h"

namespace opsbench {

namespace {

namespace fs = std::filesystem;

struct ScatterAxis {
  std::string figure;  // "latency.b1024.p50" or "score.wall"
  std::string label;
};

// The x figure of the quality/latency plot: p50 at the largest batch size that every method with
// the primary metric measured, so that all points share one meaning; else score.wall.
ScatterAxis scatter_axis(const DatasetSummary& ds) {
  long best = -1;
  bool first = true;
  std::vector<long> common;
  for (const MethodSummary& m : ds.methods) {
    if (m.metric(ds.primary_metric) == nullptr) continue;
    std::vector<long> sizes;
    for (const FigureSummary& f : m.figures) {
      long n = 0;
      char tail[16] = {0};
      if (f.available && std::sscanf(f.name.c_str(), "latency.b%ld.%15s", &n, tail) == 2 &&
          std::string(tail) == "p50") {
        sizes.push_back(n);
      }
    }
    if (first) {
      common = sizes;
      first = false;
    } else {
      std::vector<long> kept;
      for (long n : common) {
        for (long s : sizes) {
          if (s == n) kept.push_back(n);
        }
      }
      common = kept;
    }
  }
  for (long n : common) best = std::max(best, n);
  if (best > 0) {
    const std::string b = std::to_string(best);
    return {"latency.b" + b + ".p50", "score latency per batch of " + b + ", p50 (s, log scale)"};
  }
  return {"score.wall", "score wall time (s, log scale)"};
}

bool has_primary(const DatasetSummary& ds) {
  if (ds.primary_metric.empty()) return false;
  for (const MethodSummary& m : ds.methods) {
    if (m.metric(ds.primary_metric) != nullptr) return true;
  }
  return false;
}

// Options of a canonical spec ("a=1", "b=2"), empty for a bare name.
std::vector<std::string> spec_options(const std::string& spec) {
  std::vector<std::string> out;
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return out;
  std::istringstream in(spec.substr(colon + 1));
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

// Axis labels: the registry name, plus only the options that tell same-named methods apart (full
// canonical specs are too long for an axis; the report's tables carry them).
std::string short_label(const DatasetSummary& ds, const MethodSummary& m) {
  std::vector<const MethodSummary*> same;
  for (const MethodSummary& other : ds.methods) {
    if (other.method_name == m.method_name) same.push_back(&other);
  }
  if (same.size() < 2) return m.method_name;
  std::string label = m.method_name;
  char sep = ':';
  for (const std::string& option : spec_options(m.method)) {
    bool shared = true;
    for (const MethodSummary* other : same) {
      const auto opts = spec_options(other->method);
      shared = shared && std::find(opts.begin(), opts.end(), option) != opts.end();
    }
    if (!shared) {
      label += sep + option;
      sep = ',';
    }
  }
  return label;
}

// Rows of the scatter: label, x, y. Methods without a positive x are left out (log axis).
std::vector<std::tuple<std::string, double, double>> scatter_rows(const DatasetSummary& ds,
                                                                   const ScatterAxis& axis) {
  std::vector<std::tuple<std::string, double, double>> rows;
  for (const MethodSummary& m : ds.methods) {
    const MetricSummary* y = m.metric(ds.primary_metric);
    const FigureSummary* x = m.figure(axis.figure);
    if (y == nullptr || x == nullptr || !x->available || !(x->median > 0)) continue;
    rows.emplace_back(short_label(ds, m), x->median, y->stats.mean);
  }
  return rows;
}

// A label inside a double-quoted data-file field: no quotes or backslashes survive.
std::string data_label(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"' || c == '\\') ? '\'' : c;
  return out + "\"";
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Refine plots (figures refine.iter.*): one gnuplot data block per series, separated by two blank
// lines so that `index i` selects series i. Returns the plot command; fills `rows` and `setup`.
std::string refine_plot(const ReportModel& model, const PlotFile& file, const fs::path& data, std::ostringstream& rows,
                        std::string& setup) {
  std::vector<std::string> titles;
  if (file.kind == "refine-f1-by-dataset") {
    // The primary metric per method across datasets (the paper's Fig. 5: F1 per contamination).
    std::vector<std::string> methods;
    for (const DatasetSummary& ds : model.datasets) {
      for (const MethodSummary& m : ds.methods) {
        if (std::find(methods.begin(), methods.end(), m.method) == methods.end()) methods.push_back(m.method);
      }
    }
    for (const std::string& method : methods) {
      std::string label;
      rows << "# " << method << "\n";
      for (std::size_t d = 0; d < model.datasets.size(); ++d) {
        const DatasetSummary& ds = model.datasets[d];
        for (const MethodSummary& m : ds.methods) {
          if (m.method != method) continue;
          label = short_label(ds, m);
          if (const MetricSummary* s = m.metric(ds.primary_metric)) {
            rows << d << ' ' << number(s->stats.mean) << ' ' << number(s->stats.half_width) << ' ' << data_label(ds.name)
                 << '\n';
          }
        }
      }
      rows << "\n\n";
      titles.push_back(label.empty() ? method : label);
    }
    std::string xtics;
    for (std::size_t d = 0; d < model.datasets.size(); ++d) {
      xtics += (d ? ", " : "") + gp_quote(model.datasets[d].name) + " " + std::to_string(d);
    }
    const std::string metric = model.datasets.empty() ? "" : model.datasets.front().primary_metric;
    setup += "set key outside right\nset xtics (" + xtics + ") rotate by -25 left\nset bmargin 8\nset ylabel " +
             gp_quote(metric + " (mean +/- 95% CI)") + "\nset xrange [-0.5:" + std::to_string(model.datasets.size()) +
             "-0.5]\n";
    std::string plot = "plot ";
    for (std::size_t i = 0; i < titles.size(); ++i) {
      plot += (i ? ", " : "") + gp_quote(data.string()) + " index " + std::to_string(i) + " using 1:2:3 with yerrorlines title " +
              gp_quote(titles[i]);
    }
    return plot + "\n";
  }
  const bool f1 = file.kind == "refine-f1-iterations";
  for (const RefineSeries& s : refine_series(model, f1 ? "f1_macro" : "anomaly_ratio_left")) {
    rows << "# " << s.dataset << " " << s.method << "\n";
    for (const auto& [it, v] : s.points) rows << it << ' ' << number(v) << '\n';
    rows << "\n\n";
    titles.push_back(s.dataset);
  }
  setup += "set key outside right\nset xlabel 'iteration'\nset ylabel " +
           gp_quote(f1 ? "macro F1 on test (median over repetitions)" : "anomaly ratio of the training rows left (median)") +
           "\n";
  std::string plot = "plot ";
  for (std::size_t i = 0; i < titles.size(); ++i) {
    plot += (i ? ", " : "") + gp_quote(data.string()) + " index " + std::to_string(i) + " using 1:2 with linespoints title " +
            gp_quote(titles[i]);
  }
  return plot + "\n";
}

}  // namespace

std::string safe_file_component(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    const bool ok = std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
    out += ok ? static_cast<char>(c) : '_';
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

std::vector<PlotFile> plan_plots(const ReportModel& model) {
  std::vector<PlotFile> files;
  for (const DatasetSummary& ds : model.datasets) {
    if (!has_primary(ds)) continue;
    const std::string stem = "plots/" + safe_file_component(ds.name);
    files.push_back({ds.name, "primary", ds.name + ": " + ds.primary_metric + " per method (mean, 95% CI)",
                     stem + "-primary.svg", stem + "-primary.png"});
    const ScatterAxis axis = scatter_axis(ds);
    if (!scatter_rows(ds, axis).empty()) {
      files.push_back({ds.name, "quality-latency", ds.name + ": " + ds.primary_metric + " against " + axis.figure,
                       stem + "-quality-latency.svg", stem + "-quality-latency.png"});
    }
  }
  if (has_refine_figures(model)) {
    files.push_back({"all", "refine-f1-by-dataset", "primary metric per method and dataset (Refine paper Fig. 5)",
                     "plots/all-refine-f1-by-dataset.svg", "plots/all-refine-f1-by-dataset.png"});
    files.push_back({"all", "refine-f1-iterations", "Refine: macro F1 per iteration (paper Fig. 6)",
                     "plots/all-refine-f1-iterations.svg", "plots/all-refine-f1-iterations.png"});
    files.push_back({"all", "refine-anomaly-ratio", "Refine: anomaly ratio left per iteration (paper Fig. 7)",
                     "plots/all-refine-anomaly-ratio.svg", "plots/all-refine-anomaly-ratio.png"});
  }
  return files;
}

std::string find_gnuplot() {
  if (const char* forced = std::getenv("OPSBENCH_GNUPLOT")) {
    const std::string value = forced;
    return value == "none" ? std::string() : value;
  }
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

PlotSet write_plots(const ReportModel& model, const std::string& report_dir, const std::string& gnuplot) {
  PlotSet set;
  set.files = plan_plots(model);
  if (set.files.empty()) {
    set.available = true;
    return set;
  }
  const fs::path dir = make_plots_dir(report_dir, set);
  if (dir.empty()) return set;
  std::vector<fs::path> scripts;
  for (const PlotFile& file : set.files) {
    const DatasetSummary* ds = nullptr;
    for (const DatasetSummary& d : model.datasets) {
      if (d.name == file.dataset) ds = &d;
    }
    const fs::path base = dir / (safe_file_component(file.dataset) + "-" + file.kind);
    const fs::path data = base.string() + ".dat";
    std::ostringstream rows;
    std::string setup = "set title " + gp_quote(file.title) + "\nset grid ytics\nset key off\n";
    std::string plot;
    if (file.kind.rfind("refine-", 0) == 0) {
      setup = "set title " + gp_quote(file.title) + "\nset grid ytics\n";
      plot = refine_plot(model, file, data, rows, setup);
    } else if (file.kind == "primary") {
      rows << "# method mean ci_half_width n\n";
      for (const MethodSummary& m : ds->methods) {
        if (const MetricSummary* s = m.metric(ds->primary_metric)) {
          rows << data_label(short_label(*ds, m)) << ' ' << number(s->stats.mean) << ' ' << number(s->stats.half_width)
               << ' ' << s->stats.n << '\n';
        }
      }
      // Bars must start at zero to be read as lengths; metrics below zero (rare) get autoscale.
      bool non_negative = true;
      for (const MethodSummary& m : ds->methods) {
        if (const MetricSummary* s = m.metric(ds->primary_metric)) non_negative = non_negative && s->stats.mean >= 0;
      }
      setup += "set ylabel " + gp_quote(ds->primary_metric + " (mean +/- 95% CI)") +
               "\nset style fill solid 0.5 border -1\nset boxwidth 0.6\nset xtics rotate by -25 left nomirror\n"
               "set bmargin 11\nset rmargin 12\nset xrange [-0.6:*]\n" +
               (non_negative ? "set yrange [0:*]\n" : "");
      plot = "plot " + gp_quote(data.string()) + " using 0:2:xtic(1) with boxes lc rgb '#4e79a7', '' using 0:2:3 "
             "with yerrorbars pt 0 ps 0 lc rgb 'black'\n";
    } else {
      const ScatterAxis axis = scatter_axis(*ds);
      rows << "# method " << axis.figure << " " << ds->primary_metric << "\n";
      for (const auto& [label, x, y] : scatter_rows(*ds, axis)) {
        rows << data_label(label) << ' ' << number(x) << ' ' << number(y) << '\n';
      }
      setup += "set logscale x\nset xlabel " + gp_quote(axis.label) + "\nset ylabel " +
               gp_quote(ds->primary_metric + " (mean)") + "\nset offsets graph 0.1, graph 0.3, graph 0.1, graph 0.1\n";
      plot = "plot " + gp_quote(data.string()) + " using 2:3 with points pt 7 ps 1.2 lc rgb '#e15759', '' using "
             "2:3:1 with labels offset char 0,1 font ',9'\n";
    }
    write_file(data, rows.str());
    const fs::path script = base.string() + ".gp";
    write_file(script, both_terminals(setup, plot, base, 600));
    scripts.push_back(script);
  }
  run_gnuplot_scripts(gnuplot, scripts, set);
  return set;
}

}  // namespace opsbench
