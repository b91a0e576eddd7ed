// The environment block stored with every run and printed at the top of every report.
#pragma once

#include <string>
#include <vector>

#include <map>

namespace opsbench {

struct Environment {
  // Ordered key/value facts: opsbench version, git commit and dirty flag, build type, compiler,
  // library versions, CPU model and cores, GPU, thread settings, command line, time.
  std::vector<std::pair<std::string, std::string>> facts;
  // Loud warnings for results that would mislead (debug build, oversubscribed threads, ...).
  std::vector<std::string> warnings;

  const std::string* find(const std::string& key) const;
  void set(const std::string& key, std::string value);  // replaces or appends
};

// Captures the environment of this process. `command_line` is stored as given.
Environment capture_environment(const std::string& command_line);

// Extra facts contributed by other folders (e.g. models/ adds the libtorch version).
using EnvironmentHook = void (*)(Environment&);
void add_environment_hook(EnvironmentHook hook);

}  // namespace opsbench
