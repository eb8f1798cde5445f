# The Windows build: policy/ unchanged, platform/windows/ (Job Objects), and the
# parts of governor/ that need no sd-event. Included from the top-level
# CMakeLists.txt when CMAKE_SYSTEM_NAME is Windows; docs/windows.md says what
# is shared and what Wine can and cannot confirm.

# C99 printf formats (%zu, PRIu64) from mingw-w64's own stdio, not msvcrt's.
add_compile_definitions(__USE_MINGW_ANSI_STDIO=1 WIN32_LEAN_AND_MEAN _WIN32_WINNT=0x0A00)
# Headers that mingw-w64 lacks and policy/ or governor/ include (<elf.h>, <syslog.h>): their constants only.
include_directories(BEFORE SYSTEM ${PROJECT_SOURCE_DIR}/platform/windows/compat)
# ... and the GNU functions it lacks (memmem), declared in every file and built into memgov-policy.
add_compile_options(-include ${PROJECT_SOURCE_DIR}/platform/windows/compat/gnu-compat.h)

file(GLOB MEMGOV_POLICY_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/policy/*.c)
add_library(memgov-policy STATIC ${MEMGOV_POLICY_SOURCES} ${PROJECT_SOURCE_DIR}/platform/windows/compat/gnu-compat.c)

if(MEMGOV_TESTS)
  enable_testing()
  add_subdirectory(tests/windows)
endif()
