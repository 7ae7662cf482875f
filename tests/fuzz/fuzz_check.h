// Shared helpers for the fuzz targets.
#pragma once

#include <cstdio>
#include <cstdlib>

// A property every input must keep. A violation is a bug like a crash: print
// it and abort, so libFuzzer saves the input as a reproducer.
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
