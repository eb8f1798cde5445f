module memgov.dev/agent

go 1.19
