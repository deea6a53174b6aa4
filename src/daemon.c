#include "daemon.h"

#include <glib-unix.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>

#include "bus.h"
#include "conn.h"
#include "events.h"
#include "introspection.h"
#include "streams.h"
#include "workers.h"

#define BUS_NAME "org.libvirt"

typedef struct {
  GMainLoop *loop;
  GDBusConnection *bus;
  GPtrArray *conns;          /* of VbConn */
  int exit_status;
} VbDaemon;

/* libvirt's default handler prints every error to stderr; errors reach
 * clients as D-Bus errors instead. */
static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static gboolean
on_quit_signal (gpointer data)
{
  VbDaemon *daemon = data;

  g_message ("signal received, stopping");
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_bus_closed (GDBusConnection *bus, gboolean remote_peer_vanished,
               GError *error, gpointer data)
{
  VbDaemon *daemon = data;

  g_warning ("bus connection closed%s%s", error != NULL ? ": " : "",
             error != NULL ? error->message : "");
  daemon->exit_status = 1;
  g_main_loop_quit (daemon->loop);
}

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer data)
{
  VbDaemon *daemon = data;

  g_message ("serving %s with %u connection(s)", name, daemon->conns->len);
  /* Opened now, so that libvirt events reach subscribers before anyone
   * calls a method. */
  for (guint i = 0; i < daemon->conns->len; i++)
    vb_conn_open_in_background (g_ptr_array_index (daemon->conns, i));
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer data)
{
  VbDaemon *daemon = data;

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

static int
serve (VbDaemon *daemon, const VbOptions *options)
{
  g_autoptr(GError) error = NULL;
  guint owner_id;
  guint term_source, int_source;
  gulong closed_handler;

  if (!vb_bus_export (daemon->bus, daemon->conns,
                      options->bus_type == G_BUS_TYPE_SYSTEM, &error))
    {
      g_printerr ("virtbusd: cannot export objects: %s\n", error->message);
      return 1;
    }

  closed_handler = g_signal_connect (daemon->bus, "closed",
                                     G_CALLBACK (on_bus_closed), daemon);
  term_source = g_unix_signal_add (SIGTERM, on_quit_signal, daemon);
  int_source = g_unix_signal_add (SIGINT, on_quit_signal, daemon);
  owner_id = g_bus_own_name_on_connection (daemon->bus, BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_NONE,
                                           on_name_acquired, on_name_lost,
                                           daemon, NULL);

  g_main_loop_run (daemon->loop);

  g_bus_unown_name (owner_id);
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
  VbDaemon daemon = { 0 };

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

  daemon.exit_status = serve (&daemon, options);

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
