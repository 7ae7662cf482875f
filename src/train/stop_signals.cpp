#include "train/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "sentemb/train/trainer.h"

namespace sentemb {

namespace {
std::atomic<bool> stop_requested{false};
}  // namespace

bool train::take_stop_request() {
  return stop_requested.exchange(false);
}

// Why a watcher thread and not a signal handler: oneDNN 2.x's JIT GEMM kernels point rsp
// into a heap buffer while they run (oneDNN issue #4845, fixed in 3.x), so a signal delivered
// to a computing thread pushes its frame onto the heap and corrupts it. Blocking SIGINT and
// SIGTERM here, before any worker thread exists, keeps them blocked in every thread created
// later (threads inherit the mask); only the watcher takes them, with sigwait.
void watch_stop_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread([signals] {
      for (;;) {
        int signal = 0;
        if (sigwait(&signals, &signal) != 0) continue;
        if (!stop_requested.exchange(true)) continue;
        // A second signal before the run stopped: the user will not wait for the step (or
        // the data loading) to end. Checkpoints are written atomically, so the last one
        // stays whole; _Exit because no destructor may run while the trainer computes.
        static constexpr char kMessage[] = "\nquit at once: a second signal; no new checkpoint\n";
        [[maybe_unused]] auto written = ::write(2, kMessage, sizeof kMessage - 1);
        std::_Exit(130);
      }
    }).detach();
  });
}

}  // namespace sentemb
