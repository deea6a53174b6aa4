#include "bench-tasks.h"

#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "bench-bus.h"
#include "bench-load.h"

/* libvirt's virDomainEventType values the events task waits for. */
#define DOMAIN_EVENT_STARTED 2
#define DOMAIN_EVENT_STOPPED 5

/* ---- populate ------------------------------------------------------------ */

typedef struct {
  const BenchPopulateOptions *options;
  sd_event *event;
  sd_bus *bus;
  gint next;
  guint in_flight;
  GError *failure;
} Populate;

static int on_defined (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);

typedef struct {
  Populate *populate;
  gint index;
} Definition;

static gboolean
define_next (Populate *populate, GError **error)
{
  const BenchPopulateOptions *options = populate->options;
  Definition *definition;
  g_autofree char *xml = NULL;

  if (populate->next > options->last || populate->failure != NULL)
    return TRUE;
  definition = g_new0 (Definition, 1);
  definition->populate = populate;
  definition->index = populate->next++;
  xml = bench_domain_xml (options->type, (guint) definition->index);
  if (!bench_check (sd_bus_call_method_async (populate->bus, NULL, BENCH_SERVICE,
                                              options->connect_path, BENCH_CONNECT_IFACE,
                                              "DomainDefineXML", on_defined, definition, "s",
                                              xml),
                    "sending DomainDefineXML", error))
    {
      g_free (definition);
      return FALSE;
    }
  populate->in_flight++;
  return TRUE;
}

static gboolean
check_defined (Populate *populate, gint index, sd_bus_message *reply, GError **error)
{
  g_autofree char *expected = bench_domain_path (populate->options->connect_path, (guint) index);
  const char *path = NULL;

  if (sd_bus_message_is_method_error (reply, NULL))
    {
      g_autofree char *why = bench_describe_error (reply);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "defining domain %d: %s", index, why);
      return FALSE;
    }
  if (!bench_check (sd_bus_message_read (reply, "o", &path), "reading the domain path", error))
    return FALSE;
  if (!g_str_equal (path, expected))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "domain %d is at %s, the load generator expects %s", index, path, expected);
      return FALSE;
    }
  return TRUE;
}

static int
on_defined (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  g_autofree Definition *definition = userdata;
  Populate *populate = definition->populate;
  GError *error = NULL;

  populate->in_flight--;
  if (!check_defined (populate, definition->index, reply, &error) ||
      !define_next (populate, &error))
    bench_keep_first_error (&populate->failure, error);
  if (populate->in_flight == 0)
    sd_event_exit (populate->event, 0);
  return 0;
}

gboolean
bench_populate (const BenchPopulateOptions *options, GError **error)
{
  Populate populate = { .options = options, .next = options->first };
  g_autoptr(sd_event) event = NULL;
  g_autoptr(sd_bus) bus = NULL;
  gint64 started = g_get_monotonic_time ();

  if (options->first > options->last)
    {
      printf ("{\"defined\": 0, \"seconds\": 0}\n");
      return TRUE;
    }
  if (!bench_check (sd_event_new (&event), "sd_event_new", error))
    return FALSE;
  bus = bench_bus_open (options->address, event, error);
  if (bus == NULL)
    return FALSE;
  populate.event = event;
  populate.bus = bus;
  for (gint i = 0; i < MAX (options->depth, 1); i++)
    if (!define_next (&populate, error))
      return FALSE;
  if (!bench_check (sd_event_loop (event), "event loop", error))
    return FALSE;
  if (populate.failure != NULL)
    {
      g_propagate_error (error, populate.failure);
      return FALSE;
    }
  printf ("{\"defined\": %d, \"seconds\": %.3f}\n", options->last - options->first + 1,
          (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC);
  return TRUE;
}

/* ---- startup ------------------------------------------------------------- */

/* The first call needs the daemon's libvirt connection open, as any real
 * first call does, but costs little once it is: the Connect object's
 * Version property.  A call to a name nobody owns yet fails at once on a
 * bus without service files; any other error (objects not registered
 * yet) is retried too. */
static gboolean
first_call_answers (sd_bus *bus, const char *connect_path, char **last_error)
{
  g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  int result = sd_bus_call_method (bus, BENCH_SERVICE, connect_path,
                                   "org.freedesktop.DBus.Properties", "Get", &error, &reply,
                                   "ss", BENCH_CONNECT_IFACE, "Version");

  if (result >= 0)
    return TRUE;
  g_free (*last_error);
  *last_error = g_strdup_printf ("%s: %s", error.name != NULL ? error.name : "errno",
                                 error.message != NULL ? error.message : g_strerror (-result));
  return FALSE;
}

static gboolean
spawn_daemon (char **command, GPid *pid, GError **error)
{
  return g_spawn_async (NULL, command, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                        NULL, NULL, pid, error);
}

static gboolean
daemon_exited (GPid pid)
{
  int status;

  return pid > 0 && waitpid (pid, &status, WNOHANG) == pid;
}

static gboolean
wait_for_answer (const BenchStartupOptions *options, sd_bus *bus, GPid pid, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (options->timeout * G_USEC_PER_SEC);
  g_autofree char *last_error = NULL;

  while (!first_call_answers (bus, options->connect_path, &last_error))
    {
      if (daemon_exited (pid))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s exited before answering",
                       options->command[0]);
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "no answer from org.libvirt within %.0f s (last: %s)", options->timeout,
                       last_error);
          return FALSE;
        }
      g_usleep (1000);
    }
  return TRUE;
}

static void
stop_daemon (GPid pid)
{
  int status;

  kill (pid, SIGTERM);
  waitpid (pid, &status, 0);
}

gboolean
bench_startup (const BenchStartupOptions *options, GError **error)
{
  g_autoptr(sd_bus) bus = bench_bus_open (options->address, NULL, error);
  GPid pid = 0;
  gint64 started;
  gboolean answered;

  if (bus == NULL)
    return FALSE;
  /* The clock starts before the fork: the daemon's exec and dynamic
   * linking count as start-up. */
  started = g_get_monotonic_time ();
  if (options->command != NULL && !spawn_daemon (options->command, &pid, error))
    return FALSE;
  answered = wait_for_answer (options, bus, pid, error);
  if (answered)
    printf ("{\"ready_ms\": %.2f}\n", (double) (g_get_monotonic_time () - started) / 1000.0);
  if (pid > 0)
    stop_daemon (pid);
  return answered;
}

/* ---- events -------------------------------------------------------------- */

typedef struct {
  char *domain_path;
  gint64 started_at;
  gint64 stopped_at;
  gboolean replied;
  char *reply_error;
} Lifecycle;

static int
on_domain_event (sd_bus_message *message, void *userdata, sd_bus_error *ret_error)
{
  Lifecycle *lifecycle = userdata;
  const char *path = NULL;
  gint32 event = -1;
  gint32 detail = -1;

  if (sd_bus_message_read (message, "oii", &path, &event, &detail) < 0 ||
      !g_str_equal (path, lifecycle->domain_path))
    return 0;
  if (event == DOMAIN_EVENT_STARTED)
    lifecycle->started_at = g_get_monotonic_time ();
  else if (event == DOMAIN_EVENT_STOPPED)
    lifecycle->stopped_at = g_get_monotonic_time ();
  return 0;
}

static int
on_lifecycle_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Lifecycle *lifecycle = userdata;

  lifecycle->replied = TRUE;
  if (sd_bus_message_is_method_error (reply, NULL))
    lifecycle->reply_error = bench_describe_error (reply);
  return 0;
}

/* Sends Create or Destroy and runs the loop until both its reply and the
 * signal (*signal_at set) are in; returns the signal's latency. */
static gboolean
time_transition (sd_event *event, sd_bus *bus, Lifecycle *lifecycle, const char *method,
                 gint64 *signal_at, double timeout, gint64 *latency, GError **error)
{
  gint64 sent_at = g_get_monotonic_time ();
  gint64 deadline = sent_at + (gint64) (timeout * G_USEC_PER_SEC);

  *signal_at = 0;
  lifecycle->replied = FALSE;
  if (!bench_check (sd_bus_call_method_async (bus, NULL, BENCH_SERVICE, lifecycle->domain_path,
                                              BENCH_DOMAIN_IFACE, method, on_lifecycle_reply,
                                              lifecycle, "u", 0),
                    method, error))
    return FALSE;
  while (!lifecycle->replied || (*signal_at == 0 && lifecycle->reply_error == NULL))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: no %s within %.0f s",
                       method, lifecycle->replied ? "DomainEvent" : "reply", timeout);
          return FALSE;
        }
      if (!bench_check (sd_event_run (event, 100 * 1000), "event loop", error))
        return FALSE;
    }
  if (lifecycle->reply_error != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", method, lifecycle->reply_error);
      return FALSE;
    }
  *latency = *signal_at - sent_at;
  return TRUE;
}

/* One daemon's bus, its domain and what was measured of it. */
typedef struct {
  sd_bus *bus;
  Lifecycle lifecycle;
  GArray *create;
  GArray *destroy;
} EventTarget;

static gboolean
run_cycle (const BenchEventsOptions *options, sd_event *event, EventTarget *target,
           GError **error)
{
  Lifecycle *lifecycle = &target->lifecycle;
  gint64 latency;

  if (!time_transition (event, target->bus, lifecycle, "Create", &lifecycle->started_at,
                        options->timeout, &latency, error))
    return FALSE;
  g_array_append_val (target->create, latency);
  if (!time_transition (event, target->bus, lifecycle, "Destroy", &lifecycle->stopped_at,
                        options->timeout, &latency, error))
    return FALSE;
  g_array_append_val (target->destroy, latency);
  return TRUE;
}

static gboolean
open_event_target (const BenchEventsOptions *options, const char *address, sd_event *event,
                   EventTarget *target, GError **error)
{
  g_autofree char *match = g_strdup_printf (
      "type='signal',sender='" BENCH_SERVICE "',path='%s',interface='" BENCH_CONNECT_IFACE
      "',member='DomainEvent'", options->connect_path);

  target->lifecycle.domain_path = bench_domain_path (options->connect_path, (guint) options->domain);
  target->create = g_array_new (FALSE, FALSE, sizeof (gint64));
  target->destroy = g_array_new (FALSE, FALSE, sizeof (gint64));
  target->bus = bench_bus_open (address, event, error);
  return target->bus != NULL &&
         bench_check (sd_bus_add_match (target->bus, NULL, match, on_domain_event,
                                        &target->lifecycle),
                      "subscribing to DomainEvent", error);
}

static void
clear_event_target (EventTarget *target)
{
  target->bus = sd_bus_flush_close_unref (target->bus);
  g_clear_pointer (&target->lifecycle.domain_path, g_free);
  g_clear_pointer (&target->lifecycle.reply_error, g_free);
  g_clear_pointer (&target->create, g_array_unref);
  g_clear_pointer (&target->destroy, g_array_unref);
}

/* Cycle by cycle, the buses take turns in the order A B B A A B ...,
 * so the machine's other load falls on both alike. */
static gboolean
run_cycles (const BenchEventsOptions *options, sd_event *event, EventTarget *targets,
            guint n_targets, GError **error)
{
  for (gint i = 0; i < options->cycles; i++)
    for (guint t = 0; t < n_targets; t++)
      {
        guint turn = i % 2 == 0 ? t : n_targets - 1 - t;

        if (!run_cycle (options, event, &targets[turn], error))
          return FALSE;
      }
  return TRUE;
}

static void
print_events (const BenchEventsOptions *options, EventTarget *targets, guint n_targets)
{
  printf ("{\"cycles\": %d, \"targets\": [", options->cycles);
  for (guint t = 0; t < n_targets; t++)
    printf ("%s{\"create_p50_us\": %" G_GINT64_FORMAT ", \"create_p99_us\": %" G_GINT64_FORMAT
            ", \"destroy_p50_us\": %" G_GINT64_FORMAT "}",
            t > 0 ? ", " : "", bench_percentile (targets[t].create, 0.5),
            bench_percentile (targets[t].create, 0.99), bench_percentile (targets[t].destroy, 0.5));
  printf ("]}\n");
}

gboolean
bench_events (const BenchEventsOptions *options, GError **error)
{
  g_autoptr(sd_event) event = NULL;
  EventTarget targets[2] = { { 0 } };
  guint n_targets = g_strv_length (options->addresses);
  gboolean ok;

  if (n_targets < 1 || n_targets > G_N_ELEMENTS (targets))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "events takes one or two --address");
      return FALSE;
    }
  if (!bench_check (sd_event_new (&event), "sd_event_new", error))
    return FALSE;
  ok = TRUE;
  for (guint t = 0; t < n_targets && ok; t++)
    ok = open_event_target (options, options->addresses[t], event, &targets[t], error);
  ok = ok && run_cycles (options, event, targets, n_targets, error);
  if (ok)
    print_events (options, targets, n_targets);
  for (guint t = 0; t < n_targets; t++)
    clear_event_target (&targets[t]);
  return ok;
}

/* ---- first calls --------------------------------------------------------- */

typedef struct {
  const BenchFirstOptions *options;
  GArray *first;
  GArray *repeated;
  guint64 errors;
  char *first_error;
  /* Objects in the last list answered (list scenarios). */
  gint64 items;
} FirstCalls;

static gint64
count_paths (sd_bus_message *reply)
{
  gint64 count = 0;

  if (sd_bus_message_enter_container (reply, 'a', "o") <= 0)
    return -1;
  while (sd_bus_message_skip (reply, "o") > 0)
    count++;
  return count;
}

/* One call, blocking, timed from sending to its answer. */
static gboolean
timed_call (FirstCalls *calls, sd_bus *bus, guint domain, GArray *latencies, GError **error)
{
  const BenchFirstOptions *options = calls->options;
  g_autoptr(sd_bus_message) message = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  g_auto(sd_bus_error) reply_error = SD_BUS_ERROR_NULL;
  gint64 sent_at, latency;
  int result;

  if (!bench_scenario_new_call (bus, options->scenario, options->connect_path, options->property,
                                domain, &message, error))
    return FALSE;
  sent_at = g_get_monotonic_time ();
  result = sd_bus_call (bus, message, BENCH_REPLY_TIMEOUT_US, &reply_error, &reply);
  latency = g_get_monotonic_time () - sent_at;
  g_array_append_val (latencies, latency);
  if (result < 0)
    {
      calls->errors++;
      if (calls->first_error == NULL)
        calls->first_error = g_strdup_printf (
            "%s: %s", reply_error.name != NULL ? reply_error.name : "errno",
            reply_error.message != NULL ? reply_error.message : g_strerror (-result));
      return TRUE;
    }
  if (g_str_equal (options->scenario, "list"))
    calls->items = count_paths (reply);
  return TRUE;
}

static gboolean
run_sample (FirstCalls *calls, gint sample, GError **error)
{
  const BenchFirstOptions *options = calls->options;
  guint domain = (guint) (options->first_domain + sample);
  g_autoptr(sd_bus) bus = bench_bus_open (options->address, NULL, error);
  const char *unique_name = NULL;

  /* Waits for the bus's answer to Hello: the connection is set up. */
  if (bus == NULL ||
      !bench_check (sd_bus_get_unique_name (bus, &unique_name), "connecting", error) ||
      !timed_call (calls, bus, domain, calls->first, error))
    return FALSE;
  for (gint i = 0; i < options->repeat; i++)
    if (!timed_call (calls, bus, domain, calls->repeated, error))
      return FALSE;
  return TRUE;
}

static void
print_first_calls (FirstCalls *calls)
{
  g_autofree char *first_error =
      bench_json_string (calls->first_error != NULL ? calls->first_error : "");

  printf ("{\"first_us\": [");
  for (guint i = 0; i < calls->first->len; i++)
    printf ("%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", g_array_index (calls->first, gint64, i));
  printf ("], \"first_p50_us\": %" G_GINT64_FORMAT ", \"repeated\": %u, "
          "\"repeat_p50_us\": %" G_GINT64_FORMAT ", \"repeat_p99_us\": %" G_GINT64_FORMAT ", "
          "\"items\": %" G_GINT64_FORMAT ", \"errors\": %" G_GUINT64_FORMAT
          ", \"first_error\": %s}\n",
          bench_percentile (calls->first, 0.5), calls->repeated->len,
          bench_percentile (calls->repeated, 0.5), bench_percentile (calls->repeated, 0.99),
          calls->items, calls->errors, first_error);
}

gboolean
bench_first_calls (const BenchFirstOptions *options, GError **error)
{
  FirstCalls calls = {
    .options = options,
    .first = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .repeated = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .items = -1,
  };
  gboolean ok = TRUE;

  for (gint sample = 0; sample < options->samples && ok; sample++)
    ok = run_sample (&calls, sample, error);
  if (ok)
    print_first_calls (&calls);
  g_array_unref (calls.first);
  g_array_unref (calls.repeated);
  g_free (calls.first_error);
  return ok;
}
