# Install rules: headers, the library, an exported consentry::consentry target with a version
# and a config file for find_package(consentry), and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS consentry EXPORT consentryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/consentry DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The HTML export's built-in template, the starting point of a controller's own wording.
install(FILES ${PROJECT_SOURCE_DIR}/templates/export.html.mustache
        DESTINATION ${CMAKE_INSTALL_DATADIR}/consentry/templates)

# libphonenumber ships no .pc file, so a static library names it as -lphonenumber (the shared
# libphonenumber carries its own protobuf, ICU and abseil dependencies). A library built with the
# PostgreSQL store needs libpq too (a static one links it in). The .pc file names it as -lpq, not
# as a required package: `pkg-config --static` would expand libpq's own private libraries
# (libpgcommon, libpgport, ...), which Debian ships only to build the server, while the shared
# libpq already carries them.
if(CONSENTRY_BUILD_POSTGRESQL)
  set(CONSENTRY_PC_LIBS_PRIVATE "Libs.private: -lphonenumber -lpq")
  set(CONSENTRY_WITH_POSTGRESQL ON)
else()
  set(CONSENTRY_PC_LIBS_PRIVATE "Libs.private: -lphonenumber")
  set(CONSENTRY_WITH_POSTGRESQL OFF)
endif()
set(CONSENTRY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/consentry)
install(EXPORT consentryTargets NAMESPACE consentry:: DESTINATION ${CONSENTRY_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/consentryConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/consentryConfig.cmake
                              INSTALL_DESTINATION ${CONSENTRY_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/consentryConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/consentryConfig.cmake ${PROJECT_BINARY_DIR}/consentryConfigVersion.cmake
        DESTINATION ${CONSENTRY_CMAKE_DIR})

# The .pc file finds its prefix from where it is installed, so `cmake --install --prefix` works.
file(RELATIVE_PATH CONSENTRY_PC_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
configure_file(${PROJECT_SOURCE_DIR}/cmake/consentry.pc.in ${PROJECT_BINARY_DIR}/consentry.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/consentry.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
