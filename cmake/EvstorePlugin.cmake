# evstore_add_plugin(<name>
#     SOURCES <file>...
#     [MIGRATIONS <NNNN_name.up.sql and .down.sql files>...]
#     [LINK_LIBRARIES <target>...]
#     [OUTPUT_DIRECTORY <dir>]       default: <build>/lib/evstore/plugins
#     [NO_INSTALL])
#
# Builds the backend plugin `evstore_<name>.so`, the file name the loader looks for, as a
# MODULE library linked against evstore::core. The same function builds our own plugins
# and third parties' (it is installed with the SDK). Undefined symbols fail at link time
# (-Wl,--no-undefined), not when a user first loads the plugin. The MIGRATIONS files are
# embedded in the binary and returned by evstore::plugin_migration_files().
include(GNUInstallDirs)
set(EVSTORE_EMBED_FILES_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/EvstoreEmbedFiles.cmake")

# evstore_embed_files(OUTPUT <file.cpp> INCLUDE <"header" or <header>> TYPE <element type>
#                     FUNCTION <qualified name> FILES <file>... COMMENT <text>)
# Generates OUTPUT, defining std::vector<TYPE> FUNCTION() with each file's {name, content}.
function(evstore_embed_files)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT;INCLUDE;TYPE;FUNCTION;COMMENT" "FILES")
  # Relative to the calling folder, as add_library's sources are (the script runs elsewhere).
  set(files "")
  foreach(file IN LISTS arg_FILES)
    cmake_path(ABSOLUTE_PATH file BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND files "${file}")
  endforeach()
  string(REPLACE ";" "|" file_list "${files}")
  add_custom_command(OUTPUT "${arg_OUTPUT}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${arg_OUTPUT}" "-DFILES=${file_list}"
            "-DINCLUDE=${arg_INCLUDE}" "-DTYPE=${arg_TYPE}" "-DFUNCTION=${arg_FUNCTION}"
            -P "${EVSTORE_EMBED_FILES_SCRIPT}"
    DEPENDS ${files} "${EVSTORE_EMBED_FILES_SCRIPT}"
    COMMENT "${arg_COMMENT}"
    VERBATIM)
endfunction()

function(evstore_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_INSTALL" "OUTPUT_DIRECTORY"
                        "SOURCES;MIGRATIONS;LINK_LIBRARIES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "evstore_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT arg_OUTPUT_DIRECTORY)
    set(arg_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib/evstore/plugins")
  endif()

  set(embedded "${CMAKE_CURRENT_BINARY_DIR}/${name}_migrations.cpp")
  evstore_embed_files(OUTPUT "${embedded}" INCLUDE "<evstore/plugin.hpp>"
                      TYPE evstore::migration_file FUNCTION evstore::plugin_migration_files
                      FILES ${arg_MIGRATIONS} COMMENT "Embedding the migrations of plugin ${name}")

  add_library(${name} MODULE ${arg_SOURCES} "${embedded}")
  target_link_libraries(${name} PRIVATE evstore::core ${arg_LINK_LIBRARIES})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "evstore_${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${arg_OUTPUT_DIRECTORY}")
  if(COMMAND evstore_set_warnings)
    evstore_set_warnings(${name})
  endif()
  if(NOT arg_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/evstore/plugins")
  endif()
endfunction()
