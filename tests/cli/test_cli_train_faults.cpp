// Interrupted training: signals write a checkpoint; kill -9 never leaves a corrupt one.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace sentemb::test;

namespace {

// Runs a shell script, returning its exit status.
int shell(const std::string& script) {
  const int status = std::system(("bash -c '" + script + "'").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string long_run(const TempDir& tmp) {
  return std::string(SENTEMB_BIN) + " train --tokenizer " + data_path("tokenizer/tiny.model") +
         " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16 --batch 16 --threads 1" +
         " --pairs " + data_path("train/pairs.tsv") + " --epochs 100000 --out " +
         tmp.file("m.semb") + " --checkpoint-dir " + tmp.file("ck") +
         " --checkpoint-every 1 --log " + tmp.file("log.jsonl") + " --log-every 1";
}

// Starts the long run in the background, waits until it has logged a few steps.
std::string start_and_wait(const TempDir& tmp) {
  return long_run(tmp) + " 2>" + tmp.file("err") + " & pid=$!; " +
         "exec 2>/dev/null; for i in $(seq 300); do [ $(wc -l < " + tmp.file("log.jsonl") +
         " 2>/dev/null || echo 0) -ge 5 ] && break; sleep 0.1; done; ";
}

}  // namespace

TEST_CASE("SIGINT and SIGTERM stop training with a checkpoint that --resume continues",
          "[cli][train][reliability]") {
  // Several rounds: a signal landing inside a oneDNN GEMM kernel once corrupted the heap
  // (about one signal in ten; see watch_stop_signals).
  for (const std::string& signal : {std::string("INT"), std::string("TERM")}) {
    for (int round = 0; round < 4; ++round) {
      TempDir tmp;
      const int rc = shell(start_and_wait(tmp) + "kill -" + signal + " $pid; wait $pid");
      INFO(signal << " round " << round << ": " << read_file(tmp.file("err")));
      CHECK(rc == 130);
      CHECK(read_file(tmp.file("err")).find("interrupted") != std::string::npos);
      CHECK(run_cli("info --model " + tmp.file("ck/checkpoint.semb")).exit_code == 0);
      if (round > 0) continue;
      const auto resumed = run_cli(long_run(tmp).substr(std::string(SENTEMB_BIN).size() + 1) +
                                   " --resume --pause-after 3");
      INFO(resumed.err);
      CHECK(resumed.exit_code == 0);
      CHECK(resumed.err.find("paused") != std::string::npos);
    }
  }
}

TEST_CASE("a second signal quits at once, even while the data is still loading",
          "[cli][train][reliability]") {
  TempDir tmp;
  // A FIFO that is held open and never written: training waits in data loading for good.
  const std::string fifo = tmp.file("pairs.tsv");
  const int rc = shell(
      "mkfifo " + fifo + "; " + SENTEMB_BIN + " train --tokenizer " +
      data_path("tokenizer/tiny.model") +
      " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16 --batch 16 --threads 1 --pairs " +
      fifo + " --out " + tmp.file("m.semb") + " 2>" + tmp.file("err") + " & pid=$!; exec 3>" +
      fifo + "; sleep 0.3; kill -INT $pid; sleep 0.5; kill -0 $pid || exit 1; kill -INT $pid; " +
      "wait $pid");
  INFO(read_file(tmp.file("err")));
  CHECK(rc == 130);  // 1: the first signal alone ended the run
  CHECK(read_file(tmp.file("err")).find("quit at once") != std::string::npos);
}

TEST_CASE("kill -9 at any moment leaves a loadable checkpoint", "[cli][train][reliability]") {
  TempDir tmp;
  // Checkpoints are written every step, so a kill often lands inside a write.
  for (int round = 0; round < 5; ++round) {
    const std::string delay = "0." + std::to_string(round * 2 + 1);
    const int rc =
        shell(start_and_wait(tmp) + "sleep " + delay + "; kill -9 $pid; wait $pid 2>/dev/null");
    CHECK(rc == 137);
    const auto info = run_cli("info --model " + tmp.file("ck/checkpoint.semb"));
    INFO("round " << round << ": " << info.err);
    CHECK(info.exit_code == 0);
  }
}
