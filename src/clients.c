#include "clients.h"

/* What the message filter (on GDBus's thread) shares with the main loop.
 * The filter may still run after it is removed, so this outlives the
 * VbClients it reports to: the filter holds its own reference. */
typedef struct {
  GMutex lock;
  GHashTable *seen;          /* unique names reported; under lock */
  GMainContext *context;
  VbClients *owner;          /* main loop only; NULL once freed */
} Arrivals;

struct _VbClients {
  GDBusConnection *bus;
  GHashTable *watches;       /* unique name -> ClientWatch */
  VbClientsChangedFunc changed;
  gpointer user_data;
  Arrivals *arrivals;
  guint filter_id;
};

typedef struct {
  VbClients *clients;
  guint watch_id;
} ClientWatch;

typedef struct {
  Arrivals *arrivals;
  char *name;
} Arrival;

static void
arrivals_clear (gpointer data)
{
  Arrivals *arrivals = data;

  g_hash_table_unref (arrivals->seen);
  g_main_context_unref (arrivals->context);
  g_mutex_clear (&arrivals->lock);
}

static void
arrivals_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, arrivals_clear);
}

static void
arrival_free (gpointer data)
{
  Arrival *arrival = data;

  arrivals_unref (arrival->arrivals);
  g_free (arrival->name);
  g_free (arrival);
}

static void
client_watch_free (gpointer data)
{
  ClientWatch *watch = data;

  g_bus_unwatch_name (watch->watch_id);
  g_free (watch);
}

/* ---- main loop -------------------------------------------------------------- */

static void
forget_client (VbClients *clients, const char *name)
{
  g_mutex_lock (&clients->arrivals->lock);
  g_hash_table_remove (clients->arrivals->seen, name);
  g_mutex_unlock (&clients->arrivals->lock);

  /* Unique names are never reused: this one will not call again. */
  if (g_hash_table_remove (clients->watches, name))
    clients->changed (g_hash_table_size (clients->watches), clients->user_data);
}

static void
on_client_vanished (GDBusConnection *bus, const char *name, gpointer data)
{
  ClientWatch *watch = data;

  forget_client (watch->clients, name);
}

static gboolean
track_client (gpointer data)
{
  Arrival *arrival = data;
  VbClients *clients = arrival->arrivals->owner;
  ClientWatch *watch;

  if (clients == NULL || g_hash_table_contains (clients->watches, arrival->name))
    return G_SOURCE_REMOVE;

  watch = g_new0 (ClientWatch, 1);
  watch->clients = clients;
  g_hash_table_insert (clients->watches, g_strdup (arrival->name), watch);
  /* Reports the name gone at once if it left before we asked. */
  watch->watch_id = g_bus_watch_name_on_connection (
      clients->bus, arrival->name, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
      on_client_vanished, watch, NULL);
  clients->changed (g_hash_table_size (clients->watches), clients->user_data);
  return G_SOURCE_REMOVE;
}

/* ---- GDBus's thread ------------------------------------------------------------ */

/* Sees every message before it is dispatched; reports each caller once.
 * The report reaches the main loop ahead of the call itself, which GDBus
 * queues there after this returns. */
static GDBusMessage *
on_message (GDBusConnection *bus, GDBusMessage *message, gboolean incoming,
            gpointer data)
{
  Arrivals *arrivals = data;
  const char *sender = g_dbus_message_get_sender (message);
  Arrival *arrival;

  if (!incoming || sender == NULL
      || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;

  g_mutex_lock (&arrivals->lock);
  if (g_hash_table_contains (arrivals->seen, sender))
    {
      g_mutex_unlock (&arrivals->lock);
      return message;
    }
  g_hash_table_add (arrivals->seen, g_strdup (sender));
  g_mutex_unlock (&arrivals->lock);

  arrival = g_new0 (Arrival, 1);
  arrival->arrivals = g_atomic_rc_box_acquire (arrivals);
  arrival->name = g_strdup (sender);
  g_main_context_invoke_full (arrivals->context, G_PRIORITY_DEFAULT, track_client,
                              arrival, arrival_free);
  return message;
}

/* ---- life cycle ---------------------------------------------------------------- */

VbClients *
vb_clients_new (GDBusConnection *bus, VbClientsChangedFunc changed, gpointer user_data)
{
  VbClients *clients = g_new0 (VbClients, 1);
  Arrivals *arrivals = g_atomic_rc_box_new0 (Arrivals);

  g_mutex_init (&arrivals->lock);
  arrivals->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  arrivals->context = g_main_context_ref_thread_default ();
  arrivals->owner = clients;

  clients->bus = g_object_ref (bus);
  clients->watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            client_watch_free);
  clients->changed = changed;
  clients->user_data = user_data;
  clients->arrivals = arrivals;
  clients->filter_id = g_dbus_connection_add_filter (
      bus, on_message, g_atomic_rc_box_acquire (arrivals), arrivals_unref);
  return clients;
}

void
vb_clients_free (VbClients *clients)
{
  clients->arrivals->owner = NULL;
  g_dbus_connection_remove_filter (clients->bus, clients->filter_id);
  g_hash_table_unref (clients->watches);
  arrivals_unref (clients->arrivals);
  g_object_unref (clients->bus);
  g_free (clients);
}

guint
vb_clients_count (VbClients *clients)
{
  return g_hash_table_size (clients->watches);
}
