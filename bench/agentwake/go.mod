module memgov.dev/bench/agentwake

go 1.21

require memgov.dev/agent v0.0.0

replace memgov.dev/agent => ../../agents/go
