# What `cmake --install` puts under the prefix: the public headers, the libraries (one per room,
# pc5sec::<room>, and the umbrella pc5sec::pc5sec), the CMake package (pc5secConfig.cmake), the
# pkg-config file (pc5sec.pc) and, when built, the pc5sec program.
include(CMakePackageConfigHelpers)

set(PC5SEC_LIBRARIES)
foreach(room util crypto codec creds pc5 link sigauth relay userplane station trace sim net)
  if(TARGET pc5sec_${room})
    list(APPEND PC5SEC_LIBRARIES pc5sec_${room})
    # Before 1.0 every minor version may break the ABI: the SONAME carries major.minor.
    set_target_properties(pc5sec_${room} PROPERTIES EXPORT_NAME ${room} VERSION ${PROJECT_VERSION}
                          SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
    target_compile_features(pc5sec_${room} PUBLIC cxx_std_20)
    add_library(pc5sec::${room} ALIAS pc5sec_${room})
  endif()
endforeach()
# The umbrella target (its own name would clash with the program's): every library.
add_library(pc5sec_all INTERFACE)
set_target_properties(pc5sec_all PROPERTIES EXPORT_NAME pc5sec)
target_link_libraries(pc5sec_all INTERFACE ${PC5SEC_LIBRARIES})
target_compile_features(pc5sec_all INTERFACE cxx_std_20)
add_library(pc5sec::pc5sec ALIAS pc5sec_all)

if(BUILD_SHARED_LIBS)
  # The installed program finds the installed libraries wherever the prefix is.
  file(RELATIVE_PATH _pc5sec_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set_target_properties(${PC5SEC_LIBRARIES} PROPERTIES INSTALL_RPATH "$ORIGIN")
  if(TARGET pc5sec)
    set_target_properties(pc5sec PROPERTIES INSTALL_RPATH "$ORIGIN/${_pc5sec_bin_to_lib}")
  endif()
endif()

install(TARGETS ${PC5SEC_LIBRARIES} pc5sec_all EXPORT pc5secTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pc5sec ${PC5SEC_GENERATED_INCLUDE}/pc5sec
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
if(TARGET pc5sec)
  install(TARGETS pc5sec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# The Wireshark plugin installs itself (src/wireshark/CMakeLists.txt) under
# ${CMAKE_INSTALL_LIBDIR}/wireshark/plugins/<major>.<minor>/epan/.

# The CMake package: find_package(pc5sec) gives pc5sec::pc5sec and pc5sec::<room>.
set(PC5SEC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pc5sec)
if(BUILD_SHARED_LIBS)
  set(PC5SEC_STATIC OFF)
else()
  set(PC5SEC_STATIC ON)
endif()
install(EXPORT pc5secTargets NAMESPACE pc5sec:: DESTINATION ${PC5SEC_CMAKE_DIR})
configure_package_config_file(cmake/pc5secConfig.cmake.in ${PROJECT_BINARY_DIR}/pc5secConfig.cmake
                              INSTALL_DESTINATION ${PC5SEC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pc5secConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pc5secConfig.cmake ${PROJECT_BINARY_DIR}/pc5secConfigVersion.cmake
        DESTINATION ${PC5SEC_CMAKE_DIR})

# The pkg-config file, relocatable (prefix found from the file's own place). Libraries in link
# order: each after the ones that use it.
set(PC5SEC_PC_LIBS "")
foreach(room net sim trace station userplane relay sigauth link pc5 creds codec crypto util)
  if(TARGET pc5sec_${room})
    string(APPEND PC5SEC_PC_LIBS " -lpc5sec_${room}")
  endif()
endforeach()
file(RELATIVE_PATH PC5SEC_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" PC5SEC_PC_TO_PREFIX "${PC5SEC_PC_TO_PREFIX}")
configure_file(cmake/pc5sec.pc.in ${PROJECT_BINARY_DIR}/pc5sec.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pc5sec.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
