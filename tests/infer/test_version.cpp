// The generated sentemb/version.h carries the project version of CMakeLists.txt
// (`sentemb --version` printing it too is the ctest cli_version_is_the_project_version).
#include <catch2/catch.hpp>
#include <string>

#include "sentemb/version.h"

TEST_CASE("version.h holds the project version", "[version]") {
  CHECK(std::string(SENTEMB_VERSION) == SENTEMB_PROJECT_VERSION);
  CHECK(std::string(SENTEMB_VERSION) == std::to_string(SENTEMB_VERSION_MAJOR) + "." +
                                            std::to_string(SENTEMB_VERSION_MINOR) + "." +
                                            std::to_string(SENTEMB_VERSION_PATCH));
}
