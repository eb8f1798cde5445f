/* SPDX-License-Identifier: MIT */
#pragma once

/* What spawn.c needs of the sandbox in job.c. */

#include <windows.h>

#include "../platform.h"

HANDLE win_sandbox_job(PlatformSandbox *s);
HANDLE win_sandbox_port(PlatformSandbox *s);
struct JobSource *win_sandbox_port_source(PlatformSandbox *s);
/* Hands the spawned child's process handle to the sandbox, which keeps it (and so its pid) until freed. */
void win_sandbox_set_child(PlatformSandbox *s, HANDLE process, uint32_t pid);

/*
 * The command line CreateProcess gets for argv, quoted so that the C runtime's
 * parser (and CommandLineToArgvW) gives argv back: arguments with spaces, tabs
 * or quotes are quoted, backslashes before a quote doubled. malloc'd.
 */
int win_build_command_line(char *const argv[], char **ret);
/* envp as CreateProcess's environment block: "NAME=value\0...\0\0", sorted by name as Windows expects. */
int win_build_environment_block(char *const envp[], char **ret);
