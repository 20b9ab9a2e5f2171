# moose_generate() and moose_add_app(): how a CMake project turns .moose
# schemas into C and links libmoose. The same file serves a build of moose-c
# itself (add_subdirectory) and an installed one (find_package(moose)); both
# provide the targets moose::moose (libmoose) and moose::moosec (the compiler).
include_guard(GLOBAL)

# The file-level and target-level dependencies that make generated code follow
# moosec: in a build of moose-c the real target (so it is built first and a new
# moosec regenerates), after installation the imported executable's path.
function(_moose_moosec_depends out_var)
  if(NOT TARGET moose::moosec)
    message(FATAL_ERROR "moose: no target moose::moosec: add_subdirectory() the moose-c "
                        "sources or find_package(moose) before calling moose_generate()")
  endif()
  get_target_property(real moose::moosec ALIASED_TARGET)
  if(real)
    set(${out_var} ${real} PARENT_SCOPE)
  else()
    set(${out_var} "$<TARGET_FILE:moose::moosec>" PARENT_SCOPE)
  endif()
endfunction()

# The C identifier moosec derives from a schema's base name (the `<base>_app`
# descriptor): every byte that cannot appear in an identifier becomes '_',
# and a leading digit gets a '_' in front.
function(_moose_c_name out_var base)
  string(MAKE_C_IDENTIFIER "${base}" ident)
  set(${out_var} "${ident}" PARENT_SCOPE)
endfunction()

#[=======================================================================[
moose_generate(TARGET <target> SCHEMAS <file.moose>...)

Runs `moosec gen` on each schema into ${CMAKE_CURRENT_BINARY_DIR}, writing
<base>.moose.h and <base>.moose.c; they are regenerated when the schema or
moosec changes. The .c joins TARGET's sources, the output directory its
include path, and TARGET links moose::moose.
#]=======================================================================]
function(moose_generate)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "TARGET" "SCHEMAS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "moose_generate: unexpected arguments: ${ARG_UNPARSED_ARGUMENTS} "
                        "(usage: moose_generate(TARGET <target> SCHEMAS <files...>))")
  endif()
  if(NOT ARG_TARGET)
    message(FATAL_ERROR "moose_generate: TARGET <target> is required")
  endif()
  if(NOT TARGET ${ARG_TARGET})
    message(FATAL_ERROR "moose_generate: '${ARG_TARGET}' is not a target; create it "
                        "(add_executable / add_library) before calling moose_generate()")
  endif()
  if(NOT ARG_SCHEMAS)
    message(FATAL_ERROR "moose_generate(TARGET ${ARG_TARGET}): SCHEMAS <files...> is required")
  endif()
  _moose_moosec_depends(moosec_dep)

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}")
  set(generated)
  foreach(schema IN LISTS ARG_SCHEMAS)
    get_filename_component(schema_abs "${schema}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${schema_abs}")
      message(FATAL_ERROR "moose_generate(TARGET ${ARG_TARGET}): schema ${schema_abs} not found")
    endif()
    get_filename_component(base "${schema_abs}" NAME_WLE)
    # Two targets building the same outputs in one directory race in a parallel build.
    get_directory_property(owner MOOSE_GENERATED_${base})
    if(owner)
      message(FATAL_ERROR "moose_generate(TARGET ${ARG_TARGET}): ${base}.moose.c is already "
                          "generated in ${out_dir} for target '${owner}'; link '${owner}' "
                          "instead, or generate from another directory")
    endif()
    set_property(DIRECTORY PROPERTY MOOSE_GENERATED_${base} ${ARG_TARGET})
    set(header "${out_dir}/${base}.moose.h")
    set(source "${out_dir}/${base}.moose.c")
    add_custom_command(
      OUTPUT "${header}" "${source}"
      COMMAND "$<TARGET_FILE:moose::moosec>" gen -o "${out_dir}" "${schema_abs}"
      DEPENDS "${schema_abs}" ${moosec_dep}
      COMMENT "moosec gen ${schema}"
      VERBATIM)
    list(APPEND generated "${header}" "${source}")
  endforeach()

  target_sources(${ARG_TARGET} PRIVATE ${generated})
  target_include_directories(${ARG_TARGET} PUBLIC "$<BUILD_INTERFACE:${out_dir}>")
  target_link_libraries(${ARG_TARGET} PUBLIC moose::moose)
endfunction()

#[=======================================================================[
moose_add_app(<name> SCHEMA <file.moose> SOURCES <transform .c files>...)

An executable NAME whose main() is the app command line
(`moose_main(&<base>_app, argc, argv)`): NAME run, write, validate, tail, ...
SOURCES are the files holding the transforms (start them with `moosec stubs`).
#]=======================================================================]
function(moose_add_app name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SCHEMA" "SOURCES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "moose_add_app(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS} "
                        "(usage: moose_add_app(<name> SCHEMA <file.moose> SOURCES <files...>))")
  endif()
  if(NOT ARG_SCHEMA)
    message(FATAL_ERROR "moose_add_app(${name}): SCHEMA <file.moose> is required")
  endif()
  list(LENGTH ARG_SCHEMA nschemas)
  if(nschemas GREATER 1)
    message(FATAL_ERROR "moose_add_app(${name}): one SCHEMA per app (got ${ARG_SCHEMA})")
  endif()
  get_filename_component(base "${ARG_SCHEMA}" NAME_WLE)
  _moose_c_name(MOOSE_APP_IDENT "${base}")
  set(MOOSE_APP_HEADER "${base}.moose.h")
  set(main_c "${CMAKE_CURRENT_BINARY_DIR}/${name}_moose_main.c")
  configure_file("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/moose_app_main.c.in" "${main_c}" @ONLY)

  add_executable(${name} "${main_c}" ${ARG_SOURCES})
  moose_generate(TARGET ${name} SCHEMAS "${ARG_SCHEMA}")
endfunction()
