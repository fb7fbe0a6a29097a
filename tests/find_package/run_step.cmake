# run_step.cmake: run_step(<description> <output-var> COMMAND ...) runs a command and stops the
# calling `cmake -P` script, showing the command's output, when it fails. Included by
# tests/find_package/run.cmake and bindings/c/tests/install.cmake.
function(run_step description output_var)
  execute_process(${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${description} failed (${rc}):\n${out}\n${err}")
  endif()
  set(${output_var} "${out}" PARENT_SCOPE)
endfunction()
