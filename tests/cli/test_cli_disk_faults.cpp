// A full disk or a read-only checkpoint directory during training: the run
// stops with an error naming the checkpoint path, and the previous checkpoint
// survives byte for byte (checkpoints are replaced only by rename, see
// write_file_atomically in tensor_file.h).
//
// Without privileges a full disk is simulated by making CHECKPOINT.tmp a
// symlink to /dev/full (every write fails with ENOSPC). Where user + mount
// namespaces are available (`unshare -rm`), a real tiny tmpfs is filled up and
// remounted read-only; where they are not, ctest reports that test as skipped.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

using namespace sentemb::test;
using Catch::Matchers::Contains;

namespace {

// A tiny training run that pauses (writing a checkpoint) after 5 steps of each
// session; a second call with --resume writes the next checkpoint at step 10.
std::string paused_train_args(const TempDir& tmp, const std::string& checkpoint_dir) {
  return "train --tokenizer " + data_path("tokenizer/tiny.model") +
         " --layers 1 --dim 32 --heads 2 --ffn-dim 64 --max-len 16 --batch 16 --threads 1"
         " --seed 3 --pairs " +
         data_path("train/pairs.tsv") + " --max-steps 20 --checkpoint-every 5 --pause-after 5" +
         " --out " + tmp.file("m.semb") + " --checkpoint-dir " + checkpoint_dir;
}

// Runs the first session, which leaves CHECKPOINT_DIR/checkpoint.semb.
void write_first_checkpoint(const TempDir& tmp, const std::string& checkpoint_dir) {
  const auto first = run_cli(paused_train_args(tmp, checkpoint_dir));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  REQUIRE(std::filesystem::exists(checkpoint_dir + "/checkpoint.semb"));
}

int shell(const std::string& script) {
  const int status = std::system(script.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// True when this process may create a user + mount namespace and mount a tmpfs
// in it (not in every container or CI sandbox).
bool can_mount_tmpfs_in_namespace(const TempDir& tmp) {
  const std::string probe = tmp.file("probe");
  std::filesystem::create_directories(probe);
  return shell("unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs " + probe +
               "' >/dev/null 2>&1") == 0;
}

// The outcome of a resumed session run inside a private mount namespace, where
// `prepare` mounts and fills `dir` first. The tmpfs disappears with the
// namespace, so what the test needs from it is copied out before leaving.
struct NamespacedRun {
  int exit_code;
  std::string err;
  std::string checkpoint_after;  // dir/checkpoint.semb after the run
  std::string listing;           // `ls -A dir` after the run
};

NamespacedRun resume_in_namespace(const TempDir& tmp, const std::string& dir,
                                  const std::string& prepare) {
  const std::string script = prepare + " && { " + std::string(SENTEMB_BIN) + " " +
                             paused_train_args(tmp, dir) + " --resume 2>" + tmp.file("ns.err") +
                             "; echo $? >" + tmp.file("ns.rc") + "; cp " + dir +
                             "/checkpoint.semb " + tmp.file("ns.after") + "; ls -A " + dir + " >" +
                             tmp.file("ns.ls") + "; }";
  const int rc = shell("unshare -rm sh -c '" + script + "' >" + tmp.file("ns.out") + " 2>&1");
  INFO("namespace setup: " << read_file(tmp.file("ns.out")));
  REQUIRE(rc == 0);  // the mount and the copies; the run's own status is in ns.rc
  return {std::stoi(read_file(tmp.file("ns.rc"))), read_file(tmp.file("ns.err")),
          read_file(tmp.file("ns.after")), read_file(tmp.file("ns.ls"))};
}

}  // namespace

TEST_CASE("disk faults: a write failing with ENOSPC keeps the previous checkpoint",
          "[cli][train][reliability][disk]") {
  TempDir tmp;
  const std::string dir = tmp.file("ck"), checkpoint = dir + "/checkpoint.semb";
  write_first_checkpoint(tmp, dir);
  const std::string before = read_file(checkpoint);

  std::filesystem::create_symlink("/dev/full", checkpoint + ".tmp");
  const auto failed = run_cli(paused_train_args(tmp, dir) + " --resume");
  INFO(failed.err);
  CHECK(failed.exit_code != 0);
  CHECK_THAT(failed.err, Contains(checkpoint) && Contains("No space left on device"));
  CHECK_THAT(failed.err, Contains("was not replaced"));
  CHECK(read_file(checkpoint) == before);
  // The failed write cleaned up after itself (the symlink, not /dev/full).
  CHECK_FALSE(std::filesystem::is_symlink(checkpoint + ".tmp"));

  // The kept checkpoint loads and training continues from it.
  CHECK(run_cli("info --model " + checkpoint).exit_code == 0);
  const auto resumed = run_cli(paused_train_args(tmp, dir) + " --resume");
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Contains("after 10 steps"));
  CHECK(read_file(checkpoint) != before);
}

TEST_CASE("disk faults: a real full disk and a read-only checkpoint directory",
          "[cli][train][reliability][disk]") {
  TempDir tmp;
  if (!can_mount_tmpfs_in_namespace(tmp)) {
    // Catch2 2.x cannot skip: ctest reports a test whose output holds this marker
    // as skipped, not passed (SKIP_REGULAR_EXPRESSION, tests/CMakeLists.txt).
    WARN(
        "SENTEMB_TEST_SKIPPED: cannot mount a tmpfs in a user + mount namespace "
        "(unshare -rm) here");
    return;
  }
  const std::string outside = tmp.file("ck");
  write_first_checkpoint(tmp, outside);
  const std::string before = read_file(outside + "/checkpoint.semb");
  const std::string dir = tmp.file("mnt");
  std::filesystem::create_directories(dir);

  SECTION("a tmpfs with room for one checkpoint but not a second") {
    // tmpfs counts whole pages; 64 KiB of slack is far less than a second copy.
    const std::size_t size_k = before.size() / 1024 + 64;
    REQUIRE(size_k * 1024 < 2 * before.size());
    const auto r =
        resume_in_namespace(tmp, dir,
                            "mount -t tmpfs -o size=" + std::to_string(size_k) + "k tmpfs " + dir +
                                " && cp " + outside + "/checkpoint.semb " + dir + "/");
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Contains(dir + "/checkpoint.semb") && Contains("No space left on device"));
    CHECK(r.checkpoint_after == before);
    CHECK(r.listing == "checkpoint.semb\n");  // the partial .tmp was removed
    CHECK(run_cli("info --model " + tmp.file("ns.after")).exit_code == 0);
  }
  SECTION("a checkpoint directory remounted read-only") {
    const auto r =
        resume_in_namespace(tmp, dir,
                            "mount -t tmpfs -o size=2m tmpfs " + dir + " && cp " + outside +
                                "/checkpoint.semb " + dir + "/ && mount -o remount,ro " + dir);
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Contains(dir + "/checkpoint.semb") && Contains("Read-only file system"));
    CHECK(r.checkpoint_after == before);
    CHECK(r.listing == "checkpoint.semb\n");
    CHECK(run_cli("info --model " + tmp.file("ns.after")).exit_code == 0);
  }
}
