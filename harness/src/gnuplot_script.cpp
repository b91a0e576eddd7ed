// Shared gnuplot plumbing (see gnuplot_script.h).
#include "gnuplot_script.h"

#include <sys/wait.h>

#include <cstdlib>
#include <sstream>
#include <system_error>

namespace opsbench {

namespace fs = std::filesystem;

std::string gp_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string both_terminals(const std::string& setup, const std::string& plot, const fs::path& base, int height) {
  const std::string size = "size 900," + std::to_string(height);
  std::ostringstream s;
  s << setup;
  s << "set terminal svg " << size << " dynamic noenhanced font 'sans,11' background rgb 'white'\n";
  s << "set output " << gp_quote(base.string() + ".svg") << "\n" << plot;
  s << "set terminal pngcairo " << size << " noenhanced font 'sans,10'\n";
  s << "set output " << gp_quote(base.string() + ".png") << "\n" << plot;
  s << "unset output\n";
  return s.str();
}

fs::path make_plots_dir(const std::string& out_dir, PlotSet& set) {
  const fs::path dir = fs::absolute(fs::path(out_dir) / "plots");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    set.unavailable_reason = "cannot create " + dir.string() + ": " + ec.message();
    return {};
  }
  return dir;
}

void run_gnuplot_scripts(const std::string& gnuplot, const std::vector<fs::path>& scripts, PlotSet& set) {
  if (gnuplot.empty()) {
    set.unavailable_reason =
        "gnuplot not found (install gnuplot or set OPSBENCH_GNUPLOT); data and scripts are in plots/";
    return;
  }
  for (const fs::path& script : scripts) {
    const fs::path log = script.string() + ".log";
    const std::string command =
        shell_quote(gnuplot) + " " + shell_quote(script.string()) + " >" + shell_quote(log.string()) + " 2>&1";
    const int status = std::system(command.c_str());
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      set.unavailable_reason =
          "gnuplot failed on " + script.filename().string() + " (see plots/" + log.filename().string() + ")";
      return;
    }
    std::error_code ignored;
    fs::remove(log, ignored);
  }
  set.available = true;
}

}  // namespace opsbench
