// EnergyMonitor: idle power subtracted, and a counter that did not move is unavailable, not 0 J.
#include <catch2/catch.hpp>

#include <deque>

#include "opsbench/core/measure.h"

using namespace opsbench;

namespace {

// Returns scripted readings, one per stop().
class ScriptedMeter : public EnergyMeter {
 public:
  explicit ScriptedMeter(std::deque<EnergyReading> readings) : readings_(std::move(readings)) {}
  std::string source() const override { return "scripted counter"; }
  bool available() const override { return true; }
  std::string unavailable_reason() const override { return ""; }
  void start() override {}
  EnergyReading stop() override {
    const EnergyReading r = readings_.front();
    readings_.pop_front();
    return r;
  }

 private:
  std::deque<EnergyReading> readings_;
};

const Figure* find(const std::vector<Figure>& figures, const std::string& name) {
  for (const auto& f : figures) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("net energy subtracts the idle baseline", "[core][measure][energy]") {
  std::vector<std::unique_ptr<EnergyMeter>> meters;
  // Idle: 10 J over 1 s (10 W); phase: 50 J over 2 s.
  meters.push_back(std::make_unique<ScriptedMeter>(std::deque<EnergyReading>{{10.0, 1.0}, {50.0, 2.0}}));
  EnergyMonitor monitor(std::move(meters), 0.001);
  REQUIRE(monitor.available());
  monitor.start();
  const auto figures = monitor.stop("fit");
  REQUIRE(find(figures, "energy.fit.gross") != nullptr);
  CHECK(find(figures, "energy.fit.gross")->value == Approx(50.0));
  CHECK(find(figures, "energy.fit.net")->value == Approx(30.0));
  CHECK(find(figures, "energy.fit.net")->unit == "J");
}

TEST_CASE("a counter that did not advance is unavailable, never 0 J", "[core][measure][energy]") {
  std::vector<std::unique_ptr<EnergyMeter>> meters;
  meters.push_back(std::make_unique<ScriptedMeter>(std::deque<EnergyReading>{{10.0, 1.0}, {0.0, 0.05}}));
  EnergyMonitor monitor(std::move(meters), 0.001);
  monitor.start();
  const auto figures = monitor.stop("score");
  const Figure* gross = find(figures, "energy.score.gross");
  REQUIRE(gross != nullptr);
  CHECK_FALSE(gross->available);
  CHECK_THAT(gross->reason, Catch::Contains("did not advance") && Catch::Contains("0.050 s"));
  CHECK_FALSE(find(figures, "energy.score.net")->available);
}
