/* vb-libvirt-floor-remote: a plain libvirt client making the libvirt calls
 * that a Connect.ListDomains(0) answer needs (virConnectListAllDomains, each
 * domain's UUID, free) on a real libvirtd, in as many threads as virtbusd
 * has workers per pool, each thread with a libvirt connection of its own.
 * No daemon listing domains for its callers can beat this by much: it is
 * the floor issue 16's ListDomains target is judged against
 * (docs/benchmark.md).
 *
 * So that it is measured in the same vb-bench run as the daemons and in
 * slices taking turns with theirs, it serves Connect.ListDomains on a bus
 * of its own, as a third target of that run: the calls vb-bench sends at
 * the start of the floor's slice open a gate, the threads list domains
 * for one fill and one window (the lengths of vb-bench's), then finish the
 * lists they began, and only then are vb-bench's calls answered (with an
 * empty list), which ends the slice.  Lists ending inside the windows,
 * divided by the windows' length, make calls/s, as vb-bench counts a
 * daemon's answers.  Slices that start within --warmup seconds of the
 * first call are not measured (vb-bench's warm-up slice).  On SIGTERM it
 * prints its figures as one JSON object.
 *
 * With --loops N it makes N lists on one connection and exits, with no
 * bus at all: run-benchmark counts the RPCs libvirtd receives meanwhile. */
#include <gio/gio.h>
#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#define CONNECT_INTERFACE_XML \
  "<node><interface name='org.libvirt.Connect'>" \
  "<method name='ListDomains'><arg type='u' direction='in'/>" \
  "<arg type='ao' direction='out'/></method>" \
  "</interface></node>"

typedef struct {
  GMutex lock;
  GCond changed;
  /* The gate: the threads list domains while it is open. */
  gboolean open;
  gboolean quitting;
  /* Threads in the middle of a list. */
  guint busy;
  /* The gate closed, the slice waits for the lists begun to end. */
  gboolean draining;

  double fill;
  double window;
  double warmup;
  gint64 first_call_at;
  gboolean measured;
  gint64 window_start;
  gint64 window_end;

  /* Figures over the measured slices. */
  gint64 measured_us;
  guint slices;
  guint64 completed;
  guint64 lists;
  guint64 errors;
  int domains;
  GArray *latencies;

  GPtrArray *pending;
  GMainLoop *loop;
} FloorRun;

typedef struct {
  FloorRun *run;
  virConnectPtr conn;
} Worker;

static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

/* ListDomains(0): every domain, with the UUID its path needs; the number
 * of domains, or -1. */
static int
list_domains (virConnectPtr conn)
{
  virDomainPtr *domains = NULL;
  int n = virConnectListAllDomains (conn, &domains, 0);

  for (int i = 0; i < n; i++)
    {
      unsigned char uuid[VIR_UUID_BUFLEN];

      (void) virDomainGetUUID (domains[i], uuid);
      virDomainFree (domains[i]);
    }
  free (domains);
  return n;
}

/* --event-loop: libvirt's default event implementation, which runs on
 * GLib's default main context (this program's main loop), and keepalive
 * on every connection, as a daemon has them. */
static gboolean with_event_loop;

static virConnectPtr
open_connection (const char *uri)
{
  virConnectPtr conn = virConnectOpen (uri);

  if (conn == NULL)
    g_error ("cannot open %s: %s", uri, virGetLastErrorMessage ());
  if (with_event_loop && virConnectSetKeepAlive (conn, 5, 3) < 0)
    g_error ("cannot set keepalive: %s", virGetLastErrorMessage ());
  return conn;
}

/* ---- the slices --------------------------------------------------------- */

static void
answer_pending (FloorRun *run)
{
  for (guint i = 0; i < run->pending->len; i++)
    {
      GDBusMethodInvocation *invocation = g_ptr_array_index (run->pending, i);
      GVariant *none = g_variant_new_array (G_VARIANT_TYPE_OBJECT_PATH, NULL, 0);

      g_dbus_method_invocation_return_value (invocation, g_variant_new_tuple (&none, 1));
    }
  g_ptr_array_set_size (run->pending, 0);
}

/* On the main loop, once the gate is closed and no list is running. */
static gboolean
end_slice (gpointer data)
{
  FloorRun *run = data;

  g_mutex_lock (&run->lock);
  run->draining = FALSE;
  g_mutex_unlock (&run->lock);
  answer_pending (run);
  return G_SOURCE_REMOVE;
}

static gboolean
on_window_end (gpointer data)
{
  FloorRun *run = data;
  gboolean drained;

  g_mutex_lock (&run->lock);
  run->open = FALSE;
  run->draining = TRUE;
  drained = run->busy == 0;
  g_mutex_unlock (&run->lock);
  if (drained)
    end_slice (run);
  return G_SOURCE_REMOVE;
}

/* The first call of vb-bench's slice opens the gate; the others wait
 * with it for the slice's end. */
static void
on_method_call (GDBusConnection *connection, const char *sender, const char *path,
                const char *interface, const char *method, GVariant *parameters,
                GDBusMethodInvocation *invocation, gpointer data)
{
  FloorRun *run = data;
  gint64 now = g_get_monotonic_time ();

  g_ptr_array_add (run->pending, invocation);
  g_mutex_lock (&run->lock);
  if (run->open || run->draining)
    {
      g_mutex_unlock (&run->lock);
      return;
    }
  if (run->first_call_at == 0)
    run->first_call_at = now;
  run->measured = now - run->first_call_at >= (gint64) (run->warmup * G_USEC_PER_SEC);
  run->window_start = now + (gint64) (run->fill * G_USEC_PER_SEC);
  run->window_end = run->window_start + (gint64) (run->window * G_USEC_PER_SEC);
  if (run->measured)
    {
      run->measured_us += run->window_end - run->window_start;
      run->slices++;
    }
  run->open = TRUE;
  g_cond_broadcast (&run->changed);
  g_mutex_unlock (&run->lock);
  g_timeout_add_full (G_PRIORITY_HIGH, (guint) ((run->fill + run->window) * 1000 + 0.5),
                      on_window_end, run, NULL);
}

/* As vb-bench counts a daemon's calls: the lists that end inside the
 * window count for calls/s, every list running during it for latency. */
static void
count_list (FloorRun *run, gint64 started, gint64 ended, int n)
{
  run->lists++;
  if (n < 0)
    {
      run->errors++;
      return;
    }
  run->domains = n;
  if (!run->measured)
    return;
  if (ended >= run->window_start && started < run->window_end)
    {
      gint64 latency = ended - started;

      g_array_append_val (run->latencies, latency);
    }
  if (ended >= run->window_start && ended < run->window_end)
    run->completed++;
}

static gpointer
run_worker (gpointer data)
{
  Worker *worker = data;
  FloorRun *run = worker->run;

  g_mutex_lock (&run->lock);
  for (;;)
    {
      gint64 started, ended;
      int n;

      while (!run->open && !run->quitting)
        g_cond_wait (&run->changed, &run->lock);
      if (run->quitting)
        break;
      run->busy++;
      g_mutex_unlock (&run->lock);

      started = g_get_monotonic_time ();
      n = list_domains (worker->conn);
      ended = g_get_monotonic_time ();

      g_mutex_lock (&run->lock);
      count_list (run, started, ended, n);
      run->busy--;
      if (run->busy == 0 && run->draining && !run->open)
        g_idle_add_full (G_PRIORITY_HIGH, end_slice, run, NULL);
    }
  g_mutex_unlock (&run->lock);
  return NULL;
}

/* ---- set-up and report -------------------------------------------------- */

static gboolean
on_terminate (gpointer data)
{
  FloorRun *run = data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The nearest rank, as vb-bench takes it; @values sorted. */
static gint64
percentile (GArray *values, double fraction)
{
  guint rank;

  if (values->len == 0)
    return 0;
  rank = CLAMP ((guint) (fraction * values->len + 0.999999), 1, values->len);
  return g_array_index (values, gint64, rank - 1);
}

static void
print_report (FloorRun *run, int threads)
{
  double seconds = (double) run->measured_us / G_USEC_PER_SEC;

  g_array_sort (run->latencies, compare_gint64);
  printf ("{\"threads\": %d, \"slices\": %u, \"seconds\": %.3f, \"calls\": %" G_GUINT64_FORMAT
          ", \"rate\": %.1f, \"p50_us\": %" G_GINT64_FORMAT ", \"p99_us\": %" G_GINT64_FORMAT
          ", \"lists\": %" G_GUINT64_FORMAT ", \"errors\": %" G_GUINT64_FORMAT
          ", \"domains\": %d}\n",
          threads, run->slices, seconds, run->completed,
          seconds > 0 ? (double) run->completed / seconds : 0.0,
          percentile (run->latencies, 0.50), percentile (run->latencies, 0.99),
          run->lists, run->errors, run->domains);
  fflush (stdout);
}

/* Serves Connect.ListDomains at @connect_path as org.libvirt on the bus
 * at @address. */
static GDBusConnection *
serve (FloorRun *run, const char *address, const char *connect_path)
{
  static const GDBusInterfaceVTable vtable = { .method_call = on_method_call };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (CONNECT_INTERFACE_XML, &error);
  g_autoptr(GVariant) reply = NULL;
  GDBusConnection *bus;

  g_assert_no_error (error);
  bus = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  if (bus == NULL)
    g_error ("cannot connect to %s: %s", address, error->message);
  if (g_dbus_connection_register_object (bus, connect_path, node->interfaces[0], &vtable,
                                         run, NULL, &error) == 0)
    g_error ("cannot serve %s: %s", connect_path, error->message);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.libvirt", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  if (reply == NULL)
    g_error ("cannot own org.libvirt: %s", error->message);
  return bus;
}

int
main (int argc, char **argv)
{
  g_autofree char *uri = g_strdup ("qemu:///system");
  g_autofree char *address = NULL;
  g_autofree char *connect_path = g_strdup ("/org/libvirt/QEMU");
  int threads = 4, loops = 0;
  FloorRun run = { .fill = 0.01, .window = 0.05, .warmup = 0.2 };
  const GOptionEntry entries[] = {
    { "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (qemu:///system)", "URI" },
    { "event-loop", 0, 0, G_OPTION_ARG_NONE, &with_event_loop,
      "libvirt's default event loop on the main loop and keepalive, as a daemon has", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Threads, each with a connection of its own (4)", "N" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
      "The bus on which to serve vb-bench's calls", "ADDRESS" },
    { "connect-path", 0, 0, G_OPTION_ARG_STRING, &connect_path,
      "The connection object served (/org/libvirt/QEMU)", "PATH" },
    { "fill", 0, 0, G_OPTION_ARG_DOUBLE, &run.fill,
      "Seconds per slice before the window (0.01)", "S" },
    { "window", 0, 0, G_OPTION_ARG_DOUBLE, &run.window, "Seconds measured per slice (0.05)",
      "S" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &run.warmup,
      "Seconds after the first call whose slices are not measured (0.2)", "S" },
    { "loops", 0, 0, G_OPTION_ARG_INT, &loops,
      "Make N lists on one connection, print, exit (no bus)", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
      g_option_context_new ("- a plain libvirt client's ListDomains, the benchmark's floor");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autofree Worker *workers = NULL;
  g_autofree GThread **running = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "vb-libvirt-floor-remote: %s\n", error->message);
      return 2;
    }
  if (virInitialize () < 0)
    g_error ("cannot initialize libvirt");
  virSetErrorFunc (NULL, ignore_libvirt_error);
  if (with_event_loop && virEventRegisterDefaultImpl () < 0)
    g_error ("cannot register libvirt's event loop: %s", virGetLastErrorMessage ());

  if (loops > 0)
    {
      virConnectPtr conn = open_connection (uri);
      int n = 0;

      for (int i = 0; i < loops; i++)
        n = list_domains (conn);
      printf ("{\"lists\": %d, \"domains\": %d}\n", loops, n);
      virConnectClose (conn);
      return 0;
    }
  if (address == NULL || threads < 1 || run.fill < 0 || run.window <= 0 ||
      run.warmup < 0)
    {
      fprintf (stderr, "vb-libvirt-floor-remote: needs --address (or --loops), --threads >= 1, "
                       "--window > 0, and neither --fill nor --warmup negative\n");
      return 2;
    }

  g_mutex_init (&run.lock);
  g_cond_init (&run.changed);
  run.latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  run.pending = g_ptr_array_new ();
  run.loop = g_main_loop_new (NULL, FALSE);
  workers = g_new0 (Worker, threads);
  running = g_new0 (GThread *, threads);
  /* Every connection open before the first slice. */
  for (int i = 0; i < threads; i++)
    {
      workers[i].run = &run;
      workers[i].conn = open_connection (uri);
    }
  for (int i = 0; i < threads; i++)
    running[i] = g_thread_new ("floor", run_worker, &workers[i]);
  bus = serve (&run, address, connect_path);
  g_unix_signal_add (SIGTERM, on_terminate, &run);
  printf ("{\"ready\": true}\n");
  fflush (stdout);

  g_main_loop_run (run.loop);

  g_mutex_lock (&run.lock);
  run.quitting = TRUE;
  g_cond_broadcast (&run.changed);
  g_mutex_unlock (&run.lock);
  for (int i = 0; i < threads; i++)
    {
      g_thread_join (running[i]);
      virConnectClose (workers[i].conn);
    }
  print_report (&run, threads);
  answer_pending (&run);
  g_dbus_connection_flush_sync (bus, NULL, NULL);
  g_ptr_array_unref (run.pending);
  g_array_unref (run.latencies);
  g_main_loop_unref (run.loop);
  g_cond_clear (&run.changed);
  g_mutex_clear (&run.lock);
  return 0;
}
