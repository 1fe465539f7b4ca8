# Shared by the cmake -P steps in this directory.

# require_definitions(<var>...): every named -D<var>=... must have been given.
function(require_definitions)
  foreach(name IN LISTS ARGN)
    if(NOT DEFINED ${name})
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: -D${name}=... is required")
    endif()
  endforeach()
endfunction()

# run(<command>...): runs the command, output passing through; stops the step on failure.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${status}): ${command}")
  endif()
endfunction()
