# What `cmake --install` and the .deb put where (issue 9, "Install like a real
# tool"): the binary, the agents (their own CMakeLists.txt), the man pages, the
# bash completion, the docs, and the plot script. CPack makes the .deb:
#   cmake --build build --target package   (or: cd build && cpack -G DEB)
include(GNUInstallDirs)

install(FILES ${PROJECT_SOURCE_DIR}/man/memgov.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/man/memgov.ini.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_SOURCE_DIR}/completions/memgov.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME memgov)
file(GLOB MEMGOV_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${MEMGOV_DOCS} ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The Go agent is a Go module (memgov.dev/agent): installed as source where Debian keeps Go libraries, for
# `go mod edit -replace memgov.dev/agent=/usr/share/gocode/src/memgov.dev/agent` in a program's module.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/agents/go/ DESTINATION ${CMAKE_INSTALL_DATADIR}/gocode/src/memgov.dev/agent
        FILES_MATCHING PATTERN "*.go" PATTERN "go.mod" PATTERN "*_test.go" EXCLUDE PATTERN "cmd" EXCLUDE)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/plot-trace DESTINATION ${CMAKE_INSTALL_DATADIR}/memgov
        RENAME memgov-plot-trace)

# What Debian wants of every package's doc directory: the terms (machine-readable) and a changelog, gzipped
# reproducibly (-n: no name or time stamp inside).
install(FILES ${PROJECT_SOURCE_DIR}/cmake/deb/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/changelog.Debian.gz
                   COMMAND sh -c "gzip -9n -c \"$0\" >\"$1\"" ${PROJECT_SOURCE_DIR}/cmake/deb/changelog
                           ${PROJECT_BINARY_DIR}/changelog.Debian.gz
                   DEPENDS ${PROJECT_SOURCE_DIR}/cmake/deb/changelog VERBATIM)
add_custom_target(deb-changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/changelog.Debian.gz)
install(FILES ${PROJECT_BINARY_DIR}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "memgov")
set(CPACK_PACKAGE_VENDOR "memgov")
set(CPACK_PACKAGE_CONTACT "memgov maintainers <memgov@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps a server alive close to its memory limit")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
# The shared libraries it links (libsystemd, libcgroup, ...) become Depends through dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnuplot-nox, python3")
include(CPack)
