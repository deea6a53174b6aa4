#include "bench-soak.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "bench-bus.h"
#include "bench-load.h"

/* The mix: each client's calls go round these, and round the domains and
 * the properties; all of them valid, on objects that exist, so that any
 * error is the daemon's. */
static const char *const soak_scenarios[] = { "get", "getall", "xml", "lookup", "list" };
static const char *const soak_properties[] = { "Active", "Name", "UUID", "Persistent",
                                               "Autostart" };

typedef struct Soak Soak;

typedef struct {
  Soak *soak;
  sd_bus *bus;
  guint sent;
  guint in_flight;
} SoakClient;

/* One of a client's slots: a call in flight, sent again when answered
 * until the client has made all its calls. */
typedef struct {
  SoakClient *client;
  gint64 sent_at;
} SoakCall;

struct Soak {
  const BenchSoakOptions *options;
  sd_event *event;
  GPtrArray *clients;
  SoakCall *calls;
  guint next_call;
  guint clients_running;
  guint64 answered;
  guint64 errors;
  char *first_error;
  GArray *latencies;
  /* (microseconds since the start, KiB) pairs */
  GArray *rss_at;
  GArray *rss_kib;
  gint64 started;
  gint64 ended;
  GError *failure;
};

static void
soak_fail (Soak *soak, GError *error)
{
  bench_keep_first_error (&soak->failure, error);
  sd_event_exit (soak->event, 1);
}

static gboolean
read_rss_kib (gint pid, gint64 *kib, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  line = strstr (text, "\nVmRSS:");
  if (line == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no VmRSS", path);
      return FALSE;
    }
  *kib = g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10);
  return TRUE;
}

static gboolean
sample_rss (Soak *soak, GError **error)
{
  gint64 at = g_get_monotonic_time () - soak->started;
  gint64 kib;

  if (!read_rss_kib (soak->options->pid, &kib, error))
    return FALSE;
  g_array_append_val (soak->rss_at, at);
  g_array_append_val (soak->rss_kib, kib);
  return TRUE;
}

static int
on_sample_time (sd_event_source *source, uint64_t usec, void *userdata)
{
  Soak *soak = userdata;
  GError *error = NULL;
  uint64_t interval = (uint64_t) (soak->options->sample_interval * G_USEC_PER_SEC);

  if (!sample_rss (soak, &error))
    {
      soak_fail (soak, error);
      return 0;
    }
  if (!bench_check (sd_event_source_set_time (source, usec + interval), "re-arming the sampler",
                    &error) ||
      !bench_check (sd_event_source_set_enabled (source, SD_EVENT_ONESHOT),
                    "re-arming the sampler", &error))
    soak_fail (soak, error);
  return 0;
}

static int on_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);

static gboolean
send_call (SoakCall *call, GError **error)
{
  Soak *soak = call->client->soak;
  const BenchSoakOptions *options = soak->options;
  guint n = soak->next_call++;
  guint domains = (guint) (options->last_domain - options->first_domain + 1);
  const char *scenario = soak_scenarios[n % G_N_ELEMENTS (soak_scenarios)];
  /* Domains and properties move on once per round of the scenarios, so
   * each scenario meets every domain and property in turn. */
  guint turn = n / G_N_ELEMENTS (soak_scenarios);
  guint domain = (guint) options->first_domain + turn % domains;
  const char *property = soak_properties[turn % G_N_ELEMENTS (soak_properties)];
  g_autoptr(sd_bus_message) message = NULL;

  if (!bench_scenario_new_call (call->client->bus, scenario, options->connect_path, property,
                                domain, &message, error))
    return FALSE;
  call->sent_at = g_get_monotonic_time ();
  if (!bench_check (sd_bus_call_async (call->client->bus, NULL, message, on_reply, call,
                                       BENCH_REPLY_TIMEOUT_US),
                    "sending a call", error))
    return FALSE;
  call->client->sent++;
  call->client->in_flight++;
  return TRUE;
}

static int
on_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  SoakCall *call = userdata;
  SoakClient *client = call->client;
  Soak *soak = client->soak;
  gint64 latency = g_get_monotonic_time () - call->sent_at;
  GError *error = NULL;

  client->in_flight--;
  soak->answered++;
  g_array_append_val (soak->latencies, latency);
  if (sd_bus_message_is_method_error (reply, NULL))
    {
      soak->errors++;
      if (soak->first_error == NULL)
        soak->first_error = bench_describe_error (reply);
    }
  if (client->sent < (guint) soak->options->calls)
    {
      if (!send_call (call, &error))
        soak_fail (soak, error);
      return 0;
    }
  if (client->in_flight == 0 && --soak->clients_running == 0)
    {
      soak->ended = g_get_monotonic_time ();
      sd_event_exit (soak->event, 0);
    }
  return 0;
}

static void
client_free (gpointer data)
{
  SoakClient *client = data;

  g_clear_pointer (&client->bus, sd_bus_flush_close_unref);
  g_free (client);
}

/* Every client connected (as its user) before the first call goes. */
static gboolean
connect_clients (Soak *soak, GError **error)
{
  const BenchSoakOptions *options = soak->options;

  for (guint g = 0; g < options->n_groups; g++)
    for (gint i = 0; i < options->groups[g].clients; i++)
      {
        SoakClient *client = g_new0 (SoakClient, 1);

        client->soak = soak;
        g_ptr_array_add (soak->clients, client);
        client->bus = bench_bus_open_as (options->address, soak->event, options->groups[g].uid,
                                         error);
        if (client->bus == NULL)
          return FALSE;
      }
  return TRUE;
}

static gboolean
start_calls (Soak *soak, GError **error)
{
  const BenchSoakOptions *options = soak->options;
  guint depth = (guint) MIN (options->depth, options->calls);

  soak->calls = g_new0 (SoakCall, soak->clients->len * depth);
  soak->clients_running = soak->clients->len;
  soak->started = g_get_monotonic_time ();
  if (!sample_rss (soak, error))
    return FALSE;
  for (guint c = 0; c < soak->clients->len; c++)
    for (guint d = 0; d < depth; d++)
      {
        SoakCall *call = &soak->calls[c * depth + d];

        call->client = g_ptr_array_index (soak->clients, c);
        if (!send_call (call, error))
          return FALSE;
      }
  return bench_check (sd_event_add_time (soak->event, NULL, CLOCK_MONOTONIC,
                                         (uint64_t) (soak->started +
                                                     (gint64) (options->sample_interval *
                                                               G_USEC_PER_SEC)),
                                         1000, on_sample_time, soak),
                      "adding the sampler", error);
}

static void
print_soak (Soak *soak, gint64 cpu_us)
{
  double seconds = (soak->ended - soak->started) / (double) G_USEC_PER_SEC;
  g_autofree char *first_error =
      bench_json_string (soak->first_error != NULL ? soak->first_error : "");

  printf ("{\"clients\": %u, \"answered\": %" G_GUINT64_FORMAT ", \"errors\": %" G_GUINT64_FORMAT
          ", \"first_error\": %s, \"seconds\": %.3f, \"calls_per_s\": %.1f, "
          "\"p50_us\": %" G_GINT64_FORMAT ", \"p99_us\": %" G_GINT64_FORMAT
          ", \"cpu_us_per_call\": %.1f, \"rss_at_us\": [",
          soak->clients->len, soak->answered, soak->errors, first_error, seconds,
          soak->answered / seconds, bench_percentile (soak->latencies, 0.5),
          bench_percentile (soak->latencies, 0.99),
          soak->answered > 0 ? cpu_us / (double) soak->answered : 0.0);
  for (guint i = 0; i < soak->rss_at->len; i++)
    printf ("%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", g_array_index (soak->rss_at, gint64, i));
  printf ("], \"rss_kib\": [");
  for (guint i = 0; i < soak->rss_kib->len; i++)
    printf ("%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", g_array_index (soak->rss_kib, gint64, i));
  printf ("]}\n");
}

gboolean
bench_soak_run (const BenchSoakOptions *options, GError **error)
{
  Soak soak = {
    .options = options,
    .clients = g_ptr_array_new_with_free_func (client_free),
    .latencies = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .rss_at = g_array_new (FALSE, FALSE, sizeof (gint64)),
    .rss_kib = g_array_new (FALSE, FALSE, sizeof (gint64)),
  };
  gint64 cpu_start = 0, cpu_end = 0;
  gboolean ok;

  ok = bench_check (sd_event_new (&soak.event), "sd_event_new", error) &&
       connect_clients (&soak, error) &&
       bench_process_cpu_us (options->pid, &cpu_start, error) &&
       start_calls (&soak, error);
  if (ok && sd_event_loop (soak.event) != 0 && soak.failure == NULL)
    g_set_error_literal (&soak.failure, G_IO_ERROR, G_IO_ERROR_FAILED, "event loop failed");
  if (ok && soak.failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&soak.failure));
      ok = FALSE;
    }
  /* The memory once the last answer is in. */
  ok = ok && sample_rss (&soak, error) &&
       bench_process_cpu_us (options->pid, &cpu_end, error);
  if (ok)
    print_soak (&soak, cpu_end - cpu_start);
  g_ptr_array_unref (soak.clients);
  g_free (soak.calls);
  g_array_unref (soak.latencies);
  g_array_unref (soak.rss_at);
  g_array_unref (soak.rss_kib);
  g_free (soak.first_error);
  g_clear_error (&soak.failure);
  g_clear_pointer (&soak.event, sd_event_unref);
  return ok;
}
