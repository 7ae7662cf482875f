#include "train/best_model.h"

#include "sentemb/model_file.h"

namespace sentemb::train {

BestModelKeeper::BestModelKeeper(const TrainRun& run) {
  if (!run.options.eval_sts.empty())
    evaluator_.emplace(run.options.eval_sts, *run.tokenizer, run.model.config,
                       run.output_parameters().data(), run.threads);
}

std::optional<double> BestModelKeeper::evaluate(TrainRun& run, TrainLog& log, double seconds) {
  if (!evaluator_) return std::nullopt;
  const StsEvaluator::Scores scores = evaluator_->evaluate();
  const bool improved = !run.best_spearman || scores.spearman > *run.best_spearman;
  if (improved) {
    run.best_spearman = scores.spearman;
    if (run.writes()) save_model(run.output_model(), run.options.out);
  }
  log.evaluation(run.step, scores, improved, seconds);
  return scores.spearman;
}

bool BestModelKeeper::due(const TrainRun& run) const {
  return evaluator_ && run.step % run.options.eval_every == 0 && run.step < run.total_steps;
}

std::optional<double> BestModelKeeper::finish(TrainRun& run, TrainLog& log, double seconds,
                                              bool paused) {
  if (!evaluator_) {
    if (run.writes()) save_model(run.output_model(), run.options.out);  // the last weights
    return std::nullopt;
  }
  return paused ? std::nullopt : evaluate(run, log, seconds);
}

}  // namespace sentemb::train
