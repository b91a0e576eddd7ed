// Measurement: phase meter, percentiles, latency and energy meters (RAPL against a fake powercap tree).
#include "opsbench/core/measure.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "opsbench/core/error.h"

namespace fs = std::filesystem;

namespace {

const opsbench::Figure& find(const std::vector<opsbench::Figure>& figures, const std::string& name) {
  for (const auto& f : figures)
    if (f.name == name) return f;
  FAIL("no figure " << name);
  throw std::logic_error("unreachable");
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

// A fresh fake powercap root under the temp directory, removed at scope exit.
struct FakePowercap {
  fs::path root;
  FakePowercap() {
    root = fs::temp_directory_path() / ("opsbench_powercap_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~FakePowercap() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  void zone(const std::string& dir, const std::string& name, std::uint64_t energy, std::uint64_t max) {
    write(root / dir / "name", name);
    write(root / dir / "energy_uj", std::to_string(energy));
    write(root / dir / "max_energy_range_uj", std::to_string(max));
  }
};

}  // namespace

TEST_CASE("PhaseMeter reports wall, CPU and peak RSS with sources", "[core][measure]") {
  opsbench::PhaseMeter meter("fit");
  meter.start();
  std::vector<char> block(64u << 20, 1);  // 64 MiB touched: the phase's peak must include it
  volatile double sink = 0;
  for (std::size_t i = 0; i < block.size(); i += 4096) sink = sink + block[i];
  const auto figures = meter.stop();
  REQUIRE(figures.size() == 3);
  const auto& wall = find(figures, "fit.wall");
  CHECK(wall.unit == "s");
  CHECK(wall.source == "steady_clock");
  CHECK(wall.value > 0);
  const auto& cpu = find(figures, "fit.cpu");
  CHECK(cpu.source == "getrusage(RUSAGE_SELF)");
  CHECK(cpu.value >= 0);
  const auto& rss = find(figures, "fit.peak_rss");
  REQUIRE(rss.available);
  CHECK(rss.unit == "bytes");
  CHECK(rss.value >= 64.0 * (1 << 20));
  CHECK(rss.source.rfind("/proc/self/status VmHWM", 0) == 0);
  CHECK(opsbench::read_vm_rss_bytes() > 0);
  CHECK(opsbench::read_vm_hwm_bytes() >= opsbench::read_vm_rss_bytes());
}

TEST_CASE("PhaseMeter::start hands freed heap pages back before resetting the peak", "[core][measure]") {
#ifdef __GLIBC__
  // 64 MiB in 64 KiB blocks (below glibc's mmap threshold: heap memory), touched, each followed by
  // a small block that stays: freeing the big ones leaves holes glibc keeps resident on its own, and a
  // phase started now would count them in its peak unless start() trims the heap.
  constexpr std::size_t kBlock = 64u << 10, kBlocks = 1024;
  std::vector<char*> blocks, pins;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
    pins.push_back(static_cast<char*>(std::malloc(64)));
    REQUIRE(blocks.back() != nullptr);
    REQUIRE(pins.back() != nullptr);
    std::memset(blocks.back(), 1, kBlock);
    asm volatile("" : : "g"(blocks.back()) : "memory");  // keep the compiler from eliding the blocks
  }
  for (char* b : blocks) std::free(b);
  const double rss_before = static_cast<double>(opsbench::read_vm_rss_bytes());
  opsbench::PhaseMeter meter("fit");
  meter.start();
  const auto figures = meter.stop();
  for (char* p : pins) std::free(p);
  const auto& rss = find(figures, "fit.peak_rss");
  REQUIRE(rss.available);
  CHECK(rss.value < rss_before - 32.0 * (1 << 20));
#else
  WARN("not glibc: PhaseMeter does not trim the heap");
#endif
}

TEST_CASE("percentile is nearest-rank", "[core][measure]") {
  const std::vector<double> v{5, 1, 3, 2, 4};
  CHECK(opsbench::percentile(v, 0.0) == 1);
  CHECK(opsbench::percentile(v, 0.5) == 3);   // rank ceil(2.5) = 3
  CHECK(opsbench::percentile(v, 0.95) == 5);  // rank ceil(4.75) = 5
  CHECK(opsbench::percentile(v, 0.2) == 1);   // rank ceil(1.0) = 1
  CHECK(opsbench::percentile(v, 1.0) == 5);
  CHECK_THROWS_AS(opsbench::percentile({}, 0.5), opsbench::DataError);
  CHECK_THROWS_AS(opsbench::percentile(v, 1.5), opsbench::DataError);
}

TEST_CASE("measure_latency runs warm-up and timed batches inside the rows", "[core][measure]") {
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  opsbench::LatencyOptions options;
  options.batch_sizes = {1, 64, 1024};
  options.warmup = 2;
  options.repeats = 3;
  const auto figures = opsbench::measure_latency(
      [&](std::size_t begin, std::size_t count) { calls.emplace_back(begin, count); }, 100, options);
  CHECK(calls.size() == 10);  // (2 + 3) per size; 1024 > 100 rows is skipped
  for (const auto& [begin, count] : calls) CHECK(begin + count <= 100);
  CHECK(figures.size() == 8);
  CHECK(find(figures, "latency.b64.p95").unit == "s");
  CHECK(find(figures, "latency.b1.throughput").unit == "samples/s");
  CHECK(find(figures, "latency.b64.p50").source.find("2 warm-up") != std::string::npos);
  for (const auto& f : figures) CHECK(f.name.find("b1024") == std::string::npos);
}

TEST_CASE("RAPL meter reads a fake powercap tree, with wraparound", "[core][measure][energy]") {
  FakePowercap fake;
  fake.zone("intel-rapl:0", "package-0", 1'000'000, 262'143'328'850);
  fake.zone("intel-rapl:0:0", "core", 5, 262'143'328'850);  // a sub-zone: must not be counted twice
  fake.zone("intel-rapl:1", "package-1", 999'900, 1'000'000);
  const auto meter = opsbench::make_rapl_meter(fake.root.string());
  REQUIRE(meter->available());
  CHECK(meter->source().find("package-0+package-1") != std::string::npos);
  meter->start();
  write(fake.root / "intel-rapl:0" / "energy_uj", "3500000");  // +2.5 J
  write(fake.root / "intel-rapl:0:0" / "energy_uj", "900000000");
  write(fake.root / "intel-rapl:1" / "energy_uj", "50");  // wrapped: (1e6 - 999900) + 50 = 150 uJ
  const auto reading = meter->stop();
  CHECK(reading.joules == Approx(2.5 + 150e-6).epsilon(1e-12));
  CHECK(reading.seconds >= 0);
}

TEST_CASE("RAPL meter says why it is unavailable", "[core][measure][energy]") {
  FakePowercap fake;
  const auto absent = opsbench::make_rapl_meter((fake.root / "missing").string());
  CHECK_FALSE(absent->available());
  CHECK(absent->unavailable_reason().find("absent") != std::string::npos);

  const auto empty = opsbench::make_rapl_meter(fake.root.string());
  CHECK_FALSE(empty->available());
  CHECK(empty->unavailable_reason().find("no intel-rapl") != std::string::npos);

  write(fake.root / "intel-rapl:0" / "name", "package-0");  // energy_uj missing: unreadable
  const auto unreadable = opsbench::make_rapl_meter(fake.root.string());
  CHECK_FALSE(unreadable->available());
  CHECK(unreadable->unavailable_reason().find("energy_uj unreadable") != std::string::npos);
  CHECK_THROWS_AS(unreadable->start(), opsbench::ModelError);
}

TEST_CASE("energy monitor reports unavailable with reasons on a machine without meters", "[core][measure][energy]") {
  const auto nvml = opsbench::make_nvml_meter();
  const auto rapl = opsbench::make_rapl_meter();
  if (nvml->available() || rapl->available()) {
    WARN("skipped: this machine has an energy source (" << (nvml->available() ? nvml->source() : rapl->source())
                                                        << ")");
    opsbench::EnergyMonitor monitor(0.05);
    REQUIRE(monitor.available());
    monitor.start();
    const auto figures = monitor.stop("fit");
    CHECK(find(figures, "energy.fit.gross").unit == "J");
    CHECK(find(figures, "energy.fit.net").available);
    return;
  }
  if (!fs::exists("/sys/class/powercap")) CHECK(rapl->unavailable_reason().find("absent") != std::string::npos);
  opsbench::EnergyMonitor monitor(0.01);
  CHECK_FALSE(monitor.available());
  REQUIRE(monitor.unavailable_reasons().size() == 2);
  CHECK(monitor.unavailable_reasons()[0].rfind("NVML: ", 0) == 0);
  CHECK(monitor.unavailable_reasons()[1].rfind("RAPL: ", 0) == 0);
  monitor.start();
  const auto figures = monitor.stop("fit");
  REQUIRE(figures.size() == 1);
  CHECK(figures[0].name == "energy.fit");
  CHECK_FALSE(figures[0].available);
  CHECK(figures[0].reason.find("NVML: ") != std::string::npos);
  CHECK(figures[0].reason.find("RAPL: ") != std::string::npos);
}
