#include "daemon.h"

#include <glib-unix.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <unistd.h>

#include "bus.h"
#include "clients.h"
#include "conn.h"
#include "events.h"
#include "idle.h"
#include "introspection.h"
#include "notify.h"
#include "streams.h"
#include "workers.h"

#define BUS_NAME "org.libvirt"

/* While stopping, how often to look whether the last calls have been
 * answered (bus.c counts them but does not say when the count changes). */
#define DRAIN_POLL_MS 10

typedef struct {
  GMainLoop *loop;
  GDBusConnection *bus;
  GPtrArray *conns;          /* of VbConn */
  const VbOptions *options;
  VbClients *clients;
  VbIdle *idle;              /* NULL: no idle exit */
  gboolean stopping;         /* a signal or the idle timer asked to stop */
  gboolean bus_closed;
  int exit_status;
} VbDaemon;

/* libvirt's default handler prints every error to stderr; errors reach
 * clients as D-Bus errors instead. */
static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static char *
describe_service (VbDaemon *daemon)
{
  return g_strdup_printf ("Serving %u libvirt connection(s) to %u bus client(s)",
                          daemon->conns->len, vb_clients_count (daemon->clients));
}

static void
request_stop (VbDaemon *daemon)
{
  daemon->stopping = TRUE;
  g_main_loop_quit (daemon->loop);
}

static gboolean
on_quit_signal (gpointer data)
{
  VbDaemon *daemon = data;

  /* A second signal while calls drain changes nothing: the drain is
   * bounded anyway. */
  if (!daemon->stopping)
    {
      g_message ("signal received, stopping");
      request_stop (daemon);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_idle (gpointer data)
{
  VbDaemon *daemon = data;

  g_message ("idle for %u s, exiting", daemon->options->idle_timeout);
  request_stop (daemon);
}

static void
on_clients_changed (guint count, gpointer data)
{
  VbDaemon *daemon = data;

  g_autofree char *status = describe_service (daemon);

  if (daemon->idle != NULL)
    vb_idle_set_clients (daemon->idle, count);
  vb_notify_status (status);
}

static void
on_bus_closed (GDBusConnection *bus, gboolean remote_peer_vanished,
               GError *error, gpointer data)
{
  VbDaemon *daemon = data;

  g_warning ("bus connection closed%s%s", error != NULL ? ": " : "",
             error != NULL ? error->message : "");
  daemon->bus_closed = TRUE;
  daemon->exit_status = 1;
  g_main_loop_quit (daemon->loop);
}

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer data)
{
  VbDaemon *daemon = data;
  g_autofree char *status = describe_service (daemon);

  g_message ("serving %s with %u connection(s)", name, daemon->conns->len);
  /* Opened now, so that libvirt events reach subscribers before anyone
   * calls a method. */
  for (guint i = 0; i < daemon->conns->len; i++)
    vb_conn_open_in_background (g_ptr_array_index (daemon->conns, i));
  if (daemon->options->idle_timeout > 0 && daemon->idle == NULL)
    {
      daemon->idle = vb_idle_new (daemon->options->idle_timeout, on_idle, daemon);
      /* A caller may have reached our unique name before the name was ours. */
      vb_idle_set_clients (daemon->idle, vb_clients_count (daemon->clients));
    }
  vb_notify_ready (status);
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer data)
{
  VbDaemon *daemon = data;

  /* A closed connection (@bus is then NULL) loses the name too;
   * on_bus_closed() says why. */
  if (bus == NULL || g_dbus_connection_is_closed (bus))
    return;
  g_printerr ("virtbusd: cannot own the name %s on the bus (is another "
              "instance running, or does the bus policy forbid it?)\n", name);
  daemon->exit_status = 1;
  g_main_loop_quit (daemon->loop);
}

static GDBusConnection *
connect_bus (GBusType bus_type)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (bus_type, NULL, &error);
  GDBusConnection *bus = NULL;

  if (address != NULL)
    bus = g_dbus_connection_new_for_address_sync (
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &error);
  if (bus == NULL)
    g_printerr ("virtbusd: cannot connect to the %s bus: %s\n",
                bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session",
                error->message);
  return bus;
}

static GPtrArray *
create_connections (GDBusConnection *bus, GPtrArray *specs)
{
  GPtrArray *conns = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_conn_free);

  for (guint i = 0; i < specs->len; i++)
    {
      VbConnSpec *spec = g_ptr_array_index (specs, i);

      g_ptr_array_add (conns, vb_conn_new (bus, spec->name, spec->uri));
    }
  return conns;
}

/* ---- stopping ---------------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  gint64 deadline;
  guint poll_id;
} Drain;

static gboolean
on_drain_poll (gpointer data)
{
  Drain *drain = data;

  if (vb_bus_calls_in_flight () == 0 || g_get_monotonic_time () >= drain->deadline)
    {
      drain->poll_id = 0;
      g_main_loop_quit (drain->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Serves on until every call received has been answered, or the
 * shutdown timeout has passed.  Calls the bus routed to us before the
 * name was released are still arriving on the main loop: they are
 * counted as they are dispatched, so the first look comes after them. */
static gboolean
drain_calls (VbDaemon *daemon)
{
  Drain drain = {
    .loop = daemon->loop,
    .deadline = g_get_monotonic_time ()
                + (gint64) daemon->options->shutdown_timeout * G_USEC_PER_SEC,
  };

  drain.poll_id = g_timeout_add (DRAIN_POLL_MS, on_drain_poll, &drain);
  g_main_loop_run (daemon->loop);
  /* The bus may have closed meanwhile: the poll must not outlive @drain. */
  g_clear_handle_id (&drain.poll_id, g_source_remove);
  return vb_bus_calls_in_flight () == 0;
}

/* A call stuck in libvirt would hold the worker pools' shutdown (and the
 * service manager's stop job) for ever: past the bound, callers get an
 * error at once from the closed connection, and the process leaves its
 * workers behind. */
static void G_GNUC_NORETURN
abandon_calls (VbDaemon *daemon)
{
  g_warning ("%u call(s) still running after %u s; exiting without them",
             vb_bus_calls_in_flight (), daemon->options->shutdown_timeout);
  g_dbus_connection_flush_sync (daemon->bus, NULL, NULL);
  g_dbus_connection_close_sync (daemon->bus, NULL, NULL);
  _exit (0);
}

/* Stops taking calls by releasing the name first: from then on the bus
 * queues new callers for the next instance (bus activation) instead of
 * sending them here, and no call is refused.  What was already routed
 * here is served. */
static void
stop_serving (VbDaemon *daemon, guint owner_id)
{
  g_autofree char *status = g_strdup_printf ("Stopping: %u call(s) in flight",
                                             vb_bus_calls_in_flight ());
  guint received_before = vb_bus_calls_received ();
  guint late_calls;

  vb_notify_stopping (status);
  g_clear_pointer (&daemon->idle, vb_idle_free);
  /* Synchronous: the reply comes after every call the bus sent us. */
  g_bus_unown_name (owner_id);
  if (!daemon->stopping || daemon->bus_closed)
    return;
  if (!drain_calls (daemon))
    abandon_calls (daemon);

  /* Callers that came as we left, answered rather than refused. */
  late_calls = vb_bus_calls_received () - received_before;
  if (late_calls > 0)
    g_message ("answered %u call(s) that arrived while stopping",
               late_calls);
}

static int
serve (VbDaemon *daemon)
{
  g_autoptr(GError) error = NULL;
  guint owner_id, term_source, int_source, watchdog_source;
  gulong closed_handler;

  /* Before the export: GDBus runs message filters in the order they were
   * added, and the bus layer's filter takes calls away from the later ones.
   * The client tracker must see every caller first. */
  daemon->clients = vb_clients_new (daemon->bus, on_clients_changed, daemon);
  if (!vb_bus_export (daemon->bus, daemon->conns,
                      daemon->options->bus_type == G_BUS_TYPE_SYSTEM
                          ? &daemon->options->authz
                          : NULL,
                      &error))
    {
      g_printerr ("virtbusd: cannot export objects: %s\n", error->message);
      g_clear_pointer (&daemon->clients, vb_clients_free);
      return 1;
    }

  closed_handler = g_signal_connect (daemon->bus, "closed",
                                     G_CALLBACK (on_bus_closed), daemon);
  term_source = g_unix_signal_add (SIGTERM, on_quit_signal, daemon);
  int_source = g_unix_signal_add (SIGINT, on_quit_signal, daemon);
  watchdog_source = vb_notify_watchdog_start ();
  owner_id = g_bus_own_name_on_connection (daemon->bus, BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_NONE,
                                           on_name_acquired, on_name_lost,
                                           daemon, NULL);

  g_main_loop_run (daemon->loop);
  stop_serving (daemon, owner_id);

  g_clear_handle_id (&watchdog_source, g_source_remove);
  g_clear_pointer (&daemon->clients, vb_clients_free);
  g_source_remove (term_source);
  g_source_remove (int_source);
  g_signal_handler_disconnect (daemon->bus, closed_handler);
  vb_bus_unexport_all (daemon->bus);
  return daemon->exit_status;
}

int
vb_daemon_run (const VbOptions *options)
{
  g_autoptr(GError) error = NULL;
  VbDaemon daemon = { .options = options };

  virSetErrorFunc (NULL, ignore_libvirt_error);
  /* libxml2 must be initialized once before threads use it (libvirt parses
   * XML on our workers); a first use from two threads at once races. */
  xmlInitParser ();
  if (virInitialize () < 0)
    {
      g_printerr ("virtbusd: cannot initialize libvirt\n");
      return 1;
    }
  if (!vb_introspection_load (&error))
    {
      g_printerr ("virtbusd: broken interface data: %s\n", error->message);
      return 1;
    }

  daemon.bus = connect_bus (options->bus_type);
  if (daemon.bus == NULL)
    {
      vb_introspection_unload ();
      return 1;
    }

  vb_events_init ();
  vb_workers_init (options->threads);
  daemon.loop = g_main_loop_new (NULL, FALSE);
  daemon.conns = create_connections (daemon.bus, options->connections);

  daemon.exit_status = serve (&daemon);

  /* The main loop has stopped: libvirt's events (streams, keepalives of
   * the calls still running) need a loop of their own while they drain. */
  vb_events_run_in_background ();
  /* Calls in flight finish (and answer) before their connections go;
   * streams first, since a worker may be waiting on one. */
  vb_streams_shutdown ();
  vb_workers_shutdown ();
  g_dbus_connection_flush_sync (daemon.bus, NULL, NULL);
  g_ptr_array_unref (daemon.conns);
  vb_events_shutdown ();
  g_dbus_connection_close_sync (daemon.bus, NULL, NULL);
  vb_bus_release ();
  g_object_unref (daemon.bus);
  g_main_loop_unref (daemon.loop);
  vb_introspection_unload ();
  return daemon.exit_status;
}
