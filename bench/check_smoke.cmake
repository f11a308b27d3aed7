# Runs `evstore-bench --smoke` on one backend and fails unless it exits with 0 and printed a
# BENCH line for every workload: a benchmark that silently measured nothing fails the test.
#   cmake -DBENCH=<evstore-bench> -DBACKEND=sqlite|postgresql -P check_smoke.cmake
execute_process(COMMAND "${BENCH}" --smoke --backend "${BACKEND}" --walk 1000
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "evstore-bench --smoke --backend ${BACKEND} failed (${status}): ${errors}")
endif()
foreach(workload IN ITEMS W1 W2 W3 W4 W5)
  if(NOT output MATCHES "BENCH backend=${BACKEND} workload=${workload} evstore=[0-9.]+ raw=[0-9.]+ soci=[0-9.]+ ratio=[0-9.]+")
    message(FATAL_ERROR "no BENCH line for ${workload} on ${BACKEND}")
  endif()
endforeach()
if(NOT output MATCHES "MEMORY backend=${BACKEND} workload=walk items=1000 pages=20 ")
  message(FATAL_ERROR "no MEMORY line for the timeline walk on ${BACKEND}")
endif()
