module memgov.dev/examples/cache-server

go 1.19
