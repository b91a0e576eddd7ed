// Environment capture: facts present, thread settings recorded, warnings raised, hooks run.
#include "opsbench/core/environment.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>
#include <string>

namespace {

// Restores an environment variable at scope exit.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

void test_hook(opsbench::Environment& env) { env.set("test.hook", "ran"); }

std::string fact(const opsbench::Environment& env, const std::string& key) {
  const std::string* value = env.find(key);
  INFO("fact " << key);
  REQUIRE(value != nullptr);
  return *value;
}

bool has_warning(const opsbench::Environment& env, const std::string& text) {
  for (const auto& w : env.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("capture_environment records the facts a result needs", "[core][environment]") {
  const ScopedEnv coretype("OPENBLAS_CORETYPE", nullptr);
  const ScopedEnv omp("OMP_NUM_THREADS", nullptr);
  const auto env = opsbench::capture_environment("opsbench run suite.toml");
  for (const char* key : {"opsbench.version", "git.commit", "git.dirty", "build.type", "build.compiler", "lib.fmt",
                          "lib.zlib", "lib.openssl", "lib.openblas", "cpu.model", "cpu.logical_cores", "memory.total",
                          "gpu", "env.OMP_WAIT_POLICY", "env.MKL_NUM_THREADS", "host.name", "host.kernel"})
    CHECK_FALSE(fact(env, key).empty());
  CHECK(fact(env, "command_line") == "opsbench run suite.toml");
  CHECK(fact(env, "env.OPENBLAS_CORETYPE") == "unset");
  CHECK(fact(env, "env.OMP_NUM_THREADS") == "unset");
  CHECK(std::stoi(fact(env, "cpu.logical_cores")) >= 1);
  CHECK(std::regex_match(fact(env, "time.utc"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(std::regex_match(fact(env, "lib.zlib"), std::regex(R"(\d+\.\d+.*)")));
  const std::string dirty = fact(env, "git.dirty");
  CHECK((dirty == "yes" || dirty == "no" || dirty.rfind("unknown", 0) == 0));
  CHECK_FALSE(has_warning(env, "OPENBLAS_CORETYPE"));
  const std::string gpu = fact(env, "gpu");
  if (gpu.rfind("none", 0) == 0) CHECK(gpu.find("(") != std::string::npos);  // says why
}

TEST_CASE("capture_environment warns about thread settings that mislead", "[core][environment]") {
  const ScopedEnv coretype("OPENBLAS_CORETYPE", "Haswell");
  const ScopedEnv omp("OMP_NUM_THREADS", "100000");
  const auto env = opsbench::capture_environment("");
  CHECK(fact(env, "env.OPENBLAS_CORETYPE") == "Haswell");
  CHECK(has_warning(env, "OPENBLAS_CORETYPE=Haswell"));
  CHECK(has_warning(env, "OMP_NUM_THREADS=100000 exceeds"));
}

TEST_CASE("environment hooks add facts and set() replaces", "[core][environment]") {
  opsbench::add_environment_hook(&test_hook);
  auto env = opsbench::capture_environment("x");
  CHECK(fact(env, "test.hook") == "ran");
  const auto size = env.facts.size();
  env.set("test.hook", "again");
  CHECK(env.facts.size() == size);
  CHECK(fact(env, "test.hook") == "again");
  CHECK(env.find("no.such.fact") == nullptr);
}
