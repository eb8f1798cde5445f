# The policy's golden traces, replayed by the Windows build of memgov-replay under Wine:
# the same TRACE must give the same decisions as GOLDEN (line ends aside: Windows writes CRLF).
execute_process(COMMAND ${WINE_RUN} ${BUILD_DIR} ${REPLAY} ${TRACE} OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "memgov-replay ${TRACE} failed under Wine: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files --ignore-eol ${GOLDEN} ${OUTPUT} RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "${OUTPUT} differs from ${GOLDEN}")
endif()
