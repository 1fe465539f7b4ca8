# Fails when README.md's composition example differs from the compiled one.
# Usage: cmake -DREADME=... -DSOURCE=... -P readme_sync.cmake
file(READ ${SOURCE} source)
string(REGEX MATCH "// readme-example-begin\n(.*)// readme-example-end" _ "${source}")
set(expected "${CMAKE_MATCH_1}")
file(READ ${README} readme)
string(FIND "${readme}" "```cpp\n${expected}```" found)
if(expected STREQUAL "" OR found EQUAL -1)
  message(FATAL_ERROR "README.md must contain, in a ```cpp block, exactly the lines between the markers of ${SOURCE}")
endif()
