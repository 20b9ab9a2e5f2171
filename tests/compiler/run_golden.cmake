# Runs `moosec ARGS...` in the tests/compiler folder (so the paths in the
# diagnostics are the relative ones given here, whatever the build directory)
# and compares stderr, stdout and the exit status with the golden file
# EXPECTED. With UPDATE_GOLDEN=1 in the environment it rewrites the golden
# file instead.
#   cmake -DMOOSEC=... -DWORKDIR=... -DEXPECTED=... -DACTUAL=... "-DARGS=check|x.moose" -P run_golden.cmake
foreach(var MOOSEC WORKDIR EXPECTED ACTUAL ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_golden.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" ARGS "${ARGS}")
set(input_file /dev/null)
if(DEFINED INPUT)
  set(input_file ${WORKDIR}/${INPUT}) # standard input, relative to WORKDIR
endif()
execute_process(COMMAND ${MOOSEC} ${ARGS}
  WORKING_DIRECTORY ${WORKDIR}
  INPUT_FILE ${input_file}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)

set(actual "${err}")
if(NOT out STREQUAL "")
  string(APPEND actual "--- stdout\n${out}")
endif()
string(APPEND actual "--- exit ${rc}\n")

if("$ENV{UPDATE_GOLDEN}" STREQUAL "1")
  file(WRITE ${EXPECTED} "${actual}")
  message(STATUS "updated ${EXPECTED}")
  return()
endif()

file(WRITE ${ACTUAL} "${actual}")
if(NOT EXISTS ${EXPECTED})
  message(FATAL_ERROR "no golden file ${EXPECTED}; run with UPDATE_GOLDEN=1 to create it.\n"
                      "Output was:\n${actual}")
endif()
file(READ ${EXPECTED} expected)
if(NOT expected STREQUAL actual)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND ${DIFF} -u ${EXPECTED} ${ACTUAL} OUTPUT_VARIABLE d)
    message("${d}")
  else()
    message("expected:\n${expected}\nactual:\n${actual}")
  endif()
  message(FATAL_ERROR "moosec ${ARGS}: output differs from ${EXPECTED} "
                      "(UPDATE_GOLDEN=1 ctest -R compiler rewrites the golden files)")
endif()
