# ctest step (cmake -P): installs trustgate into PREFIX as ports/trustgate/portfile.cmake
# and conanfile.py do: a fresh configure of the source tree with OPTIONS (the library-only
# build: tests, examples and benchmarks off; and the component choice, as the port's
# features make it: CMAKE_REQUIRE_FIND_PACKAGE_<Package> to insist on a component,
# CMAKE_DISABLE_FIND_PACKAGE_<Package> to leave it out), then build and
# `cmake --install --prefix`.
#
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DPREFIX=... -DGENERATOR=... -DCXX_COMPILER=...
#         -DOPTIONS=-Da=b,-Dc=d -P install_like_packagers.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_helpers.cmake)
require_definitions(SOURCE_DIR BINARY_DIR PREFIX GENERATOR CXX_COMPILER OPTIONS)
string(REPLACE "," ";" OPTIONS "${OPTIONS}")

# A stale prefix could hide a component this install no longer provides.
file(REMOVE_RECURSE "${BINARY_DIR}" "${PREFIX}")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release ${OPTIONS})
run(${CMAKE_COMMAND} --build "${BINARY_DIR}")
run(${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${PREFIX}")
