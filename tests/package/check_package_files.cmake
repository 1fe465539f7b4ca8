# ctest step (cmake -P): the vcpkg port and the changelog agree with the CMake project.
# The version lives in CMakeLists.txt's project(VERSION) alone: version.hpp, the CMake
# package version and trustgate.pc are generated from it and conanfile.py reads it, but
# vcpkg.json cannot read files, so this step fails when its "version" differs. It also
# fails when CHANGELOG.md has no section for the version, when the port's features are
# not the package's optional components, or when the portfile leaves out an option of
# the library-only build that tests/package installs with.
#   cmake -DSOURCE_DIR=... -DVERSION=... -DCOMPONENTS=a,b -DBUILD_OPTIONS=-DX=OFF,-DY=OFF
#         -P check_package_files.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_helpers.cmake)
require_definitions(SOURCE_DIR VERSION COMPONENTS BUILD_OPTIONS)
string(REPLACE "," ";" COMPONENTS "${COMPONENTS}")
string(REPLACE "," ";" BUILD_OPTIONS "${BUILD_OPTIONS}")

set(problems "")
set(port_dir "${SOURCE_DIR}/ports/trustgate")
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON port_version ERROR_VARIABLE json_error GET "${manifest}" version)
if(json_error)
  string(APPEND problems "\n  ports/trustgate/vcpkg.json: no \"version\" (${json_error})")
elseif(NOT port_version STREQUAL VERSION)
  string(APPEND problems "\n  ports/trustgate/vcpkg.json: \"version\" is ${port_version}, the project is ${VERSION}")
endif()

set(features "")
string(JSON feature_count ERROR_VARIABLE json_error LENGTH "${manifest}" features)
if(NOT json_error AND feature_count GREATER 0)
  math(EXPR last "${feature_count} - 1")
  foreach(index RANGE ${last})
    string(JSON feature MEMBER "${manifest}" features ${index})
    list(APPEND features ${feature})
  endforeach()
endif()
list(SORT features)
list(SORT COMPONENTS)
if(NOT features STREQUAL COMPONENTS)
  string(APPEND problems "\n  ports/trustgate/vcpkg.json: features '${features}' are not the components '${COMPONENTS}'")
endif()

file(READ "${port_dir}/portfile.cmake" portfile)
foreach(option IN LISTS BUILD_OPTIONS)
  string(FIND "${portfile}" "${option}" at)
  if(at EQUAL -1)
    string(APPEND problems "\n  ports/trustgate/portfile.cmake: does not pass ${option}")
  endif()
endforeach()

string(REPLACE "." "\\." version_pattern "${VERSION}")
file(STRINGS "${SOURCE_DIR}/CHANGELOG.md" section REGEX "^## \\[${version_pattern}\\]")
if(NOT section)
  string(APPEND problems "\n  CHANGELOG.md: no '## [${VERSION}]' section")
endif()

if(problems)
  message(FATAL_ERROR "the package files disagree with the project (version ${VERSION}):${problems}")
endif()
message(STATUS "version ${VERSION}, components ${COMPONENTS}: vcpkg.json, portfile.cmake and CHANGELOG.md agree")
