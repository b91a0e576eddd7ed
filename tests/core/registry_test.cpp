// Registry: lookups, unknown names with candidates, duplicates.
#include <catch2/catch.hpp>

#include "opsbench/core/error.h"
#include "opsbench/core/registry.h"

using namespace opsbench;

TEST_CASE("unknown names fail with the candidates and a near-miss hint", "[core][registry]") {
  Registry r;
  MethodEntry a;
  a.name = "iforest";
  a.options = {OptionDecl::integer("n_estimators", 100, 1, 1000, "trees")};
  r.add(a);
  MethodEntry b;
  b.name = "pca";
  r.add(b);
  CHECK_THROWS_WITH(r.method("ifores"), Catch::Contains("unknown method 'ifores'") &&
                                            Catch::Contains("candidates: iforest, pca") &&
                                            Catch::Contains("did you mean 'iforest'"));
  CHECK_THROWS_AS(r.reader("csv"), ConfigError);
  CHECK_THROWS_AS(r.add(a), std::logic_error);
  const ResolvedMethod m = r.resolve_method("iforest:n_estimators=5");
  CHECK(m.canonical_spec == "iforest:n_estimators=5");
  CHECK(r.resolve_method("pca").canonical_spec == "pca");
  CHECK_THROWS_WITH(r.resolve_method("iforest:depth=3"), Catch::Contains("valid options: n_estimators"));
}
