# The tests read memgov's messages as "memgov: <text>" lines. A governor whose stderr is a file or a
# pipe, as in every test, logs logfmt by default (governor/log.h), so every test is given the text form;
# the tests of the default itself unset the variable. Each tests/*/CMakeLists.txt ends with
# memgov_tests_log_text() (CMake 3.25 sets test properties only in the test's own directory), and
# memgov_tests_check_log_text() fails the configure step for a directory that forgot.
function(memgov_tests_log_text)
  get_property(tests DIRECTORY PROPERTY TESTS)
  if(tests)
    set_property(TEST ${tests} APPEND PROPERTY ENVIRONMENT MEMGOV_LOG_FORMAT=text)
  endif()
  list(LENGTH tests n)
  set_property(DIRECTORY PROPERTY MEMGOV_LOG_TEXT_DONE ${n})
endfunction()

function(memgov_tests_check_log_text dir)
  get_property(tests DIRECTORY ${dir} PROPERTY TESTS)
  get_property(done DIRECTORY ${dir} PROPERTY MEMGOV_LOG_TEXT_DONE)
  list(LENGTH tests n)
  if(n GREATER 0 AND NOT "${done}" STREQUAL "${n}")
    message(FATAL_ERROR "${dir}/CMakeLists.txt adds tests after (or without) its closing "
                        "memgov_tests_log_text() (cmake/test-env.cmake)")
  endif()
endfunction()
