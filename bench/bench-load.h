/* The load generator: C connections with D calls in flight each, for a
 * fixed time, against one daemon on its bus, or against two daemons in
 * turn, in short alternating slices, so that the machine's other load
 * falls on both alike. */
#pragma once

#include <glib.h>

#define BENCH_MAX_TARGETS 2

typedef struct {
  const char *address;
  gint pid;
} BenchTarget;

typedef struct {
  BenchTarget targets[BENCH_MAX_TARGETS];
  guint n_targets;
  const char *scenario;
  const char *connect_path;
  const char *property;
  gint connections;
  gint depth;
  /* Unmeasured, per target, before the first slice. */
  double warmup;
  /* Measured time per target, in slices of @slice seconds. */
  double duration;
  double slice;
  gint first_domain;
  gint last_domain;
  /* Calls that block inside libvirt (CoreDump into a FIFO nobody reads)
   * on domains 1..slow_calls, held for the whole measured window, which
   * is then one slice of @duration (one target only). */
  gint slow_calls;
  const char *fifo_dir;
} BenchLoadOptions;

/* Runs the slices and prints the figures of each target, as one JSON
 * object on stdout. */
gboolean bench_load_run (const BenchLoadOptions *options, GError **error);

/* The scenario names bench_load_run() knows, for --help. */
const char *bench_load_scenario_names (void);
