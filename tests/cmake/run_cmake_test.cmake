# Configures and builds tests/cmake/project, an outside project, against this
# build of moose-c, and runs the app it produces.
#   -DMODE=subdir   the project add_subdirectory()s the moose-c sources
#   -DMODE=package  this build is installed into a prefix; find_package(moose)
# Also -DMOOSE_SOURCE_DIR, -DMOOSE_BUILD_DIR, -DMOOSEC (the moosec under
# test), -DPROJECT_DIR, -DWORK_DIR, -DGENERATOR, -DC_COMPILER.
# Parts that need pieces of moose-c that do not exist yet print a line with
# MOOSE-PENDING (the test is then reported as skipped, never as passed).
cmake_minimum_required(VERSION 3.20)

macro(fail)
  string(CONCAT _fail_msg ${ARGN})
  message(FATAL_ERROR "${_fail_msg}")
endmacro()

# Runs a command; fails the test (with its output) unless it exits 0.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    fail("${what} failed (exit ${rc}):\n${ARGN}\n${out}")
  endif()
endfunction()

function(build target result_var output_var)
  execute_process(COMMAND ${CMAKE_COMMAND} --build "${bld}" --target ${target} --parallel 2
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${result_var} ${rc} PARENT_SCOPE)
  set(${output_var} "${out}" PARENT_SCOPE)
endfunction()

function(mtime file out_var)
  if(NOT EXISTS "${file}")
    fail("${file} was not generated")
  endif()
  file(TIMESTAMP "${file}" t "%s" UTC)
  set(${out_var} ${t} PARENT_SCOPE)
endfunction()

set(src "${WORK_DIR}/src")
set(bld "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${PROJECT_DIR}/" DESTINATION "${src}")

# The stubs a user starts from, untouched.
run("moosec stubs" "${MOOSEC}" stubs -o "${WORK_DIR}/stubs" "${src}/shop-orders.moose")
set(stubs "${WORK_DIR}/stubs/shop-orders_transforms.c")

set(configure_args -S "${src}" -B "${bld}" -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DMOOSE_STUBS_FILE=${stubs}")
if(MODE STREQUAL "package")
  set(prefix "${WORK_DIR}/prefix")
  run("cmake --install of the build under test"
      ${CMAKE_COMMAND} --install "${MOOSE_BUILD_DIR}" --prefix "${prefix}")
  foreach(f bin/moosec include/moose/app.h lib/libmoose.a lib/cmake/moose/mooseConfig.cmake
            lib/cmake/moose/MooseFunctions.cmake lib/cmake/moose/moose_app_main.c.in)
    if(NOT EXISTS "${prefix}/${f}")
      fail("cmake --install did not install ${f}")
    endif()
  endforeach()
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}")
  set(moosec_file "${prefix}/bin/moosec")
elseif(MODE STREQUAL "subdir")
  list(APPEND configure_args "-DMOOSE_SOURCE_DIR=${MOOSE_SOURCE_DIR}")
  set(moosec_file "${bld}/moose/compiler/moosec")
else()
  fail("run_cmake_test.cmake: unknown MODE '${MODE}'")
endif()
run("configuring the outside project" ${CMAKE_COMMAND} ${configure_args})

if(MODE STREQUAL "package")
  # the same schema generated twice in one directory would race: refused, saying why
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${PROJECT_DIR}/../duplicate" -B "${WORK_DIR}/dup"
                          -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
                          "-DCMAKE_PREFIX_PATH=${prefix}" "-DMOOSE_PROJECT_DIR=${src}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REGEX REPLACE "[ \n]+" " " flat "${out}")
  if(rc EQUAL 0 OR NOT flat MATCHES "moose_generate\\(TARGET second\\): inventory.moose.c is already generated in .* for target 'first'")
    fail("generating one schema for two targets of one directory was not refused:\n${out}")
  endif()
endif()

# 1. moose_generate() on a library target
build(inventory rc out)
if(NOT rc EQUAL 0)
  if(out MATCHES "gen: not yet implemented")
    message(STATUS "MOOSE-PENDING: moosec gen is not implemented yet: nothing generated")
    return()
  endif()
  fail("building a library with moose_generate() failed:\n${out}")
endif()
foreach(f inventory.moose.h inventory.moose.c)
  if(NOT EXISTS "${bld}/${f}")
    fail("moose_generate() did not write ${bld}/${f}")
  endif()
endforeach()

# 2. outputs follow the schema and moosec, and nothing else
mtime("${bld}/inventory.moose.c" t0)
build(inventory rc out)
mtime("${bld}/inventory.moose.c" t1)
if(NOT t1 EQUAL t0)
  fail("an up-to-date build regenerated inventory.moose.c:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1)
file(TOUCH "${src}/inventory.moose")
build(inventory rc out)
mtime("${bld}/inventory.moose.c" t2)
if(NOT rc EQUAL 0 OR NOT t2 GREATER t1)
  fail("touching the schema did not regenerate inventory.moose.c (${t1} -> ${t2}):\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1)
file(TOUCH "${moosec_file}")
build(inventory rc out)
mtime("${bld}/inventory.moose.c" t3)
if(NOT rc EQUAL 0 OR NOT t3 GREATER t2)
  fail("a newer moosec did not regenerate inventory.moose.c (${t2} -> ${t3}):\n${out}")
endif()

# 3. the stubs, as written, fit the generated header (and compile warning-free)
build(orders_stubs rc out)
if(NOT rc EQUAL 0)
  fail("the output of moosec stubs does not compile against shop-orders.moose.h:\n${out}")
endif()

# 4. moose_add_app(): an executable whose main() is the app command line
build(orders_app rc out)
if(NOT rc EQUAL 0)
  if(out MATCHES "undefined reference to [`']moose_main'")
    message(STATUS "MOOSE-PENDING: libmoose has no moose_main() yet: the app compiles but "
                   "cannot link")
    return()
  endif()
  fail("building the app with moose_add_app() failed:\n${out}")
endif()

# 5. the app runs: validate needs no broker
execute_process(COMMAND "${bld}/orders_app" validate orders "${src}/orders.jsonl"
                WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT rc EQUAL 1)
  fail("orders_app validate exited ${rc}, expected 1 (one invalid record):\n${all}")
endif()
if(NOT all MATCHES "(^|\n)2: error: price: ")
  fail("orders_app validate did not report line 2's price:\n${all}")
endif()
if(NOT all MATCHES "(^|\n)2 valid, 1 invalid\n")
  fail("orders_app validate did not count 2 valid, 1 invalid:\n${all}")
endif()
message(STATUS "outside project built and ran (${MODE})")
