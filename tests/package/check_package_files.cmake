# ctest step (cmake -P): the version lives in CMakeLists.txt's project(VERSION) alone.
# version.hpp, the CMake package version and trustgate.pc are generated from it and
# conanfile.py reads it; the vcpkg manifest cannot read files, so this step fails when
# its "version" differs, and when CHANGELOG.md has no section for the version.
#   cmake -DSOURCE_DIR=... -DVERSION=<project version> -P check_versions.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_helpers.cmake)
require_definitions(SOURCE_DIR VERSION)

set(problems "")
file(READ "${SOURCE_DIR}/ports/trustgate/vcpkg.json" manifest)
string(JSON port_version ERROR_VARIABLE json_error GET "${manifest}" version)
if(json_error)
  string(APPEND problems "\n  ports/trustgate/vcpkg.json: no \"version\" (${json_error})")
elseif(NOT port_version STREQUAL VERSION)
  string(APPEND problems "\n  ports/trustgate/vcpkg.json: \"version\" is ${port_version}, the project is ${VERSION}")
endif()

string(REPLACE "." "\\." version_pattern "${VERSION}")
file(STRINGS "${SOURCE_DIR}/CHANGELOG.md" section REGEX "^## \\[${version_pattern}\\]")
if(NOT section)
  string(APPEND problems "\n  CHANGELOG.md: no '## [${VERSION}]' section")
endif()

if(problems)
  message(FATAL_ERROR "version ${VERSION} (CMakeLists.txt project()) is not used everywhere:${problems}")
endif()
message(STATUS "version ${VERSION}: vcpkg.json and CHANGELOG.md agree")
