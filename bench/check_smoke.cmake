# Runs `evstore-bench --smoke` on one backend and fails unless it exits with 0 and printed a
# BENCH line for every workload: a benchmark that silently measured nothing fails the test.
#   cmake -DBENCH=<evstore-bench> -DBACKEND=sqlite|postgresql -P check_smoke.cmake
# With -DPGBOUNCER=ON (PostgreSQL): through the PgBouncer of EVSTORE_TEST_PGBOUNCER_URL as
# well, and every BENCH line must carry the figures of evstore through it; without that
# variable the test fails, as the PostgreSQL one does without its server. With -DSTANDBY=ON,
# likewise with the standby of EVSTORE_TEST_STANDBY_URL as evstore's read replica, and the
# W3-W5 lines must say the standby served reads.

# Sets `arguments` to `option` and the URL in the environment variable `variable`, which the
# test command sets once it has started the server with `script`.
function(server_option variable script option)
  if("$ENV{${variable}}" STREQUAL "")
    message(FATAL_ERROR "${variable} is not set: start scripts/${script} and source its env file")
  endif()
  set(arguments ${option} "$ENV{${variable}}" PARENT_SCOPE)
endfunction()

if(STANDBY)
  server_option(EVSTORE_TEST_STANDBY_URL pg-standby-test-server.sh --standby-url)
elseif(PGBOUNCER)
  server_option(EVSTORE_TEST_PGBOUNCER_URL pgbouncer-test-server.sh --pgbouncer-url)
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
  if(STANDBY AND NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* replica=[0-9.]*[1-9][0-9.]* replica_ratio=[0-9.]*[1-9]")
    message(FATAL_ERROR "no figure with the standby in the BENCH line of ${workload}")
  endif()
  if(PGBOUNCER AND NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* pgbouncer=[0-9.]*[1-9][0-9.]* pgbouncer_ratio=[0-9.]*[1-9]")
    message(FATAL_ERROR "no figure through PgBouncer in the BENCH line of ${workload}")
  endif()
endforeach()
if(STANDBY)
  foreach(workload IN ITEMS W3 W4 W5)
    if(NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* standby_share=(0\\.[0-9]*[1-9]|1\\.0)")
      message(FATAL_ERROR "the standby served no read of ${workload}")
    endif()
  endforeach()
elseif(PGBOUNCER)
  foreach(workload IN ITEMS W1 W3 W4 W5)
    if(NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} [^\n]* pgbouncer_p50_us=[0-9.]*[1-9]")
      message(FATAL_ERROR "no latency through PgBouncer in the BENCH line of ${workload}")
    endif()
  endforeach()
elseif(NOT output MATCHES "MEMORY backend=${BACKEND} workload=walk items=1000 pages=20 ")
  message(FATAL_ERROR "no MEMORY line for the timeline walk on ${BACKEND}")
endif()
