#include <catch2/catch.hpp>
#include <cstdlib>

#include "malloc_settings.h"

TEST_CASE("glibc accepts the malloc settings the CLI applies", "[malloc]") {
  const bool applied = sentemb::apply_malloc_settings();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // malloc is then the sanitizer's, which may refuse glibc's settings (ASan's does).
  (void)applied;
#elif defined(__GLIBC__)
  CHECK(applied);
#else
  CHECK_FALSE(applied);
#endif
}
