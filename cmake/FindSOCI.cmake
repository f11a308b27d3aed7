# FindSOCI: Debian 12 ships SOCI 4.0 without a CMake config or a pkg-config file.
#
# Components: the backends (postgresql, sqlite3, ...). Imported targets:
#   SOCI::core             soci_core
#   SOCI::<component>      soci_<component>, linking SOCI::core
# Variables: SOCI_FOUND, SOCI_VERSION, SOCI_INCLUDE_DIR.

find_path(SOCI_INCLUDE_DIR NAMES soci/soci.h)
find_library(SOCI_core_LIBRARY NAMES soci_core)

if(SOCI_INCLUDE_DIR AND EXISTS "${SOCI_INCLUDE_DIR}/soci/version.h")
  file(STRINGS "${SOCI_INCLUDE_DIR}/soci/version.h" _soci_version_line
       REGEX "^#define SOCI_VERSION [0-9]+")
  string(REGEX REPLACE "^#define SOCI_VERSION ([0-9]+).*" "\\1" _soci_version_number
                       "${_soci_version_line}")
  math(EXPR _soci_major "${_soci_version_number} / 100000")
  math(EXPR _soci_minor "${_soci_version_number} / 100 % 1000")
  math(EXPR _soci_patch "${_soci_version_number} % 100")
  set(SOCI_VERSION "${_soci_major}.${_soci_minor}.${_soci_patch}")
endif()

foreach(_component IN LISTS SOCI_FIND_COMPONENTS)
  find_library(SOCI_${_component}_LIBRARY NAMES soci_${_component})
  if(SOCI_${_component}_LIBRARY)
    set(SOCI_${_component}_FOUND TRUE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI
  REQUIRED_VARS SOCI_core_LIBRARY SOCI_INCLUDE_DIR
  VERSION_VAR SOCI_VERSION
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core SHARED IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_core_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
endif()
foreach(_component IN LISTS SOCI_FIND_COMPONENTS)
  if(SOCI_${_component}_FOUND AND NOT TARGET SOCI::${_component})
    add_library(SOCI::${_component} SHARED IMPORTED)
    set_target_properties(SOCI::${_component} PROPERTIES
      IMPORTED_LOCATION "${SOCI_${_component}_LIBRARY}"
      INTERFACE_LINK_LIBRARIES SOCI::core)
  endif()
endforeach()
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_core_LIBRARY)
