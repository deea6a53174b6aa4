/* Worker threads for libvirt calls.  Each libvirt connection has its own
 * two pools (a lane), so that a host that hangs or drops off holds up
 * only the calls to it, never those to another connection; and within a
 * lane calls known to take long (starting or saving a domain, migrations,
 * ...) never queue in front of cheap ones (property reads, lookups,
 * lists).  Pools make their threads when work comes and GLib keeps a few
 * idle ones for any pool to reuse, so a lane nobody calls costs nothing. */
#pragma once

#include <glib.h>

typedef enum {
  VB_COST_CHEAP,
  VB_COST_SLOW,
  /* A read of one object that a driver running inside virtbusd (libvirt's
   * test driver) answers from memory in microseconds: bus.c answers it in
   * place, on GDBus's thread, when that is safe; everywhere else it is a
   * CHEAP call. */
  VB_COST_INSTANT,
} VbCost;

typedef void (*VbWorkFunc) (gpointer data);

/* @threads is the size of each pool (--threads). */
void vb_workers_init (guint threads);

/* How many calls of one lane may run at once (both pools). */
guint vb_workers_lane_threads (void);

/* Runs @func (@data) on a worker of @lane's pool for @cost (INSTANT: the
 * cheap pool); @lane names the lane (a connection), made on first use.
 * Any thread. */
void vb_workers_push (gconstpointer lane, VbCost cost, VbWorkFunc func, gpointer data);

/* Waits for queued and running work to finish, then frees the pools. */
void vb_workers_shutdown (void);
