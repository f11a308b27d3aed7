# evstore_set_warnings(<target>): the warning set every target of ours builds with.
function(evstore_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast)
  if(EVSTORE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
