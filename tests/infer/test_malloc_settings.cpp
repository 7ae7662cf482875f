#include <catch2/catch.hpp>

#include "sentemb/malloc_settings.h"

TEST_CASE("glibc accepts the malloc settings the CLI applies", "[malloc]") {
#if defined(__GLIBC__)
  CHECK(sentemb::apply_malloc_settings());
#else
  CHECK_FALSE(sentemb::apply_malloc_settings());
#endif
}
