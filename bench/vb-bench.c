/* vb-bench: the benchmark's client side.  bench/run-benchmark runs the
 * daemons and calls this once per slice or task; each run prints one JSON
 * object on stdout.
 *
 *   vb-bench load -a A -p PID_A [-a B -p PID_B] --scenario get ...
 *   vb-bench populate --address A --type test --first 1 --last 1000
 *   vb-bench startup --address A [-- DAEMON ARGS...]
 *   vb-bench events --address A --domain 5 --cycles 20
 *   vb-bench first --address A --scenario get --first-domain 200 --samples 10
 *   vb-bench soak --address A --pid PID --caller -1:16 --caller 64301:16 --calls 10000
 */
#include <locale.h>
#include <stdio.h>

#include "bench-load.h"
#include "bench-soak.h"
#include "bench-tasks.h"

#define DEFAULT_CONNECT_PATH "/org/libvirt/Test"

typedef gboolean (*Command) (int argc, char **argv, GError **error);

/* Options the subcommands share. */
#define ADDRESS_OPTION(field) \
  { "address", 'a', 0, G_OPTION_ARG_STRING, (field), "Bus address", "ADDRESS" }
#define CONNECT_PATH_OPTION(field) \
  { "connect-path", 0, 0, G_OPTION_ARG_STRING, (field), \
    "The connection object (default " DEFAULT_CONNECT_PATH ")", "PATH" }

/* Parses the options of a subcommand; argv[0] is the subcommand. */
static gboolean
parse (const char *usage, const GOptionEntry *entries, int *argc, char ***argv,
       GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (usage);

  g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

/* --address, --pid and --uid are given once per target, in the same
 * order (--pid and --uid may be left out). */
static gboolean
pair_targets (BenchLoadOptions *options, char **addresses, char **pids, char **uids,
              GError **error)
{
  guint n_addresses = addresses != NULL ? g_strv_length (addresses) : 0;
  guint n_pids = pids != NULL ? g_strv_length (pids) : 0;
  guint n_uids = uids != NULL ? g_strv_length (uids) : 0;

  if (n_addresses < 1 || n_addresses > BENCH_MAX_TARGETS ||
      (n_pids != 0 && n_pids != n_addresses) || (n_uids != 0 && n_uids != n_addresses))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "load needs 1 to %d --address, and as many --pid and --uid or none",
                   BENCH_MAX_TARGETS);
      return FALSE;
    }
  options->n_targets = n_addresses;
  for (guint t = 0; t < n_addresses; t++)
    {
      options->targets[t].address = addresses[t];
      options->targets[t].pid = n_pids > 0 ? (gint) g_ascii_strtoll (pids[t], NULL, 10) : 0;
      options->targets[t].uid = n_uids > 0 ? (gint) g_ascii_strtoll (uids[t], NULL, 10) : -1;
    }
  return TRUE;
}

/* --cpu-pid: processes serving every target (polkitd, the buses). */
static gboolean
parse_cpu_pids (BenchLoadOptions *options, char **pids, GError **error)
{
  guint n_pids = pids != NULL ? g_strv_length (pids) : 0;

  if (n_pids > BENCH_MAX_CPU_PIDS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "load takes at most %d --cpu-pid", BENCH_MAX_CPU_PIDS);
      return FALSE;
    }
  options->n_cpu_pids = n_pids;
  for (guint i = 0; i < n_pids; i++)
    options->cpu_pids[i] = (gint) g_ascii_strtoll (pids[i], NULL, 10);
  return TRUE;
}

static gboolean
run_load (int argc, char **argv, GError **error)
{
  BenchLoadOptions options = {
    .scenario = "ping", .connect_path = DEFAULT_CONNECT_PATH, .property = "Active",
    .connections = 4, .depth = 8, .warmup = 0.2, .duration = 1.0, .slice = 0.05,
    .first_domain = 1, .last_domain = 1,
  };
  g_auto(GStrv) addresses = NULL;
  g_auto(GStrv) pids = NULL;
  g_auto(GStrv) uids = NULL;
  g_auto(GStrv) cpu_pids = NULL;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      "Bus address of a target (once per target)", "ADDRESS" },
    { "pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pids,
      "The daemon on that bus, whose CPU time to read", "PID" },
    { "uid", 'u', 0, G_OPTION_ARG_STRING_ARRAY, &uids,
      "The user whose calls the target's are (-1: this process's; others need root)", "UID" },
    { "scenario", 's', 0, G_OPTION_ARG_STRING, &options.scenario,
      "getid, ping, list, get, getall, xml or lookup", "NAME" },
    CONNECT_PATH_OPTION (&options.connect_path),
    { "property", 0, 0, G_OPTION_ARG_STRING, &options.property,
      "Domain property for the get scenario (default Active)", "NAME" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &options.connections, "Connections (4)", "C" },
    { "depth", 'd', 0, G_OPTION_ARG_INT, &options.depth, "Calls in flight per connection (8)", "D" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &options.warmup,
      "Seconds per target not measured (0.2)", "S" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &options.duration,
      "Seconds measured per target (1)", "S" },
    { "slice", 0, 0, G_OPTION_ARG_DOUBLE, &options.slice,
      "Seconds per slice, targets taking turns (0.05)", "S" },
    { "first-domain", 0, 0, G_OPTION_ARG_INT, &options.first_domain,
      "Calls rotate over domains first..last", "N" },
    { "last-domain", 0, 0, G_OPTION_ARG_INT, &options.last_domain, "See --first-domain", "N" },
    { "slow-calls", 0, 0, G_OPTION_ARG_INT, &options.slow_calls,
      "Keep CoreDump calls on domains 1..N blocked during the window", "N" },
    { "fifo-dir", 0, 0, G_OPTION_ARG_FILENAME, &options.fifo_dir,
      "Where the slow calls' FIFOs go", "DIR" },
    { "cpu-pid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cpu_pids,
      "Another process whose CPU time to count, slice by slice, for each target", "PID" },
    { "flood-pid", 0, 0, G_OPTION_ARG_INT, &options.flood_pid,
      "Another client's load, let run only during the slices of --flood-with", "PID" },
    { "flood-with", 0, 0, G_OPTION_ARG_INT, &options.flood_with,
      "The target (0, 1, ...) during whose slices --flood-pid runs (0)", "N" },
    { "settle", 0, 0, G_OPTION_ARG_DOUBLE, &options.settle,
      "Seconds after stopping or resuming --flood-pid before the next slice (0)", "S" },
    { NULL },
  };

  if (!parse ("load - calls for a fixed time, slices alternating between targets", entries,
              &argc, &argv, error) ||
      !pair_targets (&options, addresses, pids, uids, error) ||
      !parse_cpu_pids (&options, cpu_pids, error))
    return FALSE;
  return bench_load_run (&options, error);
}

static gboolean
run_populate (int argc, char **argv, GError **error)
{
  BenchPopulateOptions options = {
    .connect_path = DEFAULT_CONNECT_PATH, .type = "test", .first = 1, .last = 0, .depth = 16,
  };
  const GOptionEntry entries[] = {
    ADDRESS_OPTION (&options.address),
    CONNECT_PATH_OPTION (&options.connect_path),
    { "type", 0, 0, G_OPTION_ARG_STRING, &options.type, "Domain type: test or qemu", "TYPE" },
    { "first", 0, 0, G_OPTION_ARG_INT, &options.first, "First domain number", "N" },
    { "last", 0, 0, G_OPTION_ARG_INT, &options.last, "Last domain number", "N" },
    { "depth", 'd', 0, G_OPTION_ARG_INT, &options.depth, "Definitions in flight (16)", "D" },
    { NULL },
  };

  if (!parse ("populate - define the benchmark's domains", entries, &argc, &argv, error))
    return FALSE;
  if (options.address == NULL || options.first < 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "populate needs --address and --first >= 1");
      return FALSE;
    }
  return bench_populate (&options, error);
}

static gboolean
run_startup (int argc, char **argv, GError **error)
{
  BenchStartupOptions options = { .connect_path = DEFAULT_CONNECT_PATH, .timeout = 30 };
  g_auto(GStrv) command = NULL;
  const GOptionEntry entries[] = {
    ADDRESS_OPTION (&options.address),
    CONNECT_PATH_OPTION (&options.connect_path),
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &options.timeout, "Seconds to wait (30)", "S" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &command, NULL, "[-- DAEMON ARGS]" },
    { NULL },
  };

  if (!parse ("startup - time a daemon to its first answered call", entries, &argc, &argv, error))
    return FALSE;
  if (options.address == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "startup needs --address");
      return FALSE;
    }
  options.command = command;
  return bench_startup (&options, error);
}

static gboolean
run_events (int argc, char **argv, GError **error)
{
  BenchEventsOptions options = {
    .connect_path = DEFAULT_CONNECT_PATH, .domain = 0, .cycles = 10, .timeout = 60,
  };
  g_auto(GStrv) addresses = NULL;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      "Bus address (once or twice: the buses take turns)", "ADDRESS" },
    CONNECT_PATH_OPTION (&options.connect_path),
    { "domain", 0, 0, G_OPTION_ARG_INT, &options.domain, "Domain number to start and stop", "N" },
    { "cycles", 0, 0, G_OPTION_ARG_INT, &options.cycles, "Create/Destroy cycles (10)", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &options.timeout, "Seconds per call (60)", "S" },
    { NULL },
  };

  if (!parse ("events - time Create/Destroy to their DomainEvent", entries, &argc, &argv, error))
    return FALSE;
  if (addresses == NULL || options.domain < 1 || options.cycles < 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "events needs --address, --domain >= 1 and --cycles >= 1");
      return FALSE;
    }
  options.addresses = addresses;
  return bench_events (&options, error);
}

static gboolean
run_first (int argc, char **argv, GError **error)
{
  BenchFirstOptions options = {
    .connect_path = DEFAULT_CONNECT_PATH, .scenario = "get", .property = "Active",
    .first_domain = 1, .samples = 10, .repeat = 0,
  };
  const GOptionEntry entries[] = {
    ADDRESS_OPTION (&options.address),
    CONNECT_PATH_OPTION (&options.connect_path),
    { "scenario", 's', 0, G_OPTION_ARG_STRING, &options.scenario,
      "The call, as for load (get)", "NAME" },
    { "property", 0, 0, G_OPTION_ARG_STRING, &options.property,
      "Domain property for the get scenario (default Active)", "NAME" },
    { "first-domain", 0, 0, G_OPTION_ARG_INT, &options.first_domain,
      "Sample i calls domain N + i", "N" },
    { "samples", 0, 0, G_OPTION_ARG_INT, &options.samples, "New connections (10)", "N" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &options.repeat,
      "Calls after the first on each connection (0)", "N" },
    { NULL },
  };

  if (!parse ("first - time a new caller's first call, and the calls after it", entries,
              &argc, &argv, error))
    return FALSE;
  if (options.address == NULL || options.first_domain < 1 || options.samples < 1 ||
      options.repeat < 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "first needs --address, --first-domain >= 1, --samples >= 1 "
                           "and --repeat >= 0");
      return FALSE;
    }
  return bench_first_calls (&options, error);
}

/* --caller UID:COUNT, once per group of clients. */
static gboolean
parse_callers (BenchSoakOptions *options, char **callers, GError **error)
{
  guint n_callers = callers != NULL ? g_strv_length (callers) : 0;

  if (n_callers < 1 || n_callers > BENCH_SOAK_MAX_GROUPS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "soak needs 1 to %d --caller UID:COUNT", BENCH_SOAK_MAX_GROUPS);
      return FALSE;
    }
  options->n_groups = n_callers;
  for (guint g = 0; g < n_callers; g++)
    {
      g_auto(GStrv) parts = g_strsplit (callers[g], ":", 2);
      gint64 uid, count;

      if (g_strv_length (parts) != 2 ||
          !g_ascii_string_to_signed (parts[0], 10, -1, G_MAXINT32, &uid, NULL) ||
          !g_ascii_string_to_signed (parts[1], 10, 1, 4096, &count, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--caller '%s': expected UID:COUNT (UID -1 for this process's)",
                       callers[g]);
          return FALSE;
        }
      options->groups[g].uid = (gint) uid;
      options->groups[g].clients = (gint) count;
    }
  return TRUE;
}

static gboolean
run_soak (int argc, char **argv, GError **error)
{
  BenchSoakOptions options = {
    .connect_path = DEFAULT_CONNECT_PATH, .calls = 10000, .depth = 4, .first_domain = 1,
    .last_domain = 1, .sample_interval = 0.1,
  };
  g_auto(GStrv) callers = NULL;
  const GOptionEntry entries[] = {
    ADDRESS_OPTION (&options.address),
    CONNECT_PATH_OPTION (&options.connect_path),
    { "pid", 'p', 0, G_OPTION_ARG_INT, &options.pid,
      "The daemon, whose memory and CPU time to read", "PID" },
    { "caller", 0, 0, G_OPTION_ARG_STRING_ARRAY, &callers,
      "COUNT client connections calling as user UID (-1: this process's; others need root); "
      "repeatable", "UID:COUNT" },
    { "calls", 0, 0, G_OPTION_ARG_INT, &options.calls, "Calls per client (10000)", "N" },
    { "depth", 'd', 0, G_OPTION_ARG_INT, &options.depth, "Calls in flight per client (4)", "D" },
    { "first-domain", 0, 0, G_OPTION_ARG_INT, &options.first_domain,
      "Calls rotate over domains first..last", "N" },
    { "last-domain", 0, 0, G_OPTION_ARG_INT, &options.last_domain, "See --first-domain", "N" },
    { "sample-interval", 0, 0, G_OPTION_ARG_DOUBLE, &options.sample_interval,
      "Seconds between samples of the daemon's VmRSS (0.1)", "S" },
    { NULL },
  };

  if (!parse ("soak - many clients, a fixed number of mixed calls each, memory sampled",
              entries, &argc, &argv, error) ||
      !parse_callers (&options, callers, error))
    return FALSE;
  if (options.address == NULL || options.pid <= 0 || options.calls < 1 || options.depth < 1 ||
      options.first_domain < 1 || options.last_domain < options.first_domain ||
      options.sample_interval <= 0)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "soak needs --address, --pid, --calls >= 1, --depth >= 1, "
                           "1 <= --first-domain <= --last-domain and --sample-interval > 0");
      return FALSE;
    }
  return bench_soak_run (&options, error);
}

static Command
find_command (const char *name)
{
  static const struct {
    const char *name;
    Command run;
  } commands[] = {
    { "load", run_load },
    { "populate", run_populate },
    { "startup", run_startup },
    { "events", run_events },
    { "first", run_first },
    { "soak", run_soak },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return commands[i].run;
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  Command command;

  setlocale (LC_ALL, "");
  /* JSON wants a '.' in numbers whatever the locale. */
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("vb-bench");
  command = argc > 1 ? find_command (argv[1]) : NULL;
  if (command == NULL)
    {
      fprintf (stderr, "usage: vb-bench load|populate|startup|events|first|soak [OPTION...] (--help)\n");
      return 2;
    }
  if (!command (argc - 1, argv + 1, &error))
    {
      fprintf (stderr, "vb-bench %s: %s\n", argv[1], error->message);
      return 1;
    }
  return 0;
}
