// A main() for the fuzz targets without libFuzzer (any compiler): replays the
// files named on the command line, and every file under the directories named
// there (recursively, in path order), through the target's
// LLVMFuzzerTestOneInput, one after another in this process. tests/CMakeLists.txt
// builds each fuzz_*.cpp with it as the ctest test fuzz_replay_TARGET, so the
// seeds and the regression inputs run in the normal suite and under ASan
// (tools/sanitize.sh); tools/fuzz.sh fuzzes with libFuzzer.
//
// Each input is copied into a buffer of exactly its size, as libFuzzer does, so
// ASan sees a read past the end. A failing input is named on stderr before it
// runs. Exits 2 when an argument does not exist or there is nothing to replay.
// Without a sanitizer (which reserves terabytes of address space for itself) the
// address space is capped at 4 GiB, as libFuzzer's -malloc_limit_mb caps a
// fuzzing run: a small input asking for gigabytes fails with std::bad_alloc
// instead of taking the machine's memory.
#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SENTEMB_REPLAY_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SENTEMB_REPLAY_SANITIZED 1
#endif

int main(int argc, char** argv) {
#ifndef SENTEMB_REPLAY_SANITIZED
  const rlimit cap{rlim_t{4} << 30, rlim_t{4} << 30};
  if (setrlimit(RLIMIT_AS, &cap) != 0) std::perror("replay: setrlimit");
#endif
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_directory(arg)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(arg))
        if (entry.is_regular_file()) found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      inputs.insert(inputs.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s FILE_OR_DIR...)\n", argv[0]);
    return 2;
  }
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
    if (!in.eof() && in.fail()) {
      std::fprintf(stderr, "replay: %s: cannot read\n", path.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
    const auto copy = std::make_unique<std::uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), copy.get());
    LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
