// Running the opsbench binary from tests: exit code and captured output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace opsbench::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

inline CommandResult run_opsbench(const std::string& args) {
  const std::string cmd = std::string("cd '") + OPSBENCH_SOURCE_DIR + "' && '" + OPSBENCH_BINARY + "' " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.out.append(buf.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("opsbench-it-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The real datasets, or "" when absent: OPSBENCH_DATA, else ../shared/data beside the checkout.
inline std::string data_root() {
  if (const char* env = std::getenv("OPSBENCH_DATA")) {
    if (std::filesystem::exists(env)) return env;
  }
  const auto guess = std::filesystem::path(OPSBENCH_SOURCE_DIR).parent_path() / "shared" / "data";
  return std::filesystem::exists(guess) ? guess.string() : "";
}

}  // namespace opsbench::test
