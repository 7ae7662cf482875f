#include "train/stop_rules.h"

namespace sentemb::train {

std::optional<std::string> StopRules::before_step(const TrainRun& run, double training_seconds,
                                                  bool interrupted) const {
  const TrainOptions& o = run.options;
  if (run.step >= run.total_steps)
    return o.max_steps > 0 && run.total_steps == o.max_steps ? "max-steps" : "epochs";
  if (interrupted) return "interrupted";
  if (o.pause_after > 0 && run.step - first_step_ >= o.pause_after) return "paused";
  if (o.max_minutes > 0 && training_seconds >= o.max_minutes * 60) return "max-minutes";
  return std::nullopt;
}

}  // namespace sentemb::train
