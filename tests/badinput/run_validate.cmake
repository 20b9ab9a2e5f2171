# Runs `APP ARGS...` in WORKDIR and compares its standard error, standard
# output and exit status with the golden file EXPECTED (UPDATE_GOLDEN=1 in the
# environment rewrites EXPECTED instead).
#   cmake -DAPP=... -DWORKDIR=... -DEXPECTED=... -DACTUAL=... "-DARGS=validate|s|f" -P run_validate.cmake
foreach(var APP WORKDIR EXPECTED ACTUAL ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_validate.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" ARGS "${ARGS}")
execute_process(COMMAND ${APP} ${ARGS}
  WORKING_DIRECTORY ${WORKDIR}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
set(actual "${out}")
if(NOT err STREQUAL "")
  string(APPEND actual "--- stderr\n${err}")
endif()
string(APPEND actual "--- exit ${rc}\n")

if("$ENV{UPDATE_GOLDEN}" STREQUAL "1")
  file(WRITE ${EXPECTED} "${actual}")
  message(STATUS "updated ${EXPECTED}")
  return()
endif()
file(WRITE ${ACTUAL} "${actual}")
if(NOT EXISTS ${EXPECTED})
  message(FATAL_ERROR "no golden file ${EXPECTED}; UPDATE_GOLDEN=1 creates it. Output:\n${actual}")
endif()
file(READ ${EXPECTED} expected)
if(NOT expected STREQUAL actual)
  execute_process(COMMAND diff -u ${EXPECTED} ${ACTUAL} OUTPUT_VARIABLE d)
  message("${d}")
  message(FATAL_ERROR "${APP} ${ARGS}: output differs from ${EXPECTED} "
                      "(UPDATE_GOLDEN=1 ctest -R badinput rewrites the golden files)")
endif()
