/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* `memgov explain`: prints what run would do; returns the exit status. */
int explain_main(const RunOptions *o);
