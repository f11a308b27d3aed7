# The installed SDK's package files: evstoreConfig.cmake with its version file, the CMake
# modules a consumer needs (FindSOCI, evstore_add_plugin and its embedding script), and the
# pkg-config file evstore.pc. The targets are exported beside the libraries that make them
# (framework/, tests/conformance/).
include(CMakePackageConfigHelpers)

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/evstoreConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/package/evstoreConfig.cmake"
  INSTALL_DESTINATION "${EVSTORE_INSTALL_CMAKEDIR}"
  PATH_VARS EVSTORE_INSTALL_PLUGINDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/package/evstoreConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/package/evstoreConfig.cmake"
  "${PROJECT_BINARY_DIR}/package/evstoreConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/FindSOCI.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/EvstorePlugin.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/EvstoreEmbedFiles.cmake"
  DESTINATION "${EVSTORE_INSTALL_CMAKEDIR}")

# pkg-config: the prefix relative to the .pc file, so that the install can be moved (and
# `cmake --install --prefix` chosen after configuring).
set(pkgconfig_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH EVSTORE_PC_PREFIX_FROM_PCFILEDIR "/root/${pkgconfig_dir}" "/root")
configure_file("${CMAKE_CURRENT_LIST_DIR}/evstore.pc.in" "${PROJECT_BINARY_DIR}/package/evstore.pc"
               @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/package/evstore.pc" DESTINATION "${pkgconfig_dir}")
