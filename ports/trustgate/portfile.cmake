# Overlay port: builds trustgate from the source tree this port lives in.
#   vcpkg install "trustgate[beast,testing,config]" --overlay-ports=<trustgate>/ports
# `scripts/release` turns it into a versioned port for a registry: it replaces the
# source block below with the download of the release tarball it made and its SHA512.
# It runs the same install as tests/package/install_like_packagers.cmake, which ctest
# builds and runs consumers against.

set(VCPKG_BUILD_TYPE release)  # header-only: there is nothing to build per configuration

# begin source
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
# end source

# A feature requires its component's packages (see cmake/trustgate-dependencies.cmake); a
# feature left out hides the packages only it uses. nlohmann-json (config, assertion) and
# OpenSSL (beast, assertion) are shared, so they are never hidden: a component whose
# packages another feature brought is installed too (headers only, nothing to build).
# runtime brings the beast feature (vcpkg.json), so Boost is never hidden under it.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    beast   CMAKE_REQUIRE_FIND_PACKAGE_Boost
    beast   CMAKE_REQUIRE_FIND_PACKAGE_OpenSSL
    testing CMAKE_REQUIRE_FIND_PACKAGE_rapidcheck
    config  CMAKE_REQUIRE_FIND_PACKAGE_nlohmann_json
    assertion CMAKE_REQUIRE_FIND_PACKAGE_nlohmann_json
    assertion CMAKE_REQUIRE_FIND_PACKAGE_OpenSSL
    redis   CMAKE_REQUIRE_FIND_PACKAGE_hiredis
    runtime CMAKE_REQUIRE_FIND_PACKAGE_Boost
    runtime CMAKE_REQUIRE_FIND_PACKAGE_OpenSSL
    runtime CMAKE_REQUIRE_FIND_PACKAGE_nlohmann_json
  INVERTED_FEATURES
    beast   CMAKE_DISABLE_FIND_PACKAGE_Boost
    testing CMAKE_DISABLE_FIND_PACKAGE_rapidcheck
    redis   CMAKE_DISABLE_FIND_PACKAGE_hiredis
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DTRUSTGATE_BUILD_TESTS=OFF
    -DTRUSTGATE_BUILD_EXAMPLES=OFF
    -DTRUSTGATE_BUILD_BENCHMARKS=OFF
    ${FEATURE_OPTIONS}
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup()  # the project installs its package to share/trustgate already
vcpkg_fixup_pkgconfig()

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
