// SIGINT / SIGTERM during training: taken by a watcher thread (watch_stop_signals() in
// sentemb/train/trainer.h), read by the training loop between steps.
#pragma once

namespace sentemb::train {

// Whether a stop was requested since the last call; consumes the request, so a later
// run in the same process starts afresh.
bool take_stop_request();

}  // namespace sentemb::train
