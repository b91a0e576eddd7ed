// opsbench info SPEC: a method's or reader's options with types, defaults, bounds and descriptions,
// and the canonical form of the given spec.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "opsbench/core/error.h"
#include "opsbench/harness/register_all.h"

namespace opsbench::cli {
namespace {

void print_options(const std::vector<OptionDecl>& options) {
  if (options.empty()) {
    std::cout << "  (no options)\n";
    return;
  }
  for (const auto& o : options) {
    std::cout << fmt::format("  {:<20} {:<28} default {:<10} {}\n", o.name, o.describe_domain(),
                             o.default_value.empty() ? "\"\"" : o.default_value, o.description);
  }
}

bool has_reader(const Registry& r, const std::string& name) {
  for (const auto& e : r.readers()) {
    if (e.name == name) return true;
  }
  return false;
}

}  // namespace

void add_info(CLI::App& app, Action& action) {
  auto spec = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "Show the options of a method (or dataset reader) and a spec's canonical form");
  cmd->add_option("spec", *spec, "Method spec (iforest:n_estimators=50) or reader name")->required();
  cmd->callback([&action, spec] {
    action = [spec] {
      const Registry& r = builtin_registry();
      const Spec parsed = parse_spec(*spec);
      if (has_reader(r, parsed.name)) {
        const ReaderEntry& e = r.reader(parsed.name);
        resolve(e.options, parsed.values, "reader " + e.name);
        std::cout << e.name << " (" << (e.synthetic ? "generator" : "reader") << "): " << e.description << "\n";
        std::cout << "options:\n";
        print_options(e.options);
        return 0;
      }
      const ResolvedMethod m = r.resolve_method(*spec);
      std::cout << m.entry->name << " (" << to_string(m.entry->kind) << "): " << m.entry->description << "\n";
      if (!m.entry->reference.empty()) std::cout << "reference: " << m.entry->reference << "\n";
      std::cout << "canonical: " << m.canonical_spec << "\n";
      std::cout << "options:\n";
      print_options(m.entry->options);
      return 0;
    };
  });
}

}  // namespace opsbench::cli
