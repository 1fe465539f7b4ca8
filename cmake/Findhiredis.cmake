# Findhiredis: hiredis::hiredis, the Redis client the trustgate::redis component links.
#
# hiredis 1.x installs a CMake package that defines hiredis::hiredis (vcpkg, Conan,
# newer distributions); Debian 12's 0.14 installs only a header and a library, with a
# config file that sets variables under another name. Both are accepted. Installed next
# to trustgate's package config, which puts this directory on CMAKE_MODULE_PATH while it
# finds a component's packages.
# CMAKE_REQUIRE_FIND_PACKAGE_hiredis is about this module's answer, not about whether
# hiredis 1.x's own package exists: the fallback below may still find 0.14.
set(trustgate_require_hiredis "${CMAKE_REQUIRE_FIND_PACKAGE_hiredis}")
set(CMAKE_REQUIRE_FIND_PACKAGE_hiredis OFF)
find_package(hiredis CONFIG QUIET)
set(CMAKE_REQUIRE_FIND_PACKAGE_hiredis "${trustgate_require_hiredis}")
unset(trustgate_require_hiredis)
if(TARGET hiredis::hiredis)
  set(hiredis_FOUND TRUE)
  return()
endif()

find_path(hiredis_INCLUDE_DIR hiredis/hiredis.h)
find_library(hiredis_LIBRARY NAMES hiredis)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(hiredis REQUIRED_VARS hiredis_LIBRARY hiredis_INCLUDE_DIR)
if(hiredis_FOUND AND NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis UNKNOWN IMPORTED)
  set_target_properties(hiredis::hiredis PROPERTIES
    IMPORTED_LOCATION "${hiredis_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${hiredis_INCLUDE_DIR}")
endif()
mark_as_advanced(hiredis_INCLUDE_DIR hiredis_LIBRARY)
