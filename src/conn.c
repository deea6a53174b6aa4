#include "conn.h"

#include "errors.h"
#include "events.h"
#include "workers.h"

/* Delay before reopening a connection libvirt closed, doubling up to a
 * minute while the other side stays away. */
#define REOPEN_DELAY_MIN_SECONDS 1
#define REOPEN_DELAY_MAX_SECONDS 60

struct _VbConn {
  /* Atomic.  Not a GLib rc box: libvirt's close callback may run while
   * the last reference is being dropped (libvirtd dying as virtbusd
   * stops), and must then take none (see conn_try_ref). */
  gint refs;
  char *name;
  char *uri;
  char *path;
  GDBusConnection *bus;

  /* Held while opening, which may take long (remote URIs): never taken
   * on the main loop nor in libvirt callbacks. */
  GMutex lock;
  virConnectPtr virconn;   /* NULL until opened */
  VbEventIds event_ids;

  gint closed;             /* atomic: libvirt reported the connection closed */
  gboolean in_process;     /* set once: see vb_conn_in_process */
  gint reopen_delay;       /* atomic: seconds */
  guint reopen_source;     /* main loop only */
};

static void on_libvirt_closed (virConnectPtr virconn, int reason, void *opaque);
static void request_reopen (VbConn *conn);

static void
drop_libvirt_connection (VbConn *conn)
{
  if (conn->virconn == NULL)
    return;

  vb_events_deregister (conn->virconn, &conn->event_ids);
  virConnectUnregisterCloseCallback (conn->virconn, on_libvirt_closed);
  virConnectClose (conn->virconn);
  conn->virconn = NULL;
}

static void
conn_clear (gpointer data)
{
  VbConn *conn = data;

  if (conn->reopen_source != 0)
    g_source_remove (conn->reopen_source);
  g_mutex_lock (&conn->lock);
  drop_libvirt_connection (conn);
  g_mutex_unlock (&conn->lock);

  g_mutex_clear (&conn->lock);
  g_object_unref (conn->bus);
  g_free (conn->name);
  g_free (conn->uri);
  g_free (conn->path);
}

/* A new reference, unless the connection is already being freed: its
 * memory stays valid meanwhile, since conn_clear waits in
 * virConnectUnregisterCloseCallback for a close callback in progress. */
static gboolean
conn_try_ref (VbConn *conn)
{
  for (;;)
    {
      gint refs = g_atomic_int_get (&conn->refs);

      if (refs == 0)
        return FALSE;
      if (g_atomic_int_compare_and_exchange (&conn->refs, refs, refs + 1))
        return TRUE;
    }
}

VbConn *
vb_conn_new (GDBusConnection *bus, const char *name, const char *uri)
{
  VbConn *conn = g_new0 (VbConn, 1);

  conn->refs = 1;

  conn->name = g_strdup (name);
  conn->uri = g_strdup (uri);
  conn->path = g_strconcat ("/org/libvirt/", name, NULL);
  conn->bus = g_object_ref (bus);
  conn->reopen_delay = REOPEN_DELAY_MIN_SECONDS;
  conn->in_process = g_str_has_prefix (uri, "test:");
  g_mutex_init (&conn->lock);
  return conn;
}

void
vb_conn_free (VbConn *conn)
{
  if (!g_atomic_int_dec_and_test (&conn->refs))
    return;
  conn_clear (conn);
  g_free (conn);
}

const char *
vb_conn_get_name (VbConn *conn)
{
  return conn->name;
}

const char *
vb_conn_get_uri (VbConn *conn)
{
  return conn->uri;
}

const char *
vb_conn_get_path (VbConn *conn)
{
  return conn->path;
}

void
vb_conn_emit_signal (VbConn *conn, const char *path, const char *interface_name,
                     const char *signal_name, GVariant *args)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (conn->bus, NULL, path, interface_name, signal_name,
                                      args, &error))
    g_warning ("cannot emit %s.%s on %s: %s", interface_name, signal_name, path,
               error->message);
}

GDBusConnection *
vb_conn_get_bus (VbConn *conn)
{
  return conn->bus;
}

gboolean
vb_conn_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_')
        return FALSE;
    }
  return TRUE;
}

/* Runs on libvirt's event thread, maybe with libvirt's own locks held:
 * only flags the connection and hands the rest to the main loop. */
static void
on_libvirt_closed (virConnectPtr virconn, int reason, void *opaque)
{
  VbConn *conn = opaque;

  g_message ("connection %s (%s) closed by libvirt (reason %d)", conn->name,
             conn->uri, reason);
  g_atomic_int_set (&conn->closed, TRUE);
  if (conn_try_ref (conn))
    request_reopen (conn);
}

static gboolean
open_locked (VbConn *conn, GError **error)
{
  virConnectPtr virconn = virConnectOpen (conn->uri);

  if (virconn == NULL)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }

  /* Remote connections notice a dead peer only through keepalive; local
   * drivers answer "unsupported", which is fine. */
  if (virConnectSetKeepAlive (virconn, 5, 3) < 0)
    virResetLastError ();
  if (virConnectRegisterCloseCallback (virconn, on_libvirt_closed, conn, NULL) < 0)
    virResetLastError ();

  conn->virconn = virconn;
  g_atomic_int_set (&conn->closed, FALSE);
  g_atomic_int_set (&conn->reopen_delay, REOPEN_DELAY_MIN_SECONDS);
  vb_events_register (conn, virconn, &conn->event_ids);
  g_debug ("connection %s opened %s", conn->name, conn->uri);
  return TRUE;
}

/* A new reference to the connection if it is open. */
static virConnectPtr
reference_open_locked (VbConn *conn)
{
  if (conn->virconn == NULL)
    return NULL;
  virConnectRef (conn->virconn);
  return conn->virconn;
}

virConnectPtr
vb_conn_acquire (VbConn *conn, GError **error)
{
  virConnectPtr virconn = NULL;

  g_mutex_lock (&conn->lock);
  if (conn->virconn != NULL &&
      (g_atomic_int_get (&conn->closed) || virConnectIsAlive (conn->virconn) != 1))
    drop_libvirt_connection (conn);

  if (conn->virconn != NULL || open_locked (conn, error))
    virconn = reference_open_locked (conn);
  g_mutex_unlock (&conn->lock);
  return virconn;
}

virConnectPtr
vb_conn_try_acquire (VbConn *conn)
{
  virConnectPtr virconn = NULL;

  if (!g_mutex_trylock (&conn->lock))
    return NULL;
  if (!g_atomic_int_get (&conn->closed))
    virconn = reference_open_locked (conn);
  g_mutex_unlock (&conn->lock);
  return virconn;
}

gboolean
vb_conn_in_process (VbConn *conn)
{
  return conn->in_process;
}

static void
open_quietly (gpointer data)
{
  VbConn *conn = data;
  g_autoptr(GError) error = NULL;
  virConnectPtr virconn = vb_conn_acquire (conn, &error);

  if (virconn == NULL)
    {
      g_debug ("connection %s (%s) not opened: %s", conn->name, conn->uri,
               error->message);
      if (g_atomic_int_get (&conn->closed) && conn_try_ref (conn))
        request_reopen (conn);
      return;
    }
  virConnectClose (virconn);
}

void
vb_conn_open_in_background (VbConn *conn)
{
  vb_workers_push (conn, VB_COST_SLOW, open_quietly, conn);
}

static gboolean
on_reopen_timeout (gpointer data)
{
  VbConn *conn = data;

  conn->reopen_source = 0;
  vb_conn_open_in_background (conn);
  return G_SOURCE_REMOVE;
}

/* Main loop: a connection that served events is brought back without
 * waiting for a method call, so that signal subscribers are not left deaf
 * after libvirtd restarts.  Retries back off up to a minute. */
static gboolean
on_reopen_requested (gpointer data)
{
  VbConn *conn = data;
  gint delay = g_atomic_int_get (&conn->reopen_delay);

  if (conn->reopen_source == 0)
    {
      conn->reopen_source = g_timeout_add_seconds (delay, on_reopen_timeout, conn);
      g_atomic_int_set (&conn->reopen_delay,
                        MIN (delay * 2, REOPEN_DELAY_MAX_SECONDS));
    }
  return G_SOURCE_REMOVE;
}

/* Any thread; takes a reference to @conn. */
static void
request_reopen (VbConn *conn)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, on_reopen_requested, conn,
                   (GDestroyNotify) vb_conn_free);
}
