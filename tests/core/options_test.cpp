// Spec strings and declared options: parsing, validation, canonical form.
#include <catch2/catch.hpp>

#include "opsbench/core/error.h"
#include "opsbench/core/options.h"

using namespace opsbench;

namespace {
std::vector<OptionDecl> iforest_like() {
  return {OptionDecl::integer("n_estimators", 100, 1, 100000, "trees"),
          OptionDecl::real("max_features", 1.0, 0.0, 1.0, "share of features"),
          OptionDecl::boolean("bootstrap", false, "sample with replacement"),
          OptionDecl::choice("mode", "outlier", {"outlier", "novelty"}, "mode"),
          OptionDecl::list("columns", "", "columns")};
}
}  // namespace

TEST_CASE("parse_spec splits name and options in order", "[core][options]") {
  const Spec s = parse_spec("iforest:n_estimators=50, max_features=0.5");
  CHECK(s.name == "iforest");
  REQUIRE(s.values.size() == 2);
  CHECK(s.values[0] == std::make_pair(std::string("n_estimators"), std::string("50")));
  CHECK(s.values[1] == std::make_pair(std::string("max_features"), std::string("0.5")));
  CHECK(parse_spec("pca").values.empty());
  CHECK(parse_spec("pca:").values.empty());
}

TEST_CASE("parse_spec rejects malformed specs", "[core][options]") {
  CHECK_THROWS_AS(parse_spec(":a=1"), ConfigError);
  CHECK_THROWS_WITH(parse_spec("iforest:n_estimators"), Catch::Contains("has no '=value'"));
  CHECK_THROWS_WITH(parse_spec("iforest:a=1,a=2"), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(parse_spec("iforest:a=1,,b=2"), Catch::Contains("empty option"));
}

TEST_CASE("resolve fills defaults and normalises values", "[core][options]") {
  const Options o = resolve(iforest_like(), {{"n_estimators", "050"}, {"bootstrap", "yes"}, {"columns", "a; b;c"}},
                            "method iforest");
  CHECK(o.get_int("n_estimators") == 50);
  CHECK(o.get_double("max_features") == 1.0);
  CHECK(o.get_bool("bootstrap"));
  CHECK(o.get_string("mode") == "outlier");
  CHECK(o.get_list("columns") == std::vector<std::string>{"a", "b", "c"});
  CHECK(canonical("iforest", o) ==
        "iforest:bootstrap=true,columns=a;b;c,max_features=1,mode=outlier,n_estimators=50");
}

TEST_CASE("canonical spec round-trips and two spellings agree", "[core][options]") {
  const auto decls = iforest_like();
  const Options a = resolve(decls, parse_spec("x:max_features=0.50,n_estimators=7").values, "x");
  const Options b = resolve(decls, parse_spec("x:n_estimators=7,max_features=.5").values, "x");
  CHECK(canonical("x", a) == canonical("x", b));
  const Options c = resolve(decls, parse_spec(canonical("x", a)).values, "x");
  CHECK(canonical("x", c) == canonical("x", a));
}

TEST_CASE("resolve errors list what is valid", "[core][options]") {
  const auto decls = iforest_like();
  CHECK_THROWS_WITH(resolve(decls, {{"n_trees", "5"}}, "method iforest"),
                    Catch::Contains("unknown option 'n_trees'") && Catch::Contains("valid options: n_estimators"));
  CHECK_THROWS_WITH(resolve(decls, {{"n_estimators", "0"}}, "method iforest"),
                    Catch::Contains("out of bounds") && Catch::Contains("int in [1, 100000]"));
  CHECK_THROWS_WITH(resolve(decls, {{"n_estimators", "1.5"}}, "m"), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(resolve(decls, {{"max_features", "nan"}}, "m"), Catch::Contains("not a finite number"));
  CHECK_THROWS_WITH(resolve(decls, {{"mode", "both"}}, "m"), Catch::Contains("one of {outlier, novelty}"));
  CHECK_THROWS_WITH(resolve(decls, {{"bootstrap", "maybe"}}, "m"), Catch::Contains("not a boolean"));
}

TEST_CASE("format_double gives the shortest round-trip form", "[core][options]") {
  CHECK(format_double(0.1) == "0.1");
  CHECK(format_double(100.0) == "100");
  CHECK(format_double(1e-7) == "1e-07");
  CHECK(std::stod(format_double(1.0 / 3.0)) == 1.0 / 3.0);
}
