# Runs one fuzz target for a bounded time over a fresh copy of its seed
# corpus (ctest's fuzz.* tests; see fuzz/CMakeLists.txt).
# -D FUZZER=binary -D SEEDS=dir -D WORK=dir -D SECONDS=n
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORK}/corpus)
endif()
# -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a parser
# should never need 2 GB; -error_exitcode: any report fails the test.
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -error_exitcode=77 -timeout_exitcode=78 -print_final_stats=1
          -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  WORKING_DIRECTORY ${WORK}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}); the input is in ${WORK}/artifacts/")
endif()
