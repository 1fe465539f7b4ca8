# ctest step (cmake -P): installs trustgate into PREFIX as ports/trustgate/portfile.cmake
# and conanfile.py do: a fresh configure of the source tree with tests, examples and
# benchmarks off, then build and `cmake --install --prefix`. EXTRA_OPTIONS carries the
# component choice, as the port's features do (CMAKE_REQUIRE_FIND_PACKAGE_<Package> to
# insist on a component, CMAKE_DISABLE_FIND_PACKAGE_<Package> to leave it out).
#
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DPREFIX=... -DGENERATOR=... -DCXX_COMPILER=...
#         [-DEXTRA_OPTIONS=a;b] -P install_like_packagers.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_helpers.cmake)
require_definitions(SOURCE_DIR BINARY_DIR PREFIX GENERATOR CXX_COMPILER)

# A stale prefix could hide a component this install no longer provides.
file(REMOVE_RECURSE "${BINARY_DIR}" "${PREFIX}")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
    -DTRUSTGATE_BUILD_TESTS=OFF -DTRUSTGATE_BUILD_EXAMPLES=OFF -DTRUSTGATE_BUILD_BENCHMARKS=OFF
    ${EXTRA_OPTIONS})
run(${CMAKE_COMMAND} --build "${BINARY_DIR}")
run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${PREFIX}")
