/* vb-dbus-floor: what D-Bus alone costs for the answers of ListDomains and
 * GetManagedObjects, with no libvirt call per answer.  At start it asks a
 * running daemon (--copy-from, its bus address) for both answers once and
 * keeps them (the same message a daemon sends); then it owns org.libvirt
 * on the session bus (DBUS_SESSION_BUS_ADDRESS) and answers every
 * Connect.ListDomains and ObjectManager.GetManagedObjects at --connect-path
 * with them, straight from GDBus's own thread (a message filter: no hop to
 * a main loop or a worker).  Whatever a daemon adds to the libvirt floor
 * is at least what this takes: serializing the reply, the bus daemon's
 * copy and checks, the client's parsing (docs/benchmark.md). */
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#define CONNECT_IFACE "org.libvirt.Connect"
#define MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"

static GVariant *list_answer;      /* "(ao)" */
static GVariant *managed_answer;   /* "(a{oa{sa{sv}}})" */
static char *connect_path;

static GVariant *
copy_answer (GDBusConnection *daemon, const char *iface, const char *method,
             GVariant *args, const char *type)
{
  g_autoptr(GError) error = NULL;
  GVariant *answer = g_dbus_connection_call_sync (daemon, "org.libvirt", connect_path, iface,
                                                  method, args, G_VARIANT_TYPE (type),
                                                  G_DBUS_CALL_FLAGS_NONE, 600000, NULL,
                                                  &error);

  if (answer == NULL)
    g_error ("%s.%s on the daemon: %s", iface, method, error->message);
  return answer;
}

static void
copy_answers (const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) daemon = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  if (daemon == NULL)
    g_error ("cannot reach %s: %s", address, error->message);
  list_answer = copy_answer (daemon, CONNECT_IFACE, "ListDomains", g_variant_new ("(u)", 0),
                             "(ao)");
  managed_answer = copy_answer (daemon, MANAGER_IFACE, "GetManagedObjects", NULL,
                                "(a{oa{sa{sv}}})");
}

/* The kept answer to @message, or NULL when it is not one we answer. */
static GVariant *
kept_answer (GDBusMessage *message)
{
  const char *iface = g_dbus_message_get_interface (message);
  const char *member = g_dbus_message_get_member (message);

  if (g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL ||
      g_strcmp0 (g_dbus_message_get_path (message), connect_path) != 0)
    return NULL;
  if (g_strcmp0 (iface, CONNECT_IFACE) == 0 && g_strcmp0 (member, "ListDomains") == 0)
    return list_answer;
  if (g_strcmp0 (iface, MANAGER_IFACE) == 0 && g_strcmp0 (member, "GetManagedObjects") == 0)
    return managed_answer;
  return NULL;
}

/* GDBus's thread, every incoming message: the two calls are answered
 * here; anything else goes on to GDBus (which answers an unknown method). */
static GDBusMessage *
answer_in_place (GDBusConnection *bus, GDBusMessage *message, gboolean incoming,
                 gpointer data)
{
  g_autoptr(GDBusMessage) reply = NULL;
  GVariant *answer = incoming ? kept_answer (message) : NULL;

  if (answer == NULL)
    return message;
  reply = g_dbus_message_new_method_reply (message);
  g_dbus_message_set_body (reply, answer);
  g_dbus_connection_send_message (bus, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
  g_object_unref (message);
  return NULL;
}

static void
on_name_lost (GDBusConnection *bus, const char *name, gpointer data)
{
  g_error ("could not own %s", name);
}

static void
on_name_acquired (GDBusConnection *bus, const char *name, gpointer data)
{
  g_autoptr(GVariant) paths = g_variant_get_child_value (list_answer, 0);

  printf ("{\"ready\": true, \"domains\": %" G_GSIZE_FORMAT "}\n",
          g_variant_n_children (paths));
  fflush (stdout);
}

static gboolean
on_sigterm (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GOptionEntry entries[] = {
    { "copy-from", 0, 0, G_OPTION_ARG_STRING, &address,
      "Bus address of the daemon whose answers to keep", "ADDRESS" },
    { "connect-path", 0, 0, G_OPTION_ARG_STRING, &connect_path,
      "The connection object answering ListDomains", "PATH" },
    { NULL }
  };

  context = g_option_context_new ("- D-Bus alone: a daemon's answers, from memory");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || address == NULL ||
      connect_path == NULL)
    {
      fprintf (stderr, "vb-dbus-floor: %s\n",
               error != NULL ? error->message : "--copy-from and --connect-path are needed");
      return 2;
    }
  copy_answers (address);
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    g_error ("no session bus: %s", error->message);
  g_dbus_connection_add_filter (bus, answer_in_place, NULL, NULL);
  g_bus_own_name_on_connection (bus, "org.libvirt", G_BUS_NAME_OWNER_FLAGS_NONE,
                                on_name_acquired, on_name_lost, NULL, NULL);
  g_unix_signal_add (SIGTERM, on_sigterm, loop);
  g_main_loop_run (loop);
  g_variant_unref (list_answer);
  g_variant_unref (managed_answer);
  return 0;
}
