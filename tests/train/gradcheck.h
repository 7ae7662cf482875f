// Finite-difference gradient checking, shared by the loss and layer tests.
//
// Given f: R^n -> R (a scalar loss computed from a float vector) and the analytic
// gradient g = df/dx at x, compare every checked component g_i with the central
// difference
//     n_i = (f(x + h e_i) - f(x - h e_i)) / (x_i^+ - x_i^-)
// where x_i^+ = float(x_i + h) and x_i^- = float(x_i - h) are the perturbed values
// actually representable in float: dividing by their true difference (computed in
// double) removes the error of rounding the step itself. Losses are evaluated in
// double (the callable returns double), and the difference is formed in double.
//
// A component passes when
//     |g_i - n_i| <= atol + rtol * max(|g_i|, |n_i|).
// Error budget, for choosing the bounds: truncation error of the central
// difference is h^2/6 * |f'''|, so rtol ~ 1e-3 covers h = 1e-3 unless f is very
// curved (e.g. a softmax at temperature 0.05 scales f''' by 20^3 but g by 20 too).
// If f rounds its result to float, each evaluation carries up to ulp(f)/2 of noise
// and the difference carries ~ulp(f)/(2h) absolute error: atol must cover that
// (for |f| ~ 1 and h = 1e-3, ~6e-5).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace sentemb::test {

struct GradcheckOptions {
  double step = 1e-3;  // h, in the units of x
  double rtol = 1e-3;  // relative bound
  double atol = 1e-5;  // absolute floor, for components near zero
  // Check at most this many components, evenly spaced (0 = all). For big tensors.
  std::size_t max_checks = 0;
};

struct GradcheckReport {
  bool ok = true;
  std::size_t checked = 0;
  std::size_t failures = 0;
  // The component with the largest |g - n| / (atol + rtol * max(|g|, |n|)).
  std::size_t worst_index = 0;
  double worst_analytic = 0, worst_numeric = 0, worst_ratio = 0;
  double max_abs_error = 0;  // over all checked components

  std::string describe() const {
    std::ostringstream s;
    s << "gradcheck: " << checked << " components, " << failures << " over the bound; worst #"
      << worst_index << " analytic " << worst_analytic << " numeric " << worst_numeric
      << " (error/bound " << worst_ratio << "), max |error| " << max_abs_error;
    return s.str();
  }
};

// loss_of: callable double(const std::vector<float>& x). analytic: df/dx at x, same
// size as x. x is taken by value: it is perturbed in place and restored.
template <class LossOf>
GradcheckReport gradcheck(LossOf&& loss_of, std::vector<float> x,
                          const std::vector<float>& analytic,
                          const GradcheckOptions& options = {}) {
  GradcheckReport report;
  const std::size_t n = x.size();
  if (analytic.size() != n) {
    report.ok = false;
    report.failures = 1;
    return report;
  }
  std::vector<std::size_t> indices;
  if (options.max_checks == 0 || options.max_checks >= n) {
    for (std::size_t i = 0; i < n; ++i) indices.push_back(i);
  } else {
    for (std::size_t k = 0; k < options.max_checks; ++k)
      indices.push_back(k * n / options.max_checks);
  }
  for (std::size_t i : indices) {
    const float saved = x[i];
    const float plus = static_cast<float>(static_cast<double>(saved) + options.step);
    const float minus = static_cast<float>(static_cast<double>(saved) - options.step);
    x[i] = plus;
    const double f_plus = static_cast<double>(loss_of(x));
    x[i] = minus;
    const double f_minus = static_cast<double>(loss_of(x));
    x[i] = saved;
    const double numeric =
        (f_plus - f_minus) / (static_cast<double>(plus) - static_cast<double>(minus));
    const double a = analytic[i];
    const double error = std::fabs(a - numeric);
    const double bound = options.atol + options.rtol * std::max(std::fabs(a), std::fabs(numeric));
    const double ratio = std::isfinite(error) ? error / bound : INFINITY;
    ++report.checked;
    report.max_abs_error = std::max(report.max_abs_error, error);
    if (!(ratio <= 1.0)) {
      ++report.failures;
      report.ok = false;
    }
    if (!(ratio <= report.worst_ratio)) {  // also catches NaN
      report.worst_ratio = ratio;
      report.worst_index = i;
      report.worst_analytic = a;
      report.worst_numeric = numeric;
    }
  }
  return report;
}

}  // namespace sentemb::test
