# The packages each optional component of trustgate needs. The build reads this file to
# decide which component targets to define, and it is installed next to the package
# config, which reads it to find a component's packages when a consumer asks for that
# component: one list, so the build and the installed package cannot disagree.
#
# The core, trustgate::trustgate, needs nothing.

set(trustgate_components beast testing config assertion redis runtime)
set(trustgate_beast_dependencies "Boost 1.74" "Threads" "OpenSSL")
set(trustgate_testing_dependencies "rapidcheck CONFIG")
set(trustgate_config_dependencies "nlohmann_json 3")
set(trustgate_assertion_dependencies "OpenSSL" "nlohmann_json 3")
# hiredis through cmake/Findhiredis.cmake (installed alongside): Debian's 0.14 has no
# usable CMake package, hiredis 1.x has one.
set(trustgate_redis_dependencies "hiredis" "Threads")
# The runtime (configuration, secrets, reload, audit, HTTP answers) reads JSON, fetches
# assertion keys and answers through the Beast adapter.
set(trustgate_runtime_dependencies "Boost 1.74" "Threads" "OpenSSL" "nlohmann_json 3")

# trustgate_find_component_dependencies(<component> <missing-var> [QUIET])
# Runs find_package for each package <component> needs and sets <missing-var> to the
# names of those not found (empty when all were). Never REQUIRED, so a missing package
# makes the component unavailable instead of stopping the configure step (a build can
# still insist with CMAKE_REQUIRE_FIND_PACKAGE_<Package>). Like find_package, it leaves
# <Package>_FOUND set in the caller's scope; imported targets are directory-scoped, so
# those the packages define stay visible to the caller too.
function(trustgate_find_component_dependencies component missing_var)
  set(missing "")
  list(PREPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  foreach(dependency IN LISTS trustgate_${component}_dependencies)
    separate_arguments(find_arguments UNIX_COMMAND "${dependency}")
    list(GET find_arguments 0 package)
    find_package(${find_arguments} ${ARGN})
    set(${package}_FOUND "${${package}_FOUND}" PARENT_SCOPE)
    if(NOT ${package}_FOUND)
      list(APPEND missing ${package})
    endif()
  endforeach()
  set(${missing_var} "${missing}" PARENT_SCOPE)
endfunction()
