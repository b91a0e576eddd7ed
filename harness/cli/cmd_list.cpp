// opsbench list [methods|datasets|readers|metrics]: what the registry holds.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "opsbench/harness/register_all.h"

namespace opsbench::cli {

void add_list(CLI::App& app, Action& action) {
  auto what = std::make_shared<std::string>("all");
  CLI::App* cmd = app.add_subcommand("list", "List registered methods, dataset readers and metrics");
  cmd->add_option("what", *what, "methods | datasets | readers | metrics | all")
      ->check(CLI::IsMember({"methods", "datasets", "readers", "metrics", "all"}))
      ->capture_default_str();
  cmd->callback([&action, what] {
    action = [what] {
      const Registry& r = builtin_registry();
      const bool all = *what == "all";
      if (all || *what == "methods") {
        std::cout << "methods:\n";
        for (const auto& m : r.methods()) {
          std::cout << fmt::format("  {:<22} {:<10} {}\n", m.name, to_string(m.kind), m.description);
        }
      }
      if (all || *what == "datasets" || *what == "readers") {
        std::cout << "datasets (readers and generators):\n";
        for (const auto& d : r.readers()) {
          std::cout << fmt::format("  {:<22} {:<10} {}\n", d.name, d.synthetic ? "generator" : "reader",
                                   d.description);
        }
      }
      if (all || *what == "metrics") {
        std::cout << "metrics:\n";
        for (const auto& m : r.metrics()) {
          std::cout << fmt::format("  {:<22} {:<10} {}\n", m.name, m.higher_is_better ? "higher" : "lower",
                                   m.description);
        }
      }
      return 0;
    };
  });
}

}  // namespace opsbench::cli
