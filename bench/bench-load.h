/* The load generator: C connections with D calls in flight each, for a
 * fixed time, against one daemon on its bus, or against several targets
 * (daemons, or callers of one daemon) in turn, in short alternating
 * slices, so that the machine's other load falls on all alike. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#define BENCH_MAX_TARGETS 6
#define BENCH_MAX_CPU_PIDS 8

typedef struct {
  const char *address;
  gint pid;
  /* The calls' user (-1: the load generator's own; needs root). */
  gint uid;
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
  /* Other processes whose CPU time is read at the start and end of every
   * slice and counted for that slice's target (polkitd, the buses): they
   * serve every target, so only slice by slice does their time tell whose
   * calls it went to. */
  gint cpu_pids[BENCH_MAX_CPU_PIDS];
  guint n_cpu_pids;
  /* Another client's load (a flood of calls) that runs only during the
   * slices of target @flood_with: stopped (SIGSTOP) during the others',
   * and @settle seconds given after each change before the next slice
   * starts, for the calls it has in flight to be answered (0: none). */
  gint flood_pid;
  gint flood_with;
  double settle;
} BenchLoadOptions;

/* Runs the slices and prints the figures of each target, as one JSON
 * object on stdout. */
gboolean bench_load_run (const BenchLoadOptions *options, GError **error);

/* The scenario names bench_load_run() knows, for --help. */
const char *bench_load_scenario_names (void);

/* A new call of @scenario (for domain scenarios on the benchmark domain
 * @domain, for lookups with its name), as the load generator sends it. */
gboolean bench_scenario_new_call (sd_bus *bus, const char *scenario, const char *connect_path,
                                  const char *property, guint domain, sd_bus_message **message,
                                  GError **error);
