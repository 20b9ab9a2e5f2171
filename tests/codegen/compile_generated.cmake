# Generates C for every schema in SCHEMA_DIR and compiles it with CC under
# -std=c11 -Wall -Wextra -Werror -pedantic: generated code must be clean for
# users who build with strict flags.
#   -DMOOSEC= -DCC= -DINCLUDE= -DSCHEMA_DIR= -DWORK_DIR=
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(GLOB schemas ${SCHEMA_DIR}/*.moose)
list(LENGTH schemas count)
if(count EQUAL 0)
  message(FATAL_ERROR "no schema in ${SCHEMA_DIR}")
endif()
set(failed "")
foreach(schema ${schemas})
  get_filename_component(name ${schema} NAME_WE)
  execute_process(COMMAND ${MOOSEC} gen -o ${WORK_DIR} ${schema}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(APPEND failed "moosec gen ${name}.moose (${rc}): ${err}\n")
    continue()
  endif()
  execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror -pedantic -I${INCLUDE}
      -I${WORK_DIR} -c ${WORK_DIR}/${name}.moose.c -o ${WORK_DIR}/${name}.o
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(APPEND failed "${CC} ${name}.moose.c:\n${err}\n")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "${failed}")
endif()
message(STATUS "${count} schemas generated and compiled with ${CC}")
