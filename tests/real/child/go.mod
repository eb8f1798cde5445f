module memgov.dev/tests/real/child

go 1.19

require memgov.dev/agent v0.0.0

replace memgov.dev/agent => ../../../agents/go
