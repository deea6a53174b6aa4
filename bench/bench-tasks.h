/* The benchmark's one-off tasks: defining the domains, timing a daemon's
 * start, timing lifecycle signals, and timing a caller's first calls. */
#pragma once

#include <glib.h>

typedef struct {
  const char *address;
  const char *connect_path;
  const char *type;
  gint first;
  gint last;
  gint depth;
} BenchPopulateOptions;

/* Defines domains first..last through DomainDefineXML, @depth calls in
 * flight, and checks each answer is the path the load generator expects. */
gboolean bench_populate (const BenchPopulateOptions *options, GError **error);

typedef struct {
  const char *address;
  const char *connect_path;
  double timeout;
  /* NULL: wait for the daemon already starting; else start this command,
   * time it to its first answered call, then stop it. */
  char **command;
} BenchStartupOptions;

gboolean bench_startup (const BenchStartupOptions *options, GError **error);

typedef struct {
  /* One or two buses; with two, the cycles alternate A B B A ... */
  char **addresses;
  const char *connect_path;
  gint domain;
  gint cycles;
  double timeout;
} BenchEventsOptions;

/* Create then Destroy a domain @cycles times on each bus; reports the
 * time from sending each call to receiving its DomainEvent signal. */
gboolean bench_events (const BenchEventsOptions *options, GError **error);

typedef struct {
  const char *address;
  const char *connect_path;
  const char *scenario;
  const char *property;
  gint first_domain;
  gint samples;
  gint repeat;
} BenchFirstOptions;

/* Per sample, a new connection (a new caller to the daemon: nothing it
 * knows of it yet, no identity and no authorization decision) makes one
 * call of @scenario, on domain first_domain + sample where the call
 * names a domain, then @repeat more of the same call one at a time; each
 * call is timed from sending to its answer, the connection's set-up
 * excluded. */
gboolean bench_first_calls (const BenchFirstOptions *options, GError **error);
