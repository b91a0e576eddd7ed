// Environment capture (see environment.h): the facts stored with every run and the loud warnings
// printed where results would mislead.
#include "opsbench/core/environment.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "nvml_api.h"

#ifndef OPSBENCH_VERSION
#define OPSBENCH_VERSION "unknown"
#endif
#ifndef OPSBENCH_GIT_COMMIT_AT_CONFIGURE
#define OPSBENCH_GIT_COMMIT_AT_CONFIGURE "unknown"
#endif
#ifndef OPSBENCH_SOURCE_DIR
#define OPSBENCH_SOURCE_DIR "."
#endif
#ifndef OPSBENCH_BUILD_TYPE
#define OPSBENCH_BUILD_TYPE "unknown"
#endif

namespace opsbench {
namespace {

std::vector<EnvironmentHook>& hooks() {
  static std::vector<EnvironmentHook> list;
  return list;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Runs a shell command with stderr silenced; nullopt-like `ok` false when it cannot run or exits non-zero.
bool run_command(const std::string& command, std::string& output) {
  output.clear();
  std::FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return false;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  return pclose(pipe) == 0;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string env_or_unset(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string("unset");
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __VERSION__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

std::string memory_total() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long long kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") return fmt::format("{} bytes ({:.1f} GiB)", kb * 1024, kb / 1048576.0);
  }
  return "unknown";
}

// OpenBLAS' own report of its build (kernel, threading), queried through dlopen so core does not
// link BLAS. Reported whether or not this process has loaded it yet.
std::string openblas_info() {
  bool already = true;
  void* handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) {
    already = false;
    handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  }
  if (handle == nullptr) return "not loaded (libopenblas.so.0 not found)";
  using ConfigFn = char* (*)();
  using ThreadsFn = int (*)();
  auto config = reinterpret_cast<ConfigFn>(dlsym(handle, "openblas_get_config"));
  auto threads = reinterpret_cast<ThreadsFn>(dlsym(handle, "openblas_get_num_threads"));
  std::string info = config != nullptr ? trim(config()) : std::string("libopenblas.so.0 (no openblas_get_config)");
  if (threads != nullptr) info += fmt::format("; {} threads", threads());
  info += already ? "; loaded by this process" : "; not yet loaded by this process";
  dlclose(handle);
  return info;
}

std::string gpu_info(std::string& driver, std::string& cuda) {
  const auto& api = detail::nvml();
  driver = cuda = "none";
  if (!api.loaded) return "none (" + api.reason + ")";
  char text[256] = {0};
  if (api.system_get_driver_version(text, sizeof text) == detail::kNvmlSuccess) driver = text;
  int version = 0;
  if (api.system_get_cuda_driver_version != nullptr &&
      api.system_get_cuda_driver_version(&version) == detail::kNvmlSuccess)
    cuda = fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
  unsigned int count = 0;
  if (api.device_get_count(&count) != detail::kNvmlSuccess || count == 0) return "none (NVML reports no GPU)";
  std::string names;
  for (unsigned int i = 0; i < count; ++i) {
    detail::NvmlDevice device = nullptr;
    std::string name = "unknown";
    if (api.device_get_handle_by_index(i, &device) == detail::kNvmlSuccess &&
        api.device_get_name(device, text, sizeof text) == detail::kNvmlSuccess)
      name = text;
    names += (names.empty() ? "" : ", ") + fmt::format("{}: {}", i, name);
  }
  return names;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

const std::string* Environment::find(const std::string& key) const {
  for (const auto& fact : facts)
    if (fact.first == key) return &fact.second;
  return nullptr;
}

void Environment::set(const std::string& key, std::string value) {
  for (auto& fact : facts) {
    if (fact.first == key) {
      fact.second = std::move(value);
      return;
    }
  }
  facts.emplace_back(key, std::move(value));
}

void add_environment_hook(EnvironmentHook hook) {
  if (hook != nullptr) hooks().push_back(hook);
}

Environment capture_environment(const std::string& command_line) {
  Environment env;
  env.set("opsbench.version", OPSBENCH_VERSION);

  // The commit at run time (the tree may have moved since configure); the configure-time value
  // when git or the repository is not reachable.
  const std::string git = "git -C " + shell_quote(OPSBENCH_SOURCE_DIR);
  std::string out;
  auto is_commit = [](const std::string& s) {
    return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  const std::string configured = OPSBENCH_GIT_COMMIT_AT_CONFIGURE;
  if (run_command(git + " rev-parse HEAD", out) && is_commit(trim(out)))
    env.set("git.commit", trim(out));
  else if (is_commit(configured))
    env.set("git.commit", configured + " (at configure time; git unavailable now)");
  else
    env.set("git.commit", "unknown (no git commit)");
  if (run_command(git + " status --porcelain", out))
    env.set("git.dirty", trim(out).empty() ? "no" : "yes");
  else
    env.set("git.dirty", "unknown (git unavailable)");

  const std::string build_type = OPSBENCH_BUILD_TYPE;
  env.set("build.type", build_type);
  env.set("build.compiler", compiler());
#ifdef NDEBUG
  env.set("build.assertions", "off");
#else
  env.set("build.assertions", "on");
#endif
  env.set("lib.fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100));
  env.set("lib.zlib", zlibVersion());
  env.set("lib.openssl", OpenSSL_version(OPENSSL_VERSION));
  env.set("lib.openblas", openblas_info());

  const unsigned cores = std::thread::hardware_concurrency();
  env.set("cpu.model", cpu_model());
  env.set("cpu.logical_cores", std::to_string(cores));
  env.set("memory.total", memory_total());
  std::string driver, cuda;
  env.set("gpu", gpu_info(driver, cuda));
  env.set("gpu.driver", driver);
  env.set("gpu.cuda_driver", cuda);

  for (const char* name :
       {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"})
    env.set(std::string("env.") + name, env_or_unset(name));

  char host[256] = {0};
  env.set("host.name", gethostname(host, sizeof host - 1) == 0 ? std::string(host) : std::string("unknown"));
  utsname uts{};
  env.set("host.kernel",
          uname(&uts) == 0 ? fmt::format("{} {} {}", uts.sysname, uts.release, uts.machine) : std::string("unknown"));
  env.set("time.utc", utc_now_iso8601());
  env.set("command_line", command_line);

  // Warnings: results that would mislead if read without them.
  bool debug = build_type == "Debug";
#if !defined(__OPTIMIZE__)
  debug = true;
#endif
  if (debug) env.warnings.push_back("***WARNING*** debug build: timings are not representative");
  if (const char* coretype = std::getenv("OPENBLAS_CORETYPE"))
    env.warnings.push_back(fmt::format(
        "note: OPENBLAS_CORETYPE={} pins OpenBLAS kernels (Haswell = AVX2 even on AVX-512 CPUs); compare peers "
        "only under identical settings",
        coretype));
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long threads = std::strtol(omp, &end, 10);
    if (end != omp && cores > 0 && threads > static_cast<long>(cores))
      env.warnings.push_back(fmt::format(
          "***WARNING*** OMP_NUM_THREADS={} exceeds the {} logical cores: oversubscribed timings", threads, cores));
  }

  for (const auto hook : hooks()) hook(env);
  return env;
}

}  // namespace opsbench
