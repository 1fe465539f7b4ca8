# ctest step (cmake -P): configures and builds the consumer project CONSUMER_DIR against
# PREFIX alone, and checks that find_package took trustgate from PREFIX (not from a
# system install or a package registry).
#
#   cmake -DCONSUMER_DIR=... -DBINARY_DIR=... -DPREFIX=... -DGENERATOR=... -DCXX_COMPILER=...
#         -P consume.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_helpers.cmake)
require_definitions(CONSUMER_DIR BINARY_DIR PREFIX GENERATOR CXX_COMPILER)

file(REMOVE_RECURSE "${BINARY_DIR}")
run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${PREFIX}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

file(STRINGS "${BINARY_DIR}/CMakeCache.txt" found_dir REGEX "^trustgate_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found_dir "${found_dir}")
file(REAL_PATH "${PREFIX}/share/trustgate" expected_dir)
if(EXISTS "${found_dir}")
  file(REAL_PATH "${found_dir}" found_dir)
endif()
if(NOT found_dir STREQUAL expected_dir)
  message(FATAL_ERROR "find_package(trustgate) used '${found_dir}', not the installed '${expected_dir}'")
endif()

run(${CMAKE_COMMAND} --build "${BINARY_DIR}" --parallel 2)
