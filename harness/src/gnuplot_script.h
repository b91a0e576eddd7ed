// What the report plots (plot_gnuplot.cpp) and the analysis plots (analysis_markdown.cpp) share:
// quoting for gnuplot and the shell, one script rendering to both SVG and PNG, the plots/
// directory, and running gnuplot over the written scripts. Internal to harness/src.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "opsbench/harness/plot_gnuplot.h"

namespace opsbench {

// A gnuplot single-quoted string (a quote is written twice).
std::string gp_quote(const std::string& text);

// A POSIX shell single-quoted word.
std::string shell_quote(const std::string& text);

// `setup`, then `plot` rendered to base.svg and base.png at 900 x `height` pixels.
std::string both_terminals(const std::string& setup, const std::string& plot, const std::filesystem::path& base,
                           int height);

// Creates <out_dir>/plots and returns its absolute path; on failure returns an empty path and sets
// set.unavailable_reason.
std::filesystem::path make_plots_dir(const std::string& out_dir, PlotSet& set);

// Runs `gnuplot` ("" = not installed) on each script, a .log beside it kept only on failure; sets
// set.available, or set.unavailable_reason naming the missing program or the failing script.
void run_gnuplot_scripts(const std::string& gnuplot, const std::vector<std::filesystem::path>& scripts, PlotSet& set);

}  // namespace opsbench
