# memgov under a real systemd 252 as the VM's PID 1 (tests/vm/vmrun --init systemd), one boot:
# examples/systemd/memgov-app.service, a user manager's transient scope, the journal, and
# MEMORY_PRESSURE_WATCH. Included by tests/real/CMakeLists.txt; the Go workload comes from tests/loop.
add_test(NAME vm.real.systemd
         COMMAND ${PROJECT_SOURCE_DIR}/tests/vm/vmrun --init systemd --cgroup v2 --memory 1024 --timeout 420 --
                 ${CMAKE_CURRENT_SOURCE_DIR}/run-systemd.sh $<TARGET_FILE:memgov> ${CMAKE_BINARY_DIR}/tests/loop/workload
                 ${PROJECT_SOURCE_DIR}/examples/systemd/memgov-app.service)
set_tests_properties(vm.real.systemd PROPERTIES LABELS "real;vm" TIMEOUT 480 PROCESSORS 2)
