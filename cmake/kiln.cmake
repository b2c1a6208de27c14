# kiln_add_model(NAME HEADER <models/x.hpp> SYMBOL <c++ name> [RECIPE <c++ name>] [SCHEDULER hand|Adams2019|Mullapudi2016|Li2018]
#                [ENTRIES forward gradients train_step] [TARGETS host ...] [BATCH_ESTIMATE 64]
#                [CPU_LAYOUT auto|batch|channels] [IO_LAYOUT nchw|nhwc])
#
# At build time, runs the model's generator and builds one AOT static library per
# (entry, target), named <NAME>_<entry>_<target> with the same C function name
# (target '-' and ',' become '_'). All of them share one Halide runtime. Targets of
# another architecture (not host...) build the forward entry only, with a runtime of
# their own (global property KILN_HALIDE_RUNTIME_<target suffix>), unregistered. A registration
# source, which tells the runtime's model registry about each library, is added to the
# global KILN_MODEL_REGISTRATIONS property; models/CMakeLists.txt links them all into
# the kiln_models object library. A record schedules/tuned/<target>/<NAME>.<entry>.txt
# (kiln tune) tunes that entry's build. CPU_LAYOUT picks the hand CPU policy (default auto:
# the rule in schedules/README.md). IO_LAYOUT nhwc builds a forward entry that takes and
# returns channels-last images (callers holding such data; bench/conv_layer.cpp); such a
# model is not registered, since kiln's runtime passes NCHW.
set(KILN_SCHEDULER "hand" CACHE STRING "Default scheduler: hand, Adams2019, Mullapudi2016 or Li2018")
set(KILN_REGISTRATION_TEMPLATE ${CMAKE_CURRENT_LIST_DIR}/registration.cpp.in)
set(KILN_GENERATOR_TEMPLATE ${CMAKE_CURRENT_LIST_DIR}/generator.cpp.in)

function(kiln_target_suffix target out)
  string(REGEX REPLACE "[^A-Za-z0-9]" "_" s "${target}")
  set(${out} "${s}" PARENT_SCOPE)
endfunction()

function(kiln_add_model NAME)
  cmake_parse_arguments(ARG "" "HEADER;SYMBOL;RECIPE;SCHEDULER;BATCH_ESTIMATE;CPU_LAYOUT;IO_LAYOUT" "ENTRIES;TARGETS" ${ARGN})
  if(NOT ARG_ENTRIES)
    set(ARG_ENTRIES forward gradients train_step)
  endif()
  if(NOT ARG_TARGETS)
    set(ARG_TARGETS ${KILN_TARGETS})
  endif()
  if(NOT ARG_SCHEDULER)
    set(ARG_SCHEDULER ${KILN_SCHEDULER})
  endif()
  if(NOT ARG_BATCH_ESTIMATE)
    set(ARG_BATCH_ESTIMATE 64)
  endif()
  if(NOT ARG_CPU_LAYOUT)
    set(ARG_CPU_LAYOUT auto)
  endif()
  if(NOT ARG_IO_LAYOUT)
    set(ARG_IO_LAYOUT nchw)
  endif()

  set(MODEL_NAME ${NAME})
  set(MODEL_HEADER ${ARG_HEADER})
  set(MODEL_SYMBOL ${ARG_SYMBOL})
  set(MODEL_RECIPE "kiln::Recipe{}")
  if(ARG_RECIPE)
    set(MODEL_RECIPE ${ARG_RECIPE})
  endif()
  configure_file(${KILN_GENERATOR_TEMPLATE} ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.generator.cpp @ONLY)
  add_halide_generator(${NAME}.generator SOURCES ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.generator.cpp
                       LINK_LIBRARIES kiln_generators)

  set(autoscheduler "")
  if(NOT ARG_SCHEDULER STREQUAL "hand")
    set(autoscheduler AUTOSCHEDULER Halide::${ARG_SCHEDULER})
  endif()

  get_property(runtime GLOBAL PROPERTY KILN_HALIDE_RUNTIME)
  set(includes "")
  set(entries "")
  set(libraries "")
  foreach(target IN LISTS ARG_TARGETS)
    kiln_target_suffix("${target}" suffix)
    # Another architecture (arm-64-linux, ...): its forward entry is built, with one
    # runtime per such target, and left for a cross-linked program; it is not linked
    # into this machine's programs or registered.
    if(NOT target MATCHES "^host")
      if(NOT "forward" IN_LIST ARG_ENTRIES)
        continue()
      endif()
      set(lib ${NAME}_forward_${suffix})
      get_property(cross_runtime GLOBAL PROPERTY KILN_HALIDE_RUNTIME_${suffix})
      set(use_runtime "")
      if(cross_runtime)
        set(use_runtime USE_RUNTIME ${cross_runtime})
      endif()
      add_halide_library(${lib} FROM ${NAME}.generator GENERATOR ${NAME}_forward
                         TARGETS ${target} ${use_runtime} ${autoscheduler}
                         PARAMS batch_estimate=${ARG_BATCH_ESTIMATE} cpu_layout=${ARG_CPU_LAYOUT}
                                io_layout=${ARG_IO_LAYOUT})
      if(NOT cross_runtime)
        set_property(GLOBAL PROPERTY KILN_HALIDE_RUNTIME_${suffix} ${lib}.runtime)
      endif()
      continue()
    endif()
    foreach(entry IN LISTS ARG_ENTRIES)
      set(lib ${NAME}_${entry}_${suffix})
      set(use_runtime "")
      if(runtime)
        set(use_runtime USE_RUNTIME ${runtime})
      endif()
      # A tuned record for this model, entry and target (kiln tune writes them): the
      # generator applies it where it still fits the model. Its hash is a parameter, so
      # an edited record rebuilds the entry; CMake re-runs when it changes.
      set(tuned "")
      set(record ${CMAKE_SOURCE_DIR}/schedules/tuned/${target}/${NAME}.${entry}.txt)
      if(EXISTS ${record} AND ARG_SCHEDULER STREQUAL "hand")
        file(MD5 ${record} record_hash)
        set(tuned tuned=${record} tuned_hash=${record_hash})
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${record})
      endif()
      add_halide_library(${lib} FROM ${NAME}.generator GENERATOR ${NAME}_${entry}
                         TARGETS ${target} ${use_runtime} ${autoscheduler}
                         PARAMS batch_estimate=${ARG_BATCH_ESTIMATE} cpu_layout=${ARG_CPU_LAYOUT}
                                io_layout=${ARG_IO_LAYOUT} ${tuned}
                         STMT_HTML ${lib}_stmt)
      if(NOT runtime)
        set(runtime ${lib}.runtime)
        set_property(GLOBAL PROPERTY KILN_HALIDE_RUNTIME ${runtime})
      endif()
      list(APPEND libraries ${lib})
      string(APPEND includes "#include \"${lib}.h\"\n")
      if(ARG_SCHEDULER STREQUAL "hand")
        set(in_place true)
      else()
        set(in_place false)
      endif()
      string(APPEND entries "    {\"${target}\", \"${entry}\", ${lib}_argv, ${lib}_metadata, ${in_place}, ${in_place}},\n")
    endforeach()
  endforeach()

  set(MODEL_INCLUDES "${includes}")
  set(MODEL_ENTRIES "${entries}")
  if(ARG_IO_LAYOUT STREQUAL "nchw")
    configure_file(${KILN_REGISTRATION_TEMPLATE} ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.registration.cpp @ONLY)
    set_property(GLOBAL APPEND PROPERTY KILN_MODEL_REGISTRATIONS ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.registration.cpp)
    set_property(GLOBAL APPEND PROPERTY KILN_MODEL_LIBRARIES ${libraries})
  endif()
endfunction()

# kiln_add_cells(): the recurrent cells' step pipelines (generators/cells/cells.cpp), for
# the first of KILN_TARGETS, any hidden size, and the extern stages that loop them over
# time (sequence_loop.cpp), as the static library kiln_cells. Models with rnn, lstm or
# gru call those stages; kiln_models links kiln_cells after every model library.
# Call it after the first kiln_add_model, so that the steps share its Halide runtime.
function(kiln_add_cells)
  get_property(runtime GLOBAL PROPERTY KILN_HALIDE_RUNTIME)
  list(GET KILN_TARGETS 0 target)
  add_halide_generator(kiln_cells.generator SOURCES ${CMAKE_SOURCE_DIR}/generators/cells/cells.cpp
                       LINK_LIBRARIES kiln_dsl)
  set(steps "")
  foreach(step step_product rnn_forward rnn_backward lstm_forward lstm_backward gru_forward gru_backward
               attend_forward attend_backward)
    add_halide_library(kiln_${step} FROM kiln_cells.generator GENERATOR kiln_${step}
                       TARGETS ${target} USE_RUNTIME ${runtime})
    list(APPEND steps kiln_${step})
  endforeach()
  add_halide_library(kiln_step_product_serial FROM kiln_cells.generator GENERATOR kiln_step_product
                     TARGETS ${target} USE_RUNTIME ${runtime} PARAMS parallel=false)
  list(APPEND steps kiln_step_product_serial)
  add_library(kiln_cells STATIC ${CMAKE_SOURCE_DIR}/generators/cells/sequence_loop.cpp)
  target_link_libraries(kiln_cells PUBLIC kiln_dsl Halide::Runtime ${steps})
endfunction()
