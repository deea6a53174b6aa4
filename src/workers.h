/* Worker threads for libvirt calls.  Two pools, so that calls known to
 * take long (starting or saving a domain, migrations, ...) never queue
 * in front of cheap ones (property reads, lookups, lists). */
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

/* Runs @func (@data) on a worker of the pool for @cost (INSTANT: the
 * cheap pool). */
void vb_workers_push (VbCost cost, VbWorkFunc func, gpointer data);

/* Waits for queued and running work to finish, then frees the pools. */
void vb_workers_shutdown (void);
