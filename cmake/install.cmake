# `cmake --install build [--prefix P]`: the sentemb tool, the static libraries, the
# public headers, and the packages an outside project finds them by:
#   CMake:      find_package(sentemb 0.2 CONFIG REQUIRED) -> sentemb::infer, sentemb::train
#   pkg-config: sentemb (inference), sentemb-train (training)
# tests/consumer/ builds a project against the installed prefix both ways.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SENTEMB_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sentemb)

if(SENTEMB_CLI)
  install(TARGETS sentemb RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Two export sets: sentemb::train needs MPI (through sentemb_dist, private but static,
# so its users link libmpi), which a user of sentemb::infer alone need not have.
install(TARGETS sentemb_infer EXPORT sentembInferTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(export_sets Infer)
set(pkg_config_files sentemb)
if(SENTEMB_TRAIN)
  install(TARGETS sentemb_train sentemb_dist EXPORT sentembTrainTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  list(APPEND export_sets Train)
  list(APPEND pkg_config_files sentemb-train)
endif()
foreach(part ${export_sets})
  install(EXPORT sentemb${part}Targets NAMESPACE sentemb::
          DESTINATION ${SENTEMB_CMAKE_INSTALL_DIR})
endforeach()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sentemb DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h"
        # sentemb_export (protobuf made local, see CMakeLists.txt) and sentemb_index
        # (faiss) are the CLI's libraries, not installed.
        PATTERN "export.h" EXCLUDE PATTERN "vector_index.h" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/sentemb/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sentemb)

# Before 1.0 a minor release may change the API (semantic versioning): 0.2 accepts
# 0.2.x only; from 1.0 on, the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(compatibility SameMinorVersion)
else()
  set(compatibility SameMajorVersion)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/sentembConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/package/sentembConfig.cmake
                              INSTALL_DESTINATION ${SENTEMB_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/sentembConfigVersion.cmake
                                 COMPATIBILITY ${compatibility})
install(FILES ${PROJECT_BINARY_DIR}/package/sentembConfig.cmake
              ${PROJECT_BINARY_DIR}/package/sentembConfigVersion.cmake
        DESTINATION ${SENTEMB_CMAKE_INSTALL_DIR})

# pkg-config files that find the prefix from their own place (${pcfiledir}), so an
# installed tree can be moved: LIBDIR/pkgconfig is as many levels below the prefix
# as LIBDIR has parts plus one.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SENTEMB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(SENTEMB_PC_PREFIX "\${pcfiledir}/..")
  string(REGEX MATCHALL "[^/]+" libdir_parts "${CMAKE_INSTALL_LIBDIR}")
  foreach(part ${libdir_parts})
    string(APPEND SENTEMB_PC_PREFIX "/..")
  endforeach()
endif()
foreach(pc ${pkg_config_files})
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${PROJECT_BINARY_DIR}/package/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/package/${pc}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
