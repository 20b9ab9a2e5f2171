# Installation of libmoose, moosec and the CMake package that lets another
# project find them: find_package(moose) gives moose::moose, moose::moosec,
# moose_generate() and moose_add_app().
include(CMakePackageConfigHelpers)

set(MOOSE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/moose)

install(TARGETS moosec EXPORT mooseTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT mooseTargets NAMESPACE moose:: DESTINATION ${MOOSE_CMAKE_INSTALL_DIR})

# The pkg-config modules behind libmoose's PkgConfig::<PREFIX> links, read
# from the runtime's own pkg_check_modules() calls so a new dependency there
# needs no edit here.
set(MOOSE_PKG_DEPS)
get_target_property(_moose_links moose INTERFACE_LINK_LIBRARIES)
foreach(_lib IN LISTS _moose_links)
  if(_lib MATCHES "^PkgConfig::(.+)$")
    set(_prefix ${CMAKE_MATCH_1})
    set(_module "${${_prefix}_MODULE_NAME}") # pkg_check_modules() caches it
    if(NOT _module)
      message(FATAL_ERROR "moose install: cannot tell which pkg-config module "
                          "PkgConfig::${_prefix} comes from")
    endif()
    list(APPEND MOOSE_PKG_DEPS "${_prefix}=${_module}")
  endif()
endforeach()
list(JOIN MOOSE_PKG_DEPS " " MOOSE_PKG_DEPS)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mooseConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mooseConfig.cmake
  INSTALL_DESTINATION ${MOOSE_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mooseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/mooseConfig.cmake
  ${PROJECT_BINARY_DIR}/mooseConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/MooseFunctions.cmake
  ${CMAKE_CURRENT_LIST_DIR}/moose_app_main.c.in
  DESTINATION ${MOOSE_CMAKE_INSTALL_DIR})
