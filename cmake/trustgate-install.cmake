# trustgate's install: what `cmake --install` puts under the prefix, exactly as the vcpkg
# port (ports/trustgate) and the Conan recipe (conanfile.py) run it; tests/package installs
# it the same way and builds consumers against it. Included by the top-level
# CMakeLists.txt when TRUSTGATE_INSTALL is on.
#
#   include/trustgate/...                     every header, version.hpp and the
#                                             reference model included
#   share/trustgate/trustgate-config.cmake    the CMake package, with one targets file per
#                                             component built (vcpkg_cmake_config_fixup's
#                                             default place)
#   share/pkgconfig/trustgate.pc              the core, for pkg-config
#   share/doc/trustgate/LICENSE, behaviour.md    the licence and the behaviour contract
#                                             that the headers cite

# Every header, whichever components are built: a Conan header-library package is the
# same whatever its options, and a component's headers do nothing without its target.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ ${PROJECT_BINARY_DIR}/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The reference model ships with the testing component. The build tree reads it from
# models/; installed, it sits beside the other headers (include/trustgate/model/), so
# the core's include directory serves it.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/trustgate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")

set(trustgate_cmake_dir ${CMAKE_INSTALL_DATADIR}/trustgate)
install(TARGETS trustgate EXPORT trustgate-targets)
install(EXPORT trustgate-targets NAMESPACE trustgate:: DESTINATION ${trustgate_cmake_dir})
# One export file per component, so the package config loads only what is asked for.
foreach(component IN LISTS trustgate_components)
  if(TARGET trustgate_${component})
    install(TARGETS trustgate_${component} EXPORT trustgate-${component}-targets)
    install(EXPORT trustgate-${component}-targets NAMESPACE trustgate:: DESTINATION ${trustgate_cmake_dir})
  endif()
endforeach()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/trustgate-config.cmake.in
  ${PROJECT_BINARY_DIR}/trustgate-config.cmake INSTALL_DESTINATION ${trustgate_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/trustgate-config-version.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/trustgate-config.cmake ${PROJECT_BINARY_DIR}/trustgate-config-version.cmake
              ${PROJECT_SOURCE_DIR}/cmake/trustgate-dependencies.cmake ${PROJECT_SOURCE_DIR}/cmake/Findhiredis.cmake
        DESTINATION ${trustgate_cmake_dir})

# The .pc file finds the prefix from its own place, so it stays right under
# `cmake --install --prefix` and in a relocated package.
set(trustgate_pkgconfig_dir ${CMAKE_INSTALL_DATADIR}/pkgconfig)
file(RELATIVE_PATH TRUSTGATE_PKGCONFIG_TO_PREFIX /prefix/${trustgate_pkgconfig_dir} /prefix)
string(REGEX REPLACE "/$" "" TRUSTGATE_PKGCONFIG_TO_PREFIX "${TRUSTGATE_PKGCONFIG_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/trustgate.pc.in ${PROJECT_BINARY_DIR}/trustgate.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/trustgate.pc DESTINATION ${trustgate_pkgconfig_dir})

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/docs/behaviour.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
