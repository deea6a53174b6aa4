#include "conn.h"

#include "changes.h"
#include "errors.h"
#include "events.h"
#include "handles.h"
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

  /* Guards what follows.  Never held across a libvirt call that waits on
   * the other side, but for the in-process driver's open. */
  GMutex lock;
  GCond changed;           /* an open ended, or a channel came back */
  /* The watching connection: libvirt's events and the close callback
   * come through it.  In process, also the one every call shares. */
  virConnectPtr virconn;   /* NULL until opened */
  VbEventIds event_ids;
  /* Remote drivers: channels, connections used by one thread at a time
   * (see vb_conn_acquire). */
  GPtrArray *idle_channels;
  /* Each channel's reused handles (handles.h): virConnectPtr -> VbHandles.
   * Freed before their channel closes, since each handle holds a
   * reference to its connection. */
  GHashTable *channel_handles;
  guint n_channels;        /* idle and leased */
  guint max_channels;
  gboolean opening;        /* an opener thread runs */
  gint64 open_started;     /* monotonic, when it started */
  guint opens_ended;       /* counts the opener's ends */
  char *open_failure;      /* why the last open failed, or NULL */

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

  g_hash_table_unref (conn->channel_handles);
  g_ptr_array_unref (conn->idle_channels);
  g_mutex_clear (&conn->lock);
  g_cond_clear (&conn->changed);
  g_object_unref (conn->bus);
  g_free (conn->open_failure);
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
  conn->idle_channels = g_ptr_array_new_with_free_func ((GDestroyNotify) virConnectClose);
  conn->channel_handles = g_hash_table_new_full (NULL, NULL, NULL,
                                                 (GDestroyNotify) vb_handles_free);
  /* Every worker of the connection's lane may hold one at once, and a
   * whole-host read (GetManagedObjects) spare ones for its helpers. */
  conn->max_channels = vb_workers_lane_threads () + VB_CONN_SPARE_CHANNELS;
  g_mutex_init (&conn->lock);
  g_cond_init (&conn->changed);
  return conn;
}

VbConn *
vb_conn_ref (VbConn *conn)
{
  g_atomic_int_inc (&conn->refs);
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

virConnectPtr
vb_conn_open_own (VbConn *conn, GError **error)
{
  virConnectPtr virconn = virConnectOpen (conn->uri);

  if (virconn == NULL)
    {
      vb_error_set_from_libvirt (error);
      g_prefix_error (error, "%s (%s): ", conn->name, conn->uri);
      return NULL;
    }
  /* Remote drivers notice a dead peer through keepalive; local ones
   * answer "unsupported", which is fine. */
  if (virConnectSetKeepAlive (virconn, VB_CONN_KEEPALIVE_INTERVAL,
                              VB_CONN_KEEPALIVE_COUNT) < 0)
    virResetLastError ();
  return virconn;
}

/* Subscribes @virconn (opened, not yet shared) to libvirt's events and
 * close callback: RPCs to a remote host, so never under the lock, which
 * the main loop takes. */
static void
subscribe_watch (VbConn *conn, virConnectPtr virconn, VbEventIds *ids)
{
  if (virConnectRegisterCloseCallback (virconn, on_libvirt_closed, conn, NULL) < 0)
    virResetLastError ();
  vb_events_register (conn, virconn, ids);
}

/* Makes @virconn, subscribed, the watching connection. */
static void
watch_locked (VbConn *conn, virConnectPtr virconn, const VbEventIds *ids)
{
  conn->virconn = virconn;
  conn->event_ids = *ids;
  g_atomic_int_set (&conn->closed, FALSE);
  g_atomic_int_set (&conn->reopen_delay, REOPEN_DELAY_MIN_SECONDS);
  vb_changes_resync (conn);
  g_debug ("connection %s opened %s", conn->name, conn->uri);
}

static gboolean
watching_locked (VbConn *conn)
{
  return conn->virconn != NULL && !g_atomic_int_get (&conn->closed) &&
         virConnectIsAlive (conn->virconn) == 1;
}

/* In process: the one connection every call shares, opened here. */
static virConnectPtr
acquire_shared (VbConn *conn, GError **error)
{
  virConnectPtr virconn = NULL;

  g_mutex_lock (&conn->lock);
  if (conn->virconn != NULL && !watching_locked (conn))
    drop_libvirt_connection (conn);
  if (conn->virconn == NULL)
    {
      VbEventIds ids;

      /* In process: libvirt answers at once, under the lock or not. */
      virconn = vb_conn_open_own (conn, error);
      if (virconn != NULL)
        {
          subscribe_watch (conn, virconn, &ids);
          watch_locked (conn, virconn, &ids);
        }
    }
  virconn = conn->virconn;
  if (virconn != NULL)
    virConnectRef (virconn);
  g_mutex_unlock (&conn->lock);
  return virconn;
}

/* The opener thread: opens what @conn lacks (the watching connection,
 * then a channel) without holding the lock, since a host that does not
 * answer keeps virConnectOpen waiting as long as it stays away (no
 * keepalive runs before the connection is open). */
static gpointer
run_opener (gpointer data)
{
  VbConn *conn = data;
  g_autoptr(GError) error = NULL;
  virConnectPtr watcher = NULL;
  virConnectPtr channel = NULL;
  VbEventIds ids;
  gboolean wants_watcher;

  g_mutex_lock (&conn->lock);
  wants_watcher = !watching_locked (conn);
  if (wants_watcher)
    drop_libvirt_connection (conn);
  g_mutex_unlock (&conn->lock);

  if (wants_watcher)
    watcher = vb_conn_open_own (conn, &error);
  if (watcher != NULL)
    subscribe_watch (conn, watcher, &ids);
  if (error == NULL)
    channel = vb_conn_open_own (conn, &error);

  g_mutex_lock (&conn->lock);
  if (watcher != NULL)
    watch_locked (conn, watcher, &ids);
  if (channel != NULL)
    {
      g_ptr_array_add (conn->idle_channels, channel);
      conn->n_channels++;
    }
  g_clear_pointer (&conn->open_failure, g_free);
  if (error != NULL)
    {
      conn->open_failure = g_strdup (error->message);
      g_debug ("connection %s not opened: %s", conn->name, error->message);
    }
  conn->opening = FALSE;
  conn->opens_ended++;
  g_cond_broadcast (&conn->changed);
  g_mutex_unlock (&conn->lock);

  /* A host that refused (libvirtd stopped, say) is tried again later, so
   * that signal subscribers hear from it once it is back. */
  if (error != NULL && conn_try_ref (conn))
    request_reopen (conn);
  vb_conn_free (conn);
  return NULL;
}

static void
start_opener_locked (VbConn *conn)
{
  if (conn->opening || !conn_try_ref (conn))
    return;
  conn->opening = TRUE;
  conn->open_started = g_get_monotonic_time ();
  g_thread_unref (g_thread_new ("vb-open", run_opener, conn));
}

/* An idle channel that is still alive, or NULL; dead ones are closed. */
static virConnectPtr
take_idle_channel_locked (VbConn *conn)
{
  while (conn->idle_channels->len > 0)
    {
      virConnectPtr virconn =
          g_ptr_array_steal_index_fast (conn->idle_channels, conn->idle_channels->len - 1);

      if (virConnectIsAlive (virconn) == 1)
        return virconn;
      /* Dead: closing it sends nothing. */
      conn->n_channels--;
      g_hash_table_remove (conn->channel_handles, virconn);
      virConnectClose (virconn);
    }
  return NULL;
}

static void
set_no_answer (VbConn *conn, GError **error)
{
  g_set_error (error, VB_ERROR, VB_ERROR_LIBVIRT,
               "%s (%s): the host did not answer within %d s", conn->name, conn->uri,
               VB_CONN_OPEN_TIMEOUT);
}

/* Remote drivers: a channel of our own for the calling thread.  libvirt
 * 9's RPC client crashes when a connection dies (keepalive) while several
 * threads wait on it: the thread that polls for them leaves its socket
 * watch attached, pointing into its stack, and another thread's poll
 * later runs it (virNetClientIOEventLoop).  One thread per connection
 * never leaves one behind, and each call then fails on its own when its
 * host goes away (keepalive), instead of all but one waiting for the
 * socket to close. */
static virConnectPtr
lease_channel (VbConn *conn, gint64 timeout, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&conn->lock);

  for (;;)
    {
      gboolean watching = watching_locked (conn);
      virConnectPtr virconn = watching ? take_idle_channel_locked (conn) : NULL;
      guint opens_ended = conn->opens_ended;
      gint64 deadline;

      if (virconn != NULL)
        return virconn;
      if (!watching || conn->n_channels < conn->max_channels)
        start_opener_locked (conn);
      /* Counted from the open's start: while a host stays silent, the
       * calls that come later fail at once instead of queuing. */
      deadline = (conn->opening ? conn->open_started : g_get_monotonic_time ()) +
                 VB_CONN_OPEN_TIMEOUT * G_TIME_SPAN_SECOND;
      deadline = MIN (deadline, timeout);
      if (!g_cond_wait_until (&conn->changed, &conn->lock, deadline))
        {
          set_no_answer (conn, error);
          return NULL;
        }
      if (conn->opens_ended != opens_ended && conn->open_failure != NULL)
        {
          g_set_error_literal (error, VB_ERROR, VB_ERROR_LIBVIRT, conn->open_failure);
          return NULL;
        }
    }
}

virConnectPtr
vb_conn_acquire (VbConn *conn, GError **error)
{
  if (conn->in_process)
    return acquire_shared (conn, error);
  return lease_channel (conn, G_MAXINT64, error);
}

virConnectPtr
vb_conn_acquire_spare (VbConn *conn, gint64 timeout)
{
  g_autoptr(GError) error = NULL;
  virConnectPtr virconn;

  if (conn->in_process)
    return NULL;
  virconn = lease_channel (conn, g_get_monotonic_time () + timeout, &error);
  if (virconn == NULL)
    g_debug ("%s: no spare channel: %s", conn->name, error->message);
  return virconn;
}

/* A channel back among the idle ones (@reusable and still alive), or out
 * of the set, which may then open another. */
static void
return_channel (VbConn *conn, virConnectPtr virconn, gboolean reusable)
{
  if (conn->in_process)
    {
      virConnectClose (virconn);
      return;
    }
  g_mutex_lock (&conn->lock);
  if (reusable && virConnectIsAlive (virconn) == 1)
    {
      g_ptr_array_add (conn->idle_channels, virconn);
      virconn = NULL;
    }
  else
    {
      conn->n_channels--;
      g_hash_table_remove (conn->channel_handles, virconn);
    }
  g_cond_broadcast (&conn->changed);
  g_mutex_unlock (&conn->lock);
  /* A stream's or a dead one's: the last reference closes it. */
  if (virconn != NULL)
    virConnectClose (virconn);
}

VbHandles *
vb_conn_handles (VbConn *conn, virConnectPtr virconn)
{
  g_autoptr(GMutexLocker) locker = NULL;
  VbHandles *handles;

  if (conn->in_process)
    return NULL;
  locker = g_mutex_locker_new (&conn->lock);
  handles = g_hash_table_lookup (conn->channel_handles, virconn);
  if (handles == NULL)
    {
      handles = vb_handles_new ();
      g_hash_table_insert (conn->channel_handles, virconn, handles);
    }
  return handles;
}

void
vb_conn_release (VbConn *conn, virConnectPtr virconn)
{
  return_channel (conn, virconn, TRUE);
}

void
vb_conn_give_up (VbConn *conn, virConnectPtr virconn)
{
  return_channel (conn, virconn, FALSE);
}

virConnectPtr
vb_conn_try_acquire (VbConn *conn)
{
  virConnectPtr virconn = NULL;

  if (!conn->in_process || !g_mutex_trylock (&conn->lock))
    return NULL;
  if (conn->virconn != NULL && !g_atomic_int_get (&conn->closed))
    {
      virconn = conn->virconn;
      virConnectRef (virconn);
    }
  g_mutex_unlock (&conn->lock);
  return virconn;
}

gboolean
vb_conn_host_lost (VbConn *conn, virConnectPtr virconn)
{
  return !conn->in_process && virConnectIsAlive (virconn) != 1;
}

gboolean
vb_conn_in_process (VbConn *conn)
{
  return conn->in_process;
}

static void
open_shared_quietly (gpointer data)
{
  VbConn *conn = data;
  g_autoptr(GError) error = NULL;
  virConnectPtr virconn = acquire_shared (conn, &error);

  if (virconn == NULL)
    g_debug ("connection %s not opened: %s", conn->name, error->message);
  else
    virConnectClose (virconn);
}

/* Main loop or any thread: the watching connection is opened (again)
 * without waiting for a call, so that libvirt's events reach clients. */
void
vb_conn_open_in_background (VbConn *conn)
{
  if (conn->in_process)
    {
      vb_workers_push (conn, VB_COST_SLOW, open_shared_quietly, conn);
      return;
    }
  g_mutex_lock (&conn->lock);
  if (!watching_locked (conn))
    start_opener_locked (conn);
  g_mutex_unlock (&conn->lock);
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
