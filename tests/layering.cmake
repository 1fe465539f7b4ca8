# The library's layering (README "Layout"), checked on the include lines:
# - a header in a detail/ directory includes no public trustgate header: detail/ is a leaf;
# - the core (trustgate/*.hpp and trustgate/{detail,impl,net,policy}/) includes no optional
#   component (beast, runtime, redis, assertion, testing, config), so it needs no more than
#   the C++ standard library;
# - nothing in include/ or tests/fuzz/ includes examples/.
# Usage: cmake -DROOT=<source dir> -P layering.cmake
file(GLOB_RECURSE headers RELATIVE ${ROOT}/include ${ROOT}/include/trustgate/*.hpp)
set(problems "")
foreach(header IN LISTS headers)
  file(STRINGS ${ROOT}/include/${header} includes REGEX "^#include [\"<]trustgate/")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^#include [\"<]([^\">]+)[\">].*" "\\1" included "${line}")
    if(header MATCHES "/detail/" AND NOT included MATCHES "/detail/")
      string(APPEND problems "\n  ${header} (detail/) includes the public ${included}")
    endif()
    if(header MATCHES "^trustgate/([^/]+\\.hpp|(detail|impl|net|policy)/.*)$" AND NOT header STREQUAL "trustgate/runtime.hpp"
       AND included MATCHES "^trustgate/(beast|runtime|redis|assertion|testing|config)/")
      string(APPEND problems "\n  ${header} (core) includes the optional ${included}")
    endif()
  endforeach()
endforeach()
file(GLOB_RECURSE sources ${ROOT}/include/*.hpp ${ROOT}/tests/fuzz/*.cpp ${ROOT}/tests/fuzz/*.hpp)
foreach(source IN LISTS sources)
  file(STRINGS ${source} includes REGEX "^#include .*examples/")
  if(includes)
    string(APPEND problems "\n  ${source} includes examples/: ${includes}")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "layering broken:${problems}")
endif()
list(LENGTH headers count)
message(STATUS "layering holds over ${count} headers")
