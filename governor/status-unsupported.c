/* SPDX-License-Identifier: MIT */
/* `memgov status` where there is no operator socket to ask: the Windows build (cmake/windows.cmake), whose
 * supervisor (run-queue.c) serves none. status.c's socket is a Unix socket in a 0700 directory whose
 * peers are checked with SO_PEERCRED; a named pipe with a DACL would be Windows' counterpart, not built. */
#include "cli.h"
#include "log.h"
#include "status.h"

int status_main(int argc, char *argv[])
{
        log_error(
                "status is not supported here: a running memgov serves its status over a Unix socket, which this build has no counterpart of yet (docs/windows.md).");
        return EXIT_MEMGOV_FAILURE;
}

int capture_main(int argc, char *argv[])
{
        log_error(
                "capture is not supported here: it asks a running memgov over its status socket, which this build has no counterpart of yet (docs/windows.md).");
        return EXIT_MEMGOV_FAILURE;
}
