#include "bench-load.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-bus.h"

/* Before the measured window begins, let the slow calls reach the point
 * where they block inside libvirt. */
#define SLOW_SETTLE_US (300 * 1000)

/* At the start of each slice the pipeline fills (D calls at once on every
 * connection) before the window opens. */
#define SLICE_FILL_US (10 * 1000)

typedef struct Load Load;
typedef struct Target Target;

typedef enum {
  DESTINATION_BUS,
  DESTINATION_CONNECT,
  DESTINATION_DOMAIN,
} Destination;

typedef int (*AppendArgs) (sd_bus_message *message, const char *property,
                           const char *domain_name);

typedef struct {
  const char *name;
  Destination destination;
  const char *interface;
  const char *member;
  AppendArgs append_args;
} Scenario;

/* One of the D slots of a connection: a call in flight, resent when its
 * reply arrives while its slice lasts. */
typedef struct {
  Target *target;
  sd_bus *bus;
  gint64 sent_at;
} Call;

/* One daemon on its bus, and what was measured of it. */
struct Target {
  Load *load;
  const BenchTarget *spec;
  GPtrArray *clients;
  Call *calls;
  guint in_flight;
  gboolean measuring;
  gint64 window_us;
  guint64 completed;
  guint64 answered;
  guint64 errors;
  char *first_error;
  GArray *latencies;
  gint64 cpu_at_start;
  gint64 cpu_at_end;
  /* The --cpu-pid processes' CPU time during this target's slices. */
  gint64 other_cpu_us[BENCH_MAX_CPU_PIDS];
};

/* Slices run one after the other; only one target has calls in flight. */
typedef struct {
  Target *target;
  gboolean measured;
  gint64 fill_us;
  gint64 window_us;
} Slice;

typedef struct {
  Load *load;
  guint domain;
  char *fifo;
  int reader;
  sd_event_source *drain;
  gboolean replied;
} SlowCall;

struct Load {
  const BenchLoadOptions *options;
  const Scenario *scenario;
  sd_event *event;
  Target targets[BENCH_MAX_TARGETS];
  guint n_calls;
  GPtrArray *domain_paths;
  GPtrArray *domain_names;
  guint next_domain;

  GArray *slices;
  guint slice_index;
  const Slice *slice;
  gint64 window_start;
  gint64 window_end;
  gboolean sending;
  GError *failure;
  gint64 other_cpu_at_slice_start[BENCH_MAX_CPU_PIDS];

  /* --flood-pid: whether it runs, since when, and for how long so far. */
  gboolean flood_running;
  gint64 flood_since;
  gint64 flood_running_us;

  /* SIGTERM: the run ends with the current slice, cut short. */
  gboolean terminated;
  gboolean finished;

  sd_bus *slow_bus;
  SlowCall *slow;
  guint slow_pending;
  gint64 released_at;
  guint slow_replied_early;
  guint slow_errors;
  char *slow_first_error;
};

static int
append_nothing (sd_bus_message *message, const char *property, const char *domain_name)
{
  return 0;
}

static int
append_zero_flags (sd_bus_message *message, const char *property, const char *domain_name)
{
  return sd_bus_message_append (message, "u", 0);
}

static int
append_property_name (sd_bus_message *message, const char *property, const char *domain_name)
{
  return sd_bus_message_append (message, "ss", BENCH_DOMAIN_IFACE, property);
}

static int
append_domain_interface (sd_bus_message *message, const char *property, const char *domain_name)
{
  return sd_bus_message_append (message, "s", BENCH_DOMAIN_IFACE);
}

static int
append_domain_name (sd_bus_message *message, const char *property, const char *domain_name)
{
  return sd_bus_message_append (message, "s", domain_name);
}

static const Scenario scenarios[] = {
  { "getid", DESTINATION_BUS, "org.freedesktop.DBus", "GetId", append_nothing },
  { "ping", DESTINATION_CONNECT, "org.freedesktop.DBus.Peer", "Ping", append_nothing },
  { "list", DESTINATION_CONNECT, BENCH_CONNECT_IFACE, "ListDomains", append_zero_flags },
  { "get", DESTINATION_DOMAIN, "org.freedesktop.DBus.Properties", "Get", append_property_name },
  { "getall", DESTINATION_DOMAIN, "org.freedesktop.DBus.Properties", "GetAll",
    append_domain_interface },
  { "xml", DESTINATION_DOMAIN, BENCH_DOMAIN_IFACE, "GetXMLDesc", append_zero_flags },
  { "lookup", DESTINATION_CONNECT, BENCH_CONNECT_IFACE, "DomainLookupByName",
    append_domain_name },
  /* virtbusd only: the reference has no ObjectManager. */
  { "managed", DESTINATION_CONNECT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
    append_nothing },
};

const char *
bench_load_scenario_names (void)
{
  return "getid, ping, list, get, getall, xml, lookup, managed";
}

static const Scenario *
find_scenario (const char *name, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (g_str_equal (scenarios[i].name, name))
      return &scenarios[i];
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "unknown scenario '%s' (known: %s)", name, bench_load_scenario_names ());
  return NULL;
}

/* The call's message, on @path (the bus's, the connection's or the
 * domain's, as the scenario wants). */
static gboolean
new_call (sd_bus *bus, const Scenario *scenario, const char *path, const char *property,
          const char *domain_name, sd_bus_message **message, GError **error)
{
  const char *destination = BENCH_SERVICE;

  if (scenario->destination == DESTINATION_BUS)
    {
      destination = "org.freedesktop.DBus";
      path = "/org/freedesktop/DBus";
    }
  return bench_check (sd_bus_message_new_method_call (bus, message, destination, path,
                                                      scenario->interface, scenario->member),
                      "new call", error) &&
         bench_check (scenario->append_args (*message, property, domain_name), "call arguments",
                      error);
}

gboolean
bench_scenario_new_call (sd_bus *bus, const char *scenario_name, const char *connect_path,
                         const char *property, guint domain, sd_bus_message **message,
                         GError **error)
{
  const Scenario *scenario = find_scenario (scenario_name, error);
  g_autofree char *domain_path = bench_domain_path (connect_path, domain);
  g_autofree char *domain_name = bench_domain_name (domain);

  if (scenario == NULL)
    return FALSE;
  return new_call (bus, scenario,
                   scenario->destination == DESTINATION_DOMAIN ? domain_path : connect_path,
                   property, domain_name, message, error);
}

static void
load_fail (Load *load, GError *error)
{
  bench_keep_first_error (&load->failure, error);
  sd_event_exit (load->event, 1);
}

static gboolean
read_cpu (const Target *target, gint64 *cpu_us, GError **error)
{
  *cpu_us = 0;
  if (target->spec->pid <= 0)
    return TRUE;
  return bench_process_cpu_us (target->spec->pid, cpu_us, error);
}

/* The --cpu-pid processes' CPU times, in their order. */
static gboolean
read_other_cpu (const Load *load, gint64 *cpu_us, GError **error)
{
  for (guint i = 0; i < load->options->n_cpu_pids; i++)
    if (!bench_process_cpu_us (load->options->cpu_pids[i], &cpu_us[i], error))
      return FALSE;
  return TRUE;
}

/* Counts the other processes' time since the slice began for its target,
 * once its calls are all answered. */
static gboolean
count_other_cpu (Load *load, GError **error)
{
  Target *target = load->slice->target;
  gint64 now[BENCH_MAX_CPU_PIDS];

  if (!target->measuring)
    return TRUE;
  if (!read_other_cpu (load, now, error))
    return FALSE;
  for (guint i = 0; i < load->options->n_cpu_pids; i++)
    target->other_cpu_us[i] += now[i] - load->other_cpu_at_slice_start[i];
  return TRUE;
}

/* ---- the measured calls ------------------------------------------------ */

static int on_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);

static gboolean
send_call (Call *call, GError **error)
{
  Load *load = call->target->load;
  const Scenario *scenario = load->scenario;
  guint domain = load->next_domain++ % load->domain_paths->len;
  const char *path = scenario->destination == DESTINATION_DOMAIN
                         ? g_ptr_array_index (load->domain_paths, domain)
                         : load->options->connect_path;
  g_autoptr(sd_bus_message) message = NULL;

  if (!new_call (call->bus, scenario, path, load->options->property,
                 g_ptr_array_index (load->domain_names, domain), &message, error))
    return FALSE;
  call->sent_at = g_get_monotonic_time ();
  if (!bench_check (sd_bus_call_async (call->bus, NULL, message, on_reply, call,
                                       BENCH_REPLY_TIMEOUT_US),
                    "sending a call", error))
    return FALSE;
  call->target->in_flight++;
  return TRUE;
}

static void
count_reply (Load *load, Call *call, sd_bus_message *reply, gint64 now)
{
  Target *target = call->target;

  if (sd_bus_message_is_method_error (reply, NULL))
    {
      target->errors++;
      if (target->first_error == NULL)
        target->first_error = bench_describe_error (reply);
    }
  /* Every answer from the first measured slice on costs the daemon CPU
   * time, also those of the fill and drain phases. */
  if (target->measuring)
    target->answered++;
  if (!load->slice->measured)
    return;
  /* Every call in flight during the window counts for latency, also one
   * sent before the window opened and stuck until after. */
  if (now >= load->window_start && call->sent_at < load->window_end)
    {
      gint64 latency = now - call->sent_at;

      g_array_append_val (target->latencies, latency);
    }
  if (now >= load->window_start && now < load->window_end)
    target->completed++;
}

/* ---- slices ------------------------------------------------------------ */

static gboolean start_slice (Load *load, GError **error);

/* Lets the flood run, or stops it; TRUE if that changed anything. */
static gboolean
set_flood_running (Load *load, gboolean running)
{
  gint64 now = g_get_monotonic_time ();

  if (load->options->flood_pid <= 0 || load->flood_running == running)
    return FALSE;
  kill (load->options->flood_pid, running ? SIGCONT : SIGSTOP);
  if (load->flood_running)
    load->flood_running_us += now - load->flood_since;
  load->flood_running = running;
  load->flood_since = now;
  return TRUE;
}

static int
on_settled (sd_event_source *source, uint64_t usec, void *userdata)
{
  Load *load = userdata;
  GError *error = NULL;

  if (!start_slice (load, &error))
    load_fail (load, error);
  return 0;
}

/* Starts slice @slice_index, once the flood is in the state that slice
 * wants and has settled. */
static gboolean
start_next_slice (Load *load, GError **error)
{
  const Slice *next = &g_array_index (load->slices, Slice, load->slice_index);
  gboolean flood = next->target == &load->targets[load->options->flood_with];

  if (set_flood_running (load, flood) && load->options->settle > 0)
    return bench_check (sd_event_add_time (load->event, NULL, CLOCK_MONOTONIC,
                                           (uint64_t) (g_get_monotonic_time () +
                                                       (gint64) (load->options->settle *
                                                                 G_USEC_PER_SEC)),
                                           1, on_settled, load),
                        "adding a timer", error);
  return start_slice (load, error);
}

static gboolean
finish_run (Load *load, GError **error)
{
  /* Stopped, it ends when it is told to (SIGTERM, then SIGCONT). */
  set_flood_running (load, FALSE);
  load->finished = TRUE;
  for (guint t = 0; t < load->options->n_targets; t++)
    if (!read_cpu (&load->targets[t], &load->targets[t].cpu_at_end, error))
      return FALSE;
  sd_event_exit (load->event, 0);
  return TRUE;
}

/* The next slice starts once the last one's calls (and slow calls) are
 * all answered, so that no daemon works during another's slice. */
static void
next_slice_when_drained (Load *load)
{
  GError *error = NULL;

  if (load->finished || load->sending || load->slice->target->in_flight > 0 ||
      load->slow_pending > 0)
    return;
  if (!count_other_cpu (load, &error))
    {
      load_fail (load, error);
      return;
    }
  load->slice_index++;
  if (load->slice_index < load->slices->len && !load->terminated ? !start_next_slice (load, &error)
                                                                 : !finish_run (load, &error))
    load_fail (load, error);
}

static int
on_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Call *call = userdata;
  Load *load = call->target->load;
  GError *error = NULL;

  call->target->in_flight--;
  count_reply (load, call, reply, g_get_monotonic_time ());
  if (load->sending && !send_call (call, &error))
    {
      load_fail (load, error);
      return 0;
    }
  next_slice_when_drained (load);
  return 0;
}

static gboolean release_slow_calls (Load *load, GError **error);

static int
on_window_end (sd_event_source *source, uint64_t usec, void *userdata)
{
  Load *load = userdata;
  GError *error = NULL;

  load->sending = FALSE;
  if (load->slow != NULL && !release_slow_calls (load, &error))
    {
      load_fail (load, error);
      return 0;
    }
  next_slice_when_drained (load);
  return 0;
}

/* Ends the window now, and the run once the slice's calls are answered;
 * what was measured until then is reported. */
static int
on_terminate (sd_event_source *source, const struct signalfd_siginfo *info, void *userdata)
{
  Load *load = userdata;
  gint64 now = g_get_monotonic_time ();

  load->terminated = TRUE;
  if (load->slice == NULL)
    {
      sd_event_exit (load->event, 1);
      return 0;
    }
  if (load->sending && load->slice->measured && now < load->window_end)
    {
      gint64 end = MAX (now, load->window_start);

      load->slice->target->window_us -= load->window_end - end;
      load->window_end = end;
    }
  load->sending = FALSE;
  next_slice_when_drained (load);
  return 0;
}

static gboolean
add_timer (Load *load, gint64 at, sd_event_time_handler_t handler, GError **error)
{
  return bench_check (sd_event_add_time (load->event, NULL, CLOCK_MONOTONIC, (uint64_t) at, 1,
                                         handler, load),
                      "adding a timer", error);
}

static gboolean
start_measuring (Target *target, GError **error)
{
  target->measuring = TRUE;
  return read_cpu (target, &target->cpu_at_start, error);
}

static gboolean
start_slice (Load *load, GError **error)
{
  const Slice *slice = &g_array_index (load->slices, Slice, load->slice_index);
  Target *target = slice->target;
  guint n_calls = load->n_calls;

  load->slice = slice;
  if (slice->measured && !target->measuring && !start_measuring (target, error))
    return FALSE;
  if (target->measuring && !read_other_cpu (load, load->other_cpu_at_slice_start, error))
    return FALSE;
  load->window_start = g_get_monotonic_time () + slice->fill_us;
  load->window_end = load->window_start + slice->window_us;
  if (slice->measured)
    target->window_us += slice->window_us;
  load->sending = TRUE;
  if (!add_timer (load, load->window_end, on_window_end, error))
    return FALSE;
  for (guint i = 0; i < n_calls; i++)
    if (!send_call (&target->calls[i], error))
      return FALSE;
  return TRUE;
}

static void
add_slice (GArray *slices, Target *target, gboolean measured, double fill, double window)
{
  Slice slice = {
    .target = target,
    .measured = measured,
    .fill_us = (gint64) (fill * G_USEC_PER_SEC),
    .window_us = (gint64) (window * G_USEC_PER_SEC),
  };

  g_array_append_val (slices, slice);
}

/* A warm-up per target, then the measured slices in the order A B B A
 * A B ..., which cancels a steady drift in the machine's load as well as
 * its bursts.  With slow calls: one slice whose fill is the warm-up. */
static void
plan_slices (Load *load)
{
  const BenchLoadOptions *options = load->options;
  guint n_targets = options->n_targets;
  guint rounds = MAX (1, (guint) (options->duration / options->slice + 0.5));
  double fill = (double) SLICE_FILL_US / G_USEC_PER_SEC;

  if (options->slow_calls > 0)
    {
      add_slice (load->slices, &load->targets[0], TRUE, options->warmup, options->duration);
      return;
    }
  for (guint t = 0; t < n_targets && options->warmup > 0; t++)
    add_slice (load->slices, &load->targets[t], FALSE, options->warmup, 0);
  for (guint r = 0; r < rounds; r++)
    for (guint t = 0; t < n_targets; t++)
      {
        guint turn = r % 2 == 0 ? t : n_targets - 1 - t;

        add_slice (load->slices, &load->targets[turn], TRUE, fill,
                   options->duration / rounds);
      }
}

/* ---- the slow calls ---------------------------------------------------- */

static void
drain_fifo (SlowCall *slow)
{
  char buffer[65536];

  while (read (slow->reader, buffer, sizeof buffer) > 0)
    ;
}

static int
on_fifo_readable (sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
  drain_fifo (userdata);
  return 0;
}

/* Our reader holds the FIFO open read-write, so it never sees an end of
 * file: the writer is done when its call answers. */
static void
close_fifo (SlowCall *slow)
{
  if (slow->reader < 0)
    return;
  drain_fifo (slow);
  slow->drain = sd_event_source_disable_unref (slow->drain);
  close (slow->reader);
  slow->reader = -1;
}

static int
on_slow_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  SlowCall *slow = userdata;
  Load *load = slow->load;

  slow->replied = TRUE;
  if (load->released_at == 0)
    load->slow_replied_early++;
  if (sd_bus_message_is_method_error (reply, NULL))
    {
      load->slow_errors++;
      if (load->slow_first_error == NULL)
        load->slow_first_error = bench_describe_error (reply);
    }
  close_fifo (slow);
  load->slow_pending--;
  if (load->slice != NULL)
    next_slice_when_drained (load);
  return 0;
}

static gboolean
send_slow_call (Load *load, SlowCall *slow, GError **error)
{
  g_autofree char *path = bench_domain_path (load->options->connect_path, slow->domain);

  if (mkfifo (slow->fifo, 0600) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "mkfifo %s: %s",
                   slow->fifo, g_strerror (errno));
      return FALSE;
    }
  if (!bench_check (sd_bus_call_method_async (load->slow_bus, NULL, BENCH_SERVICE, path,
                                              BENCH_DOMAIN_IFACE, "CoreDump", on_slow_reply,
                                              slow, "suu", slow->fifo, 0, 0),
                    "sending CoreDump", error))
    return FALSE;
  load->slow_pending++;
  return TRUE;
}

/* Opening the FIFO read-write never blocks, and it lets the daemon's (or
 * libvirtd's) blocked open() return. */
static gboolean
release_slow_call (Load *load, SlowCall *slow, GError **error)
{
  if (slow->replied)
    return TRUE;
  slow->reader = open (slow->fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (slow->reader < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "opening %s: %s",
                   slow->fifo, g_strerror (errno));
      return FALSE;
    }
  return bench_check (sd_event_add_io (load->event, &slow->drain, slow->reader, EPOLLIN,
                                       on_fifo_readable, slow),
                      "watching a FIFO", error);
}

static gboolean
release_slow_calls (Load *load, GError **error)
{
  load->released_at = g_get_monotonic_time ();
  for (gint i = 0; i < load->options->slow_calls; i++)
    if (!release_slow_call (load, &load->slow[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
start_slow_calls (Load *load, GError **error)
{
  const BenchLoadOptions *options = load->options;

  load->slow_bus = bench_bus_open (options->targets[0].address, load->event, error);
  if (load->slow_bus == NULL)
    return FALSE;
  load->slow = g_new0 (SlowCall, options->slow_calls);
  for (gint i = 0; i < options->slow_calls; i++)
    {
      SlowCall *slow = &load->slow[i];

      slow->load = load;
      slow->domain = (guint) i + 1;
      slow->reader = -1;
      slow->fifo = g_strdup_printf ("%s/slow-%d-%d", options->fifo_dir, (int) getpid (), i + 1);
      if (!send_slow_call (load, slow, error))
        return FALSE;
    }
  return TRUE;
}

static void
free_slow_calls (Load *load)
{
  for (gint i = 0; load->slow != NULL && i < load->options->slow_calls; i++)
    {
      close_fifo (&load->slow[i]);
      g_unlink (load->slow[i].fifo);
      g_free (load->slow[i].fifo);
    }
  g_clear_pointer (&load->slow, g_free);
  load->slow_bus = sd_bus_flush_close_unref (load->slow_bus);
}

/* ---- set-up and report -------------------------------------------------- */

static gboolean
open_target (Load *load, Target *target, const BenchTarget *spec, GError **error)
{
  const BenchLoadOptions *options = load->options;

  target->load = load;
  target->spec = spec;
  target->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) sd_bus_flush_close_unref);
  target->latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  target->calls = g_new0 (Call, load->n_calls);
  for (gint c = 0; c < options->connections; c++)
    {
      sd_bus *bus = bench_bus_open_as (spec->address, load->event, spec->uid, error);

      if (bus == NULL)
        return FALSE;
      g_ptr_array_add (target->clients, bus);
      for (gint d = 0; d < options->depth; d++)
        {
          Call *call = &target->calls[c * options->depth + d];

          call->target = target;
          call->bus = bus;
        }
    }
  return TRUE;
}

static void
list_domains (Load *load)
{
  for (gint i = load->options->first_domain; i <= load->options->last_domain; i++)
    {
      g_ptr_array_add (load->domain_paths,
                       bench_domain_path (load->options->connect_path, (guint) i));
      g_ptr_array_add (load->domain_names, bench_domain_name ((guint) i));
    }
}

static void
print_target (const Target *target)
{
  double seconds = (double) target->window_us / G_USEC_PER_SEC;
  double cpu_per_call = target->answered > 0 && target->spec->pid > 0
                            ? (double) (target->cpu_at_end - target->cpu_at_start) /
                                  (double) target->answered
                            : 0.0;
  guint samples = target->latencies->len;
  gint64 p50 = bench_percentile (target->latencies, 0.50);
  gint64 p99 = bench_percentile (target->latencies, 0.99);
  g_autofree char *first_error =
      bench_json_string (target->first_error != NULL ? target->first_error : "");
  const BenchLoadOptions *options = target->load->options;

  printf ("{\"other_cpu_us_per_call\": [");
  for (guint i = 0; i < options->n_cpu_pids; i++)
    printf ("%s%.2f", i > 0 ? ", " : "",
            target->answered > 0 ? (double) target->other_cpu_us[i] / (double) target->answered
                                 : 0.0);
  printf ("], \"pid\": %d, \"calls\": %" G_GUINT64_FORMAT ", \"seconds\": %.3f, "
          "\"rate\": %.1f, \"samples\": %u, \"p50_us\": %" G_GINT64_FORMAT ", "
          "\"p99_us\": %" G_GINT64_FORMAT ", \"answered\": %" G_GUINT64_FORMAT ", "
          "\"cpu_us_per_call\": %.2f, \"errors\": %" G_GUINT64_FORMAT ", \"first_error\": %s}",
          target->spec->pid, target->completed, seconds,
          seconds > 0 ? (double) target->completed / seconds : 0.0, samples, p50, p99,
          target->answered, cpu_per_call, target->errors, first_error);
}

static void
print_report (Load *load)
{
  g_autofree char *slow_error =
      bench_json_string (load->slow_first_error != NULL ? load->slow_first_error : "");

  printf ("{\"scenario\": \"%s\", \"targets\": [", load->scenario->name);
  for (guint t = 0; t < load->options->n_targets; t++)
    {
      if (t > 0)
        printf (", ");
      print_target (&load->targets[t]);
    }
  printf ("], \"slow_calls\": %d, \"slow_replied_early\": %u, \"slow_errors\": %u, "
          "\"slow_first_error\": %s, \"flood_running_us\": %" G_GINT64_FORMAT "}\n",
          load->options->slow_calls, load->slow_replied_early, load->slow_errors, slow_error,
          load->flood_running_us);
}

static gboolean
check_options (const BenchLoadOptions *options, GError **error)
{
  if (options->n_targets < 1 || options->connections < 1 || options->depth < 1 ||
      options->duration <= 0 || options->slice <= 0 || options->warmup < 0 ||
      options->first_domain < 1 || options->last_domain < options->first_domain)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "load needs --target, positive --connections, --depth, --duration "
                           "and --slice, and 1 <= --first-domain <= --last-domain");
      return FALSE;
    }
  if (options->slow_calls < 0 || options->slow_calls >= options->first_domain ||
      (options->slow_calls > 0 && (options->fifo_dir == NULL || options->n_targets != 1)))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--slow-calls N needs N < --first-domain, --fifo-dir and one target");
      return FALSE;
    }
  if (options->flood_with < 0 || options->flood_with >= (gint) options->n_targets ||
      options->settle < 0 || (options->flood_pid > 0 && options->slow_calls > 0))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--flood-with names a target (0, 1, ...), --settle is not negative, "
                           "and no --slow-calls with --flood-pid");
      return FALSE;
    }
  return TRUE;
}

static void
clear_target (Target *target)
{
  g_clear_pointer (&target->clients, g_ptr_array_unref);
  g_clear_pointer (&target->calls, g_free);
  g_clear_pointer (&target->latencies, g_array_unref);
  g_clear_pointer (&target->first_error, g_free);
}

static void
load_clear (Load *load)
{
  free_slow_calls (load);
  for (guint t = 0; t < BENCH_MAX_TARGETS; t++)
    clear_target (&load->targets[t]);
  g_clear_pointer (&load->domain_paths, g_ptr_array_unref);
  g_clear_pointer (&load->domain_names, g_ptr_array_unref);
  g_clear_pointer (&load->slices, g_array_unref);
  g_clear_pointer (&load->slow_first_error, g_free);
  g_clear_error (&load->failure);
  load->event = sd_event_unref (load->event);
}

static gboolean
start_run (Load *load, GError **error)
{
  if (load->options->slow_calls > 0)
    return start_slow_calls (load, error) &&
           add_timer (load, g_get_monotonic_time () + SLOW_SETTLE_US, on_settled,
                      error);
  /* The flood was started running. */
  load->flood_running = load->options->flood_pid > 0;
  load->flood_since = g_get_monotonic_time ();
  return start_next_slice (load, error);
}

static gboolean
run_load (Load *load, GError **error)
{
  sigset_t terminate;

  sigemptyset (&terminate);
  sigaddset (&terminate, SIGTERM);
  if (!bench_check (sd_event_new (&load->event), "sd_event_new", error) ||
      !bench_check (sigprocmask (SIG_BLOCK, &terminate, NULL) == 0 ? 0 : -errno,
                    "blocking SIGTERM", error) ||
      !bench_check (sd_event_add_signal (load->event, NULL, SIGTERM, on_terminate, load),
                    "watching SIGTERM", error))
    return FALSE;
  for (guint t = 0; t < load->options->n_targets; t++)
    if (!open_target (load, &load->targets[t], &load->options->targets[t], error))
      return FALSE;
  list_domains (load);
  plan_slices (load);

  if (!start_run (load, error) ||
      !bench_check (sd_event_loop (load->event), "event loop", error))
    return FALSE;
  if (load->failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&load->failure));
      return FALSE;
    }
  print_report (load);
  return TRUE;
}

gboolean
bench_load_run (const BenchLoadOptions *options, GError **error)
{
  Load load = { 0 };
  gboolean ok;

  if (!check_options (options, error))
    return FALSE;
  load.options = options;
  load.scenario = find_scenario (options->scenario, error);
  if (load.scenario == NULL)
    return FALSE;
  load.n_calls = (guint) (options->connections * options->depth);
  load.domain_paths = g_ptr_array_new_with_free_func (g_free);
  load.domain_names = g_ptr_array_new_with_free_func (g_free);
  load.slices = g_array_new (FALSE, FALSE, sizeof (Slice));

  ok = run_load (&load, error);
  load_clear (&load);
  return ok;
}
