// Compares the outputs of a run under mpirun with those of one process
// (tests/mpi/mpi_tests.sh):
//   mpi_check models A.semb B.semb TOL   the largest |a - b| of the weights <= TOL
//   mpi_check logs A.jsonl B.jsonl TOL   every step's loss within TOL relative
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sentemb/model_file.h"

namespace {

int compare_models(const std::string& a, const std::string& b, double tolerance) {
  const auto pa = sentemb::load_model(a).parameters, pb = sentemb::load_model(b).parameters;
  if (pa.size() != pb.size()) {
    fmt::print("{} and {} differ in size: {} and {}\n", a, b, pa.size(), pb.size());
    return 1;
  }
  double worst = 0;
  for (std::size_t i = 0; i < pa.size(); ++i)
    worst = std::max(worst, double(std::fabs(pa[i] - pb[i])));
  fmt::print("weights: max |a - b| = {:.3g} (tolerance {:.3g})\n", worst, tolerance);
  return worst <= tolerance ? 0 : 1;
}

std::vector<std::pair<long, double>> step_losses(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::pair<long, double>> losses;
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record.contains("loss")) losses.emplace_back(record["step"], record["loss"]);
  }
  return losses;
}

int compare_logs(const std::string& a, const std::string& b, double tolerance) {
  const auto la = step_losses(a), lb = step_losses(b);
  if (la.empty() || la.size() != lb.size()) {
    fmt::print("{} and {} log {} and {} steps\n", a, b, la.size(), lb.size());
    return 1;
  }
  double worst = 0;
  for (std::size_t i = 0; i < la.size(); ++i) {
    if (la[i].first != lb[i].first) return 1;
    worst = std::max(worst, std::fabs(la[i].second - lb[i].second) / std::fabs(la[i].second));
  }
  fmt::print("losses of {} steps: max relative difference {:.3g} (tolerance {:.3g})\n", la.size(),
             worst, tolerance);
  return worst <= tolerance ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: mpi_check models|logs A B TOLERANCE\n");
    return 2;
  }
  const std::string what = argv[1];
  const double tolerance = std::stod(argv[4]);
  return what == "models" ? compare_models(argv[2], argv[3], tolerance)
                          : compare_logs(argv[2], argv[3], tolerance);
}
