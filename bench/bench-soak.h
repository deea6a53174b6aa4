/* The soak: many clients, each making a fixed number of mixed, valid
 * calls with a few in flight, against one daemon, with the daemon's
 * resident memory sampled all along: what a long busy day does to it
 * (errors, throughput, memory that creeps up). */
#pragma once

#include <glib.h>

#define BENCH_SOAK_MAX_GROUPS 8

typedef struct {
  /* The callers' user (-1: the load generator's own; others need root),
   * and how many client connections make calls as that user. */
  gint uid;
  gint clients;
} BenchSoakGroup;

typedef struct {
  const char *address;
  const char *connect_path;
  /* The daemon whose memory and CPU time to read. */
  gint pid;
  BenchSoakGroup groups[BENCH_SOAK_MAX_GROUPS];
  guint n_groups;
  /* Calls per client, and calls in flight on each. */
  gint calls;
  gint depth;
  gint first_domain;
  gint last_domain;
  /* Seconds between two samples of the daemon's VmRSS. */
  double sample_interval;
} BenchSoakOptions;

/* Runs the clients to their last answer and prints the figures as one
 * JSON object on stdout. */
gboolean bench_soak_run (const BenchSoakOptions *options, GError **error);
