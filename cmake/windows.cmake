# The Windows build: policy/ unchanged, platform/windows/ (Job Objects), and the
# parts of governor/ that need no sd-event. Included from the top-level
# CMakeLists.txt when CMAKE_SYSTEM_NAME is Windows; docs/windows.md says what
# is shared and what Wine can and cannot confirm.

# C99 printf formats (%zu, PRIu64) from mingw-w64's own stdio, not msvcrt's.
add_compile_definitions(__USE_MINGW_ANSI_STDIO=1 WIN32_LEAN_AND_MEAN _WIN32_WINNT=0x0A00)
# gmtime_r() and localtime_r(), which mingw-w64's <time.h> defines over gmtime_s() when asked for them
# (governor/log.c: the time of a logfmt line).
add_compile_definitions(_POSIX_THREAD_SAFE_FUNCTIONS=200112L)
# Headers that mingw-w64 lacks and policy/ or governor/ include (<elf.h>, <syslog.h>): their constants only.
include_directories(BEFORE SYSTEM ${PROJECT_SOURCE_DIR}/platform/windows/compat)
# ... and the GNU functions it lacks (memmem), declared in every file and built into memgov-policy.
add_compile_options(-include ${PROJECT_SOURCE_DIR}/platform/windows/compat/gnu-compat.h)

file(GLOB MEMGOV_POLICY_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/policy/*.c)
add_library(memgov-policy STATIC ${MEMGOV_POLICY_SOURCES} ${PROJECT_SOURCE_DIR}/platform/windows/compat/gnu-compat.c
                                 ${PROJECT_SOURCE_DIR}/platform/windows/compat/fnmatch.c)
# inih, which policy/config-parse.c parses policy files with: mingw-w64 has none, so its source, unchanged, from
# third_party/inih/ (README.md there says where from). The Linux build links the system's libinih.
add_library(inih STATIC ${PROJECT_SOURCE_DIR}/third_party/inih/ini.c)
target_include_directories(inih SYSTEM PUBLIC ${PROJECT_SOURCE_DIR}/third_party/inih)
target_link_libraries(memgov-policy PUBLIC inih)
# policy/metrics-format.c's inet_pton() and in6addr_loopback, through compat/arpa/inet.h.
target_link_libraries(memgov-policy PUBLIC ws2_32)

# platform/windows/: the Job Object backend behind platform/platform.h.
file(GLOB MEMGOV_PLATFORM_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/platform/windows/*.c)
add_library(memgov-platform STATIC ${MEMGOV_PLATFORM_SOURCES})
target_link_libraries(memgov-platform PUBLIC memgov-policy psapi shell32 ole32 uuid)

# governor/: what needs no sd-event is shared with Linux (options, logging, the child's environment,
# runtime detection, explain, the policy files, main, the steps of `memgov run` both supervisors take:
# run-common.c, agent-log.c, the loop's step: step.c); run-queue.c replaces run.c, govern.c and actuator.c, queue-agent.c control*.c.
# status-unsupported.c replaces status.c, whose operator socket is a Unix socket checked with SO_PEERCRED.
set(MEMGOV_GOVERNOR_SOURCES agent-log.c cli.c env.c explain.c init.c log.c policyfile.c queue-agent.c run-common.c
                            run-queue.c runtime-detect.c status-unsupported.c step.c trace.c)
list(TRANSFORM MEMGOV_GOVERNOR_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/governor/)
add_library(memgov-governor STATIC ${MEMGOV_GOVERNOR_SOURCES})
target_link_libraries(memgov-governor PUBLIC memgov-platform memgov-policy)
# governor/ logs with "%m", which mingw-w64's C99 stdio prints (tested) but which GCC's check of
# format(printf) on this target (Microsoft's printf) rejects. The Linux build checks these formats,
# run-queue.c's included (compiled there for that check alone).
target_compile_options(memgov-governor PRIVATE -Wno-format)

add_executable(memgov governor/main.c)
target_link_libraries(memgov PRIVATE memgov-governor)
# One self-contained .exe: no libgcc or libwinpthread DLLs to ship next to it.
target_link_options(memgov PRIVATE -static)
install(TARGETS memgov RUNTIME DESTINATION bin)

if(MEMGOV_TESTS)
  enable_testing()
  include(cmake/test-env.cmake)
  add_subdirectory(tests/windows)
  memgov_tests_check_log_text(tests/windows)
endif()
