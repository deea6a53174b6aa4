/* The service's lifecycle: bus, exported connections, workers, events. */
#pragma once

#include "options.h"

/* Serves until SIGTERM/SIGINT or the bus goes away.  Returns the exit
 * status. */
int vb_daemon_run (const VbOptions *options);
