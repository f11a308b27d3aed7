# Runs `evstore-bench --smoke` on one backend and fails unless it exits with 0 and printed a
# BENCH line for every workload: a benchmark that silently measured nothing fails the test.
#   cmake -DBENCH=<evstore-bench> -DBACKEND=sqlite|postgresql -P check_smoke.cmake
# With -DPGBOUNCER=ON (PostgreSQL): through the PgBouncer of EVSTORE_TEST_PGBOUNCER_URL as
# well, and every BENCH line must carry the figures of evstore through it; without that
# variable the test fails, as the PostgreSQL one does without its server.
if(PGBOUNCER)
  if("$ENV{EVSTORE_TEST_PGBOUNCER_URL}" STREQUAL "")
    message(FATAL_ERROR "EVSTORE_TEST_PGBOUNCER_URL is not set: start "
                        "scripts/pgbouncer-test-server.sh and source its env file")
  endif()
  set(arguments --pgbouncer-url "$ENV{EVSTORE_TEST_PGBOUNCER_URL}")
else()
  set(arguments --walk 1000)
endif()
execute_process(COMMAND "${BENCH}" --smoke --backend "${BACKEND}" ${arguments}
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "evstore-bench --smoke --backend ${BACKEND} failed (${status}): ${errors}")
endif()
foreach(workload IN ITEMS W1 W2 W3 W4 W5)
  if(NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} evstore=[0-9.]+ raw=[0-9.]+ soci=[0-9.]+ ratio=[0-9.]+")
    message(FATAL_ERROR "no BENCH line for ${workload} on ${BACKEND}")
  endif()
  # A figure above zero: a ratio of 0.000 means the pooled contender did not run.
  if(PGBOUNCER AND NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* pgbouncer=[0-9.]*[1-9][0-9.]* pgbouncer_ratio=[0-9.]*[1-9]")
    message(FATAL_ERROR "no figure through PgBouncer in the BENCH line of ${workload}")
  endif()
endforeach()
if(PGBOUNCER)
  foreach(workload IN ITEMS W1 W3 W4 W5)
    if(NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* pgbouncer_p50_us=[0-9.]*[1-9]")
      message(FATAL_ERROR "no latency through PgBouncer in the BENCH line of ${workload}")
    endif()
  endforeach()
elseif(NOT output MATCHES "MEMORY backend=${BACKEND} workload=walk items=1000 pages=20 ")
  message(FATAL_ERROR "no MEMORY line for the timeline walk on ${BACKEND}")
endif()
