#include "train/train_log.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sentemb/errors.h"

namespace sentemb::train {

TrainLog::TrainLog(const std::string& path, bool append, std::int64_t every) : every_(every) {
  if (path.empty()) return;
  out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!out_) throw IoError(fmt::format("{}: cannot write the log", path));
}

void TrainLog::step(const TrainRun& run, const StepStats& stats, double pairs_per_second,
                    double seconds) {
  if (!out_.is_open() || (run.step % every_ != 0 && run.step != 1)) return;
  nlohmann::json terms = nlohmann::json::object();
  for (const auto& [name, v] : stats.terms) terms[name] = v;
  out_ << nlohmann::json{{"step", run.step},
                         {"epoch", stats.epoch},
                         {"loss", stats.loss},
                         {"terms", terms},
                         {"lr", stats.lr},
                         {"grad_norm", stats.grad_norm},
                         {"pairs_per_s", pairs_per_second},
                         {"elapsed_s", seconds},
                         {"source", run.data[stats.source].source.path}}
              .dump()
       << std::endl;
}

void TrainLog::evaluation(std::int64_t step, const StsEvaluator::Scores& scores, bool best,
                          double seconds) {
  if (!out_.is_open()) return;
  out_ << nlohmann::json{{"step", step},
                         {"eval_spearman", scores.spearman},
                         {"eval_pearson", scores.pearson},
                         {"best", best},
                         {"elapsed_s", seconds}}
              .dump()
       << std::endl;
}

double Throughput::add_step(int batch) {
  ++window_steps_;
  const auto now = std::chrono::steady_clock::now();
  const double window = std::chrono::duration<double>(now - window_start_).count();
  if (window > 0) rate_ = window_steps_ * double(batch) / window;
  if (window > 10) {
    window_start_ = now;
    window_steps_ = 0;
  }
  return rate_;
}

}  // namespace sentemb::train
