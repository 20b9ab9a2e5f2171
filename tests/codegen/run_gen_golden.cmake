# Generates C from one schema and compares both files with their golden
# copies. UPDATE_GOLDEN=1 in the environment rewrites the golden files.
#   -DMOOSEC= -DSCHEMA= -DNAME= -DGOLDEN_DIR= -DWORK_DIR=
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${MOOSEC} gen -o ${WORK_DIR} ${SCHEMA}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moosec gen ${SCHEMA} failed (${rc}): ${err}")
endif()
foreach(ext h c)
  set(got ${WORK_DIR}/${NAME}.moose.${ext})
  set(want ${GOLDEN_DIR}/${NAME}.moose.${ext})
  if("$ENV{UPDATE_GOLDEN}" STREQUAL "1")
    file(COPY_FILE ${got} ${want})
    message(STATUS "updated ${want}")
    continue()
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${got} ${want} RESULT_VARIABLE diff)
  if(NOT diff EQUAL 0)
    execute_process(COMMAND diff -u ${want} ${got} OUTPUT_VARIABLE text)
    message(FATAL_ERROR "${got} differs from ${want} (UPDATE_GOLDEN=1 to accept):\n${text}")
  endif()
endforeach()
