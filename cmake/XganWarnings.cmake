# xgan_warnings(target): the warning set every target of this repository builds clean with.
function(xgan_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()
