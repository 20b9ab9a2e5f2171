# Runs moosec and compares what it wrote with a golden file, byte for byte.
#   -DMOOSEC=path -DSCHEMA_DIR=dir -DSCHEMA=file.moose -DGOLDEN=file -DWORK_DIR=dir
#   -DMODE=ddl      -DDIALECT=sqlite|clickhouse   stdout must match, exit 0
#   -DMODE=ddl_error -DDIALECT=...                stderr must match, exit 1, stdout empty
#   -DMODE=stubs                                  the written file must match; a second
#                                                 run must refuse (exit 2) and keep it
#   -DMODE=stubs_compile -DCC=cc -DINCLUDE=dir    gen + stubs, and the stubs compile
#   -DMODE=cli -DARGS=a|b -DRC=n                  exit status N, output matches, no file written
# MOOSE_UPDATE_GOLDEN=1 in the environment rewrites the golden file instead.
cmake_minimum_required(VERSION 3.20)

macro(fail)
  string(CONCAT _fail_msg ${ARGN})
  message(FATAL_ERROR "${_fail_msg}")
endmacro()

function(compare actual golden)
  if(DEFINED ENV{MOOSE_UPDATE_GOLDEN} AND "$ENV{MOOSE_UPDATE_GOLDEN}" STREQUAL "1")
    file(WRITE "${golden}" "${actual}")
    message(STATUS "updated ${golden}")
    return()
  endif()
  if(NOT EXISTS "${golden}")
    fail("golden file ${golden} is missing; run with MOOSE_UPDATE_GOLDEN=1 to create it. "
         "Output was:\n${actual}")
  endif()
  file(READ "${golden}" expected)
  if(NOT actual STREQUAL expected)
    file(WRITE "${WORK_DIR}/actual" "${actual}")
    execute_process(COMMAND diff -u "${golden}" "${WORK_DIR}/actual" OUTPUT_VARIABLE diff)
    fail("output differs from ${golden}:\n${diff}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "ddl" OR MODE STREQUAL "ddl_error")
  execute_process(COMMAND "${MOOSEC}" ddl --dialect "${DIALECT}" "${SCHEMA}"
                  WORKING_DIRECTORY "${SCHEMA_DIR}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(MODE STREQUAL "ddl")
    if(NOT rc EQUAL 0)
      fail("moosec ddl --dialect ${DIALECT} ${SCHEMA} exited ${rc}, expected 0:\n${err}")
    endif()
    compare("${out}" "${GOLDEN}")
  else()
    if(NOT rc EQUAL 1)
      fail("moosec ddl --dialect ${DIALECT} ${SCHEMA} exited ${rc}, expected 1 (schema "
           "error):\n${out}${err}")
    endif()
    if(NOT out STREQUAL "")
      fail("a refused schema must print no DDL, got:\n${out}")
    endif()
    compare("${err}" "${GOLDEN}")
  endif()
elseif(MODE STREQUAL "stubs")
  get_filename_component(base "${SCHEMA}" NAME_WLE)
  set(stubs "${WORK_DIR}/${base}_transforms.c")
  execute_process(COMMAND "${MOOSEC}" stubs -o "${WORK_DIR}" "${SCHEMA}"
                  WORKING_DIRECTORY "${SCHEMA_DIR}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("moosec stubs ${SCHEMA} exited ${rc}, expected 0:\n${err}")
  endif()
  if(NOT EXISTS "${stubs}")
    fail("moosec stubs did not write ${stubs}")
  endif()
  file(READ "${stubs}" written)
  compare("${written}" "${GOLDEN}")

  # the file is the user's now: a second run must refuse and leave it alone
  file(WRITE "${stubs}" "/* my transforms */\n")
  execute_process(COMMAND "${MOOSEC}" stubs -o "${WORK_DIR}" "${SCHEMA}"
                  WORKING_DIRECTORY "${SCHEMA_DIR}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 2)
    fail("moosec stubs over an existing file exited ${rc}, expected 2")
  endif()
  string(CONCAT want "moosec: stubs: ${stubs} already exists; it holds your transforms, so "
         "it is not overwritten (move it away to get fresh stubs)\n")
  if(NOT err STREQUAL want)
    fail("moosec stubs over an existing file said:\n${err}\nexpected:\n${want}")
  endif()
  file(READ "${stubs}" kept)
  if(NOT kept STREQUAL "/* my transforms */\n")
    fail("moosec stubs changed an existing ${stubs}")
  endif()
elseif(MODE STREQUAL "cli")
  # ARGS: the command line, '|'-separated; @WORK@ stands for WORK_DIR. RC: the exit status.
  string(REPLACE "|" ";" args "${ARGS}")
  string(REPLACE "@WORK@" "${WORK_DIR}" args "${args}")
  execute_process(COMMAND "${MOOSEC}" ${args} WORKING_DIRECTORY "${SCHEMA_DIR}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL RC)
    fail("moosec ${args} exited ${rc}, expected ${RC}:\n${out}${err}")
  endif()
  string(REPLACE "${WORK_DIR}" "@WORK@" err "${err}")
  compare("${out}${err}" "${GOLDEN}")
  file(GLOB written "${WORK_DIR}/*")
  if(written)
    fail("moosec ${args} wrote ${written}")
  endif()
elseif(MODE STREQUAL "stubs_compile")
  # the stubs, as written, against the header moosec gen writes: the signatures agree
  foreach(cmd gen stubs)
    execute_process(COMMAND "${MOOSEC}" ${cmd} -o "${WORK_DIR}" "${SCHEMA}"
                    WORKING_DIRECTORY "${SCHEMA_DIR}" ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      fail("moosec ${cmd} ${SCHEMA} exited ${rc}:\n${err}")
    endif()
  endforeach()
  get_filename_component(base "${SCHEMA}" NAME_WLE)
  execute_process(COMMAND "${CC}" -std=c11 -Wall -Wextra -Werror -pedantic -I "${INCLUDE}"
                          -I "${WORK_DIR}" -c "${WORK_DIR}/${base}_transforms.c"
                          -o "${WORK_DIR}/${base}_transforms.o"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("the stubs of ${SCHEMA} do not compile against ${base}.moose.h:\n${out}${err}")
  endif()
else()
  fail("run_golden.cmake: unknown MODE '${MODE}'")
endif()
