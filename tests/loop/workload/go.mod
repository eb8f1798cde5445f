module memgov.dev/tests/loop/workload

go 1.19

require memgov.dev/agent v0.0.0

replace memgov.dev/agent => ../../../agents/go
