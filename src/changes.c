#include "changes.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "errors.h"
#include "introspection.h"
#include "libvirt-glib-compat.h"
#include "objects.h"

#define EMITS_ANNOTATION "org.freedesktop.DBus.Property.EmitsChangedSignal"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

typedef enum {
  EMITS_TRUE,          /* PropertiesChanged carries the new value */
  EMITS_INVALIDATES,   /* PropertiesChanged names it; read it again */
  EMITS_NOTHING,       /* "const" or "false" */
} Emits;

/* Each connection's notices are read by a thread of its own, in order,
 * so that a host that stops answering delays no other host's signals. */
typedef struct {
  GThreadPool *pool;         /* one thread */
  /* Object path -> a{sv} of the last values sent for its emitting
   * properties.  Only the lane's thread touches it. */
  GHashTable *last_sent;
  /* A libvirt connection of the lane's own.  Reading an object right
   * after its event can wait inside libvirtd (a domain busy with a dump,
   * say); on a call's connection that wait would take one of the few
   * requests libvirtd serves at once per client.  Lane's thread only. */
  virConnectPtr own;
  /* Path -> VbInterface of every object announced or listed, for the
   * resynchronisation after the host comes back.  NULL until listed. */
  GHashTable *known;
} NoticeLane;

typedef struct {
  VbConn *conn;
  NoticeLane *lane;
  const VbInterface *iface;  /* NULL: a resynchronisation */
  gpointer object;
  VbChangeKind kind;
} VbNotice;

static GMutex lanes_lock;         /* guards lanes against shutdown */
static GHashTable *lanes;         /* VbConn -> NoticeLane */

static Emits
property_emits (GDBusInterfaceInfo *info, const char *name)
{
  GDBusPropertyInfo *property = g_dbus_interface_info_lookup_property (info, name);
  const char *value = NULL;

  if (property != NULL)
    value = g_dbus_annotation_info_lookup (property->annotations, EMITS_ANNOTATION);
  if (value == NULL)
    value = g_dbus_annotation_info_lookup (info->annotations, EMITS_ANNOTATION);
  /* D-Bus's default is "true". */
  if (value == NULL || g_str_equal (value, "true"))
    return EMITS_TRUE;
  if (g_str_equal (value, "invalidates"))
    return EMITS_INVALIDATES;
  return EMITS_NOTHING;
}

static gboolean
interface_emits_changes (const VbInterface *iface)
{
  GDBusInterfaceInfo *info = vb_introspection_lookup (iface->name);

  for (const VbProperty *p = iface->properties; info != NULL && p->name != NULL; p++)
    if (property_emits (info, p->name) != EMITS_NOTHING)
      return TRUE;
  return FALSE;
}

static void
emit_added (VbNotice *notice, const char *path, GVariant *properties)
{
  GVariantBuilder interfaces;

  g_variant_builder_init (&interfaces, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_variant_builder_add (&interfaces, "{s@a{sv}}", notice->iface->name, properties);
  vb_conn_emit_signal (notice->conn, vb_conn_get_path (notice->conn),
                       OBJECT_MANAGER_INTERFACE, "InterfacesAdded",
                       g_variant_new ("(oa{sa{sv}})", path, &interfaces));
}

static void
emit_removed (VbNotice *notice, const char *path)
{
  const char *names[] = { notice->iface->name, NULL };

  vb_conn_emit_signal (notice->conn, vb_conn_get_path (notice->conn),
                       OBJECT_MANAGER_INTERFACE, "InterfacesRemoved",
                       g_variant_new ("(o^as)", path, names));
}

/* Emits what differs between @properties and what was last sent for
 * @path (everything that emits, when nothing was sent yet). */
static void
emit_differences (VbNotice *notice, const char *path, GVariant *properties)
{
  GDBusInterfaceInfo *info = vb_introspection_lookup (notice->iface->name);
  GVariant *before = g_hash_table_lookup (notice->lane->last_sent, path);
  GVariantBuilder changed, invalidated;
  gboolean any = FALSE;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_init (&invalidated, G_VARIANT_TYPE ("as"));
  g_variant_iter_init (&iter, properties);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      Emits emits = property_emits (info, name);
      g_autoptr(GVariant) old = before != NULL
          ? g_variant_lookup_value (before, name, NULL) : NULL;

      if (emits == EMITS_NOTHING || (old != NULL && g_variant_equal (old, value)))
        continue;
      if (emits == EMITS_TRUE)
        g_variant_builder_add (&changed, "{sv}", name, value);
      else
        g_variant_builder_add (&invalidated, "s", name);
      any = TRUE;
    }
  if (any)
    vb_conn_emit_signal (notice->conn, path, PROPERTIES_INTERFACE, "PropertiesChanged",
                         g_variant_new ("(sa{sv}as)", notice->iface->name, &changed,
                                        &invalidated));
  else
    {
      g_variant_builder_clear (&changed);
      g_variant_builder_clear (&invalidated);
    }
}

static gboolean
is_transient (GVariant *properties)
{
  gboolean persistent = TRUE;

  g_variant_lookup (properties, "Persistent", "b", &persistent);
  return !persistent;
}

/* Every property of the call's object, read at one moment: a start or
 * stop between the lookup and the read (the notice thread yields to the
 * others) would pair the Id of before with the State of after, so it
 * reads again with a new handle then (twice at most: a change that keeps
 * coming is reported by its own notices). */
static GVariant *
read_settled_properties (VbNotice *notice, const char *path, VbCall *call)
{
  GVariant *properties = vb_call_read_properties (call, FALSE);

  for (int again = 0; again < 2 && notice->iface->handle_is_current != NULL &&
                      !notice->iface->handle_is_current (call);
       again++)
    {
      gpointer fresh = notice->iface->lookup (call->virconn, strrchr (path, '/') + 1, NULL);

      if (fresh == NULL)
        break;
      vb_call_forget_memo (call);
      notice->iface->release (call->object);
      call->object = fresh;
      g_variant_unref (properties);
      properties = vb_call_read_properties (call, FALSE);
    }
  return properties;
}

static void
handle_present (VbNotice *notice, const char *path, VbCall *call)
{
  g_autoptr(GVariant) properties = read_settled_properties (notice, path, call);

  if (notice->kind == VB_CHANGE_ADDED ||
      (notice->kind == VB_CHANGE_STARTED && is_transient (properties)))
    emit_added (notice, path, properties);
  else
    emit_differences (notice, path, properties);
  /* Kept serialized: one small block per object instead of a tree of
   * GVariants (10,000 domains would otherwise cost ~9 KiB each). */
  g_variant_get_data (properties);
  g_hash_table_insert (notice->lane->last_sent, g_strdup (path), g_steal_pointer (&properties));
}

/* The lane's connection for @conn (a new reference), opened on first use
 * and again after libvirt closed it. */
static virConnectPtr
own_connection (NoticeLane *lane, VbConn *conn, GError **error)
{
  /* A driver inside virtbusd never waits on libvirtd; and the test driver
   * gives each connection a state of its own (but for test:///default),
   * which a second connection would not see. */
  if (vb_conn_in_process (conn))
    return vb_conn_acquire (conn, error);

  if (lane->own != NULL && virConnectIsAlive (lane->own) != 1)
    g_clear_pointer (&lane->own, virConnectClose);
  /* With the calls' keepalive: a host that stops answering holds this
   * thread no longer than it holds a call. */
  if (lane->own == NULL && (lane->own = vb_conn_open_own (conn, error)) == NULL)
    return NULL;
  virConnectRef (lane->own);
  return lane->own;
}

/* Gives back what own_connection() returned. */
static void
put_back_connection (VbConn *conn, virConnectPtr virconn)
{
  if (vb_conn_in_process (conn))
    vb_conn_release (conn, virconn);
  else
    virConnectClose (virconn);
}

/* The notice thread yields the CPU to the threads that answer calls and
 * emit libvirt's own signals: on a busy machine a PropertiesChanged may
 * come a little later, but a reply or a DomainEvent does not wait for it.
 * (At the same priority, Create -> DomainEvent took 10-30% longer than in
 * libvirt-dbus, which reads nothing after a change; issue 7.) */
#define NOTICE_THREAD_NICENESS 10

static void
lower_own_priority (void)
{
  static __thread gboolean lowered;

  if (lowered)
    return;
  lowered = TRUE;
  if (setpriority (PRIO_PROCESS, (id_t) gettid (), NOTICE_THREAD_NICENESS) < 0)
    g_debug ("cannot lower the notice thread's priority: %s", g_strerror (errno));
}

static void handle_object_notice (VbNotice *notice, NoticeLane *lane_ptr);

/* ---- resynchronisation -------------------------------------------------- */

/* An object the listing found; @path is the listing's key for it. */
typedef struct {
  VbNotice notice;
  const char *path;
} Found;

typedef struct {
  VbConn *conn;
  GHashTable *now;           /* path -> VbInterface */
  GHashTable *listed;        /* the kinds listed: VbInterface set */
  GPtrArray *objects;        /* Found */
} Listing;

static void
note_listed (const VbInterface *iface, gpointer object, gpointer data)
{
  Listing *listing = data;
  char *path;
  Found *found;

  if (object == NULL)
    {
      g_hash_table_add (listing->listed, (gpointer) iface);
      return;
    }
  path = iface->path (listing->conn, object);
  if (path == NULL)
    {
      iface->release (object);
      return;
    }
  found = g_new0 (Found, 1);
  found->notice.conn = listing->conn;
  found->notice.iface = iface;
  found->notice.object = object;
  found->path = path;
  g_hash_table_insert (listing->now, path, (gpointer) iface);
  g_ptr_array_add (listing->objects, found);
}

/* Announces what @listing found that @lane did not know (InterfacesAdded)
 * and reads again what it knew (PropertiesChanged for what changed
 * meanwhile). */
static void
announce_found (NoticeLane *lane, VbNotice *resync, Listing *listing, virConnectPtr virconn)
{
  for (guint i = 0; i < listing->objects->len; i++)
    {
      Found *found = g_ptr_array_index (listing->objects, i);
      VbNotice *notice = &found->notice;
      /* The call owns the handle now: reading may replace it. */
      VbCall call = { .conn = resync->conn, .iface = notice->iface, .virconn = virconn,
                      .object = g_steal_pointer (&notice->object) };

      notice->lane = lane;
      notice->kind = g_hash_table_contains (lane->known, found->path) ? VB_CHANGE_UPDATED
                                                                      : VB_CHANGE_ADDED;
      if (notice->kind == VB_CHANGE_ADDED || interface_emits_changes (notice->iface))
        handle_present (notice, found->path, &call);
      vb_call_forget_memo (&call);
      notice->iface->release (call.object);
    }
}

/* Announces the objects @lane knew, of the kinds listed, that are gone. */
static void
announce_gone (NoticeLane *lane, VbNotice *resync, Listing *listing)
{
  GHashTableIter iter;
  gpointer path, iface;

  g_hash_table_iter_init (&iter, lane->known);
  while (g_hash_table_iter_next (&iter, &path, &iface))
    {
      VbNotice gone = { .conn = resync->conn, .lane = lane, .iface = iface };

      if (g_hash_table_contains (listing->now, path) ||
          !g_hash_table_contains (listing->listed, iface))
        continue;
      g_hash_table_remove (lane->last_sent, path);
      emit_removed (&gone, path);
    }
}

static void
found_free (gpointer data)
{
  Found *found = data;

  if (found->notice.object != NULL)
    found->notice.iface->release (found->notice.object);
  g_free (found);
}

/* The connection's watch was (re)opened: what came and went while the
 * host was away is announced, as its events were lost with it.  The first
 * listing only learns what exists. */
static void
resynchronise (NoticeLane *lane, VbNotice *resync)
{
  g_autoptr(GError) error = NULL;
  virConnectPtr virconn = own_connection (lane, resync->conn, &error);
  Listing listing = { .conn = resync->conn };

  if (virconn == NULL)
    {
      g_debug ("%s: no resynchronisation: %s", vb_conn_get_name (resync->conn),
               error->message);
      return;
    }
  listing.now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  listing.listed = g_hash_table_new (NULL, NULL);
  listing.objects = g_ptr_array_new_with_free_func (found_free);
  vb_object_manager_each (virconn, note_listed, &listing);
  if (lane->known != NULL)
    {
      announce_found (lane, resync, &listing, virconn);
      announce_gone (lane, resync, &listing);
      g_hash_table_unref (lane->known);
    }
  lane->known = g_steal_pointer (&listing.now);
  g_hash_table_unref (listing.listed);
  g_ptr_array_unref (listing.objects);
  put_back_connection (resync->conn, virconn);
}

static void
handle_notice (gpointer data, gpointer lane_ptr)
{
  VbNotice *notice = data;

  if (notice->iface == NULL)
    {
      lower_own_priority ();
      resynchronise (lane_ptr, notice);
      g_free (notice);
      return;
    }
  handle_object_notice (notice, lane_ptr);
}

static void
handle_object_notice (VbNotice *notice, NoticeLane *lane_ptr)
{
  g_autofree char *path = notice->iface->path (notice->conn, notice->object);
  g_autoptr(GError) error = NULL;
  VbCall call = { .conn = notice->conn, .iface = notice->iface };

  lower_own_priority ();
  call.virconn = path != NULL ? own_connection (lane_ptr, notice->conn, &error) : NULL;
  if (call.virconn != NULL)
    call.object = notice->iface->lookup (call.virconn, strrchr (path, '/') + 1, &error);

  if (call.object != NULL)
    {
      handle_present (notice, path, &call);
      vb_call_forget_memo (&call);
      notice->iface->release (call.object);
      if (notice->lane->known != NULL)
        g_hash_table_insert (notice->lane->known, g_strdup (path), (gpointer) notice->iface);
    }
  else if (call.virconn != NULL && notice->kind == VB_CHANGE_GONE_MAYBE &&
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    {
      g_hash_table_remove (notice->lane->last_sent, path);
      if (notice->lane->known != NULL)
        g_hash_table_remove (notice->lane->known, path);
      emit_removed (notice, path);
    }
  if (call.virconn != NULL)
    put_back_connection (notice->conn, call.virconn);
  notice->iface->release (notice->object);
  g_free (notice);
}

static void
notice_lane_free (NoticeLane *lane)
{
  g_thread_pool_free (lane->pool, FALSE, TRUE);
  g_hash_table_unref (lane->last_sent);
  g_clear_pointer (&lane->known, g_hash_table_unref);
  g_clear_pointer (&lane->own, virConnectClose);
  g_free (lane);
}

static NoticeLane *
notice_lane_new (void)
{
  g_autoptr(GError) error = NULL;
  NoticeLane *lane = g_new0 (NoticeLane, 1);

  lane->last_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_variant_unref);
  lane->pool = g_thread_pool_new (handle_notice, lane, 1, FALSE, &error);
  if (lane->pool == NULL)
    g_error ("cannot create a change notice thread: %s", error->message);
  return lane;
}

void
vb_changes_init (void)
{
  g_mutex_lock (&lanes_lock);
  lanes = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) notice_lane_free);
  g_mutex_unlock (&lanes_lock);
}

void
vb_changes_shutdown (void)
{
  GHashTable *all;

  g_mutex_lock (&lanes_lock);
  all = g_steal_pointer (&lanes);
  g_mutex_unlock (&lanes_lock);
  /* Outside the lock: waits for each lane's thread. */
  if (all != NULL)
    g_hash_table_unref (all);
}

static gboolean push_notice (VbConn *conn, VbNotice *notice);

void
vb_changes_notify (VbConn *conn, const VbInterface *iface, gpointer object,
                   VbChangeKind kind)
{
  VbNotice *notice;

  if (iface->lookup == NULL ||
      (kind == VB_CHANGE_UPDATED && !interface_emits_changes (iface)))
    {
      iface->release (object);
      return;
    }
  notice = g_new0 (VbNotice, 1);
  notice->conn = conn;
  notice->iface = iface;
  notice->object = object;
  notice->kind = kind;
  if (!push_notice (conn, notice))
    {
      iface->release (object);
      g_free (notice);
    }
}

void
vb_changes_resync (VbConn *conn)
{
  VbNotice *notice = g_new0 (VbNotice, 1);

  notice->conn = conn;
  if (!push_notice (conn, notice))
    g_free (notice);
}

/* Queues @notice on @conn's lane; FALSE when stopping (nobody listens). */
static gboolean
push_notice (VbConn *conn, VbNotice *notice)
{
  g_mutex_lock (&lanes_lock);
  if (lanes != NULL)
    {
      notice->lane = g_hash_table_lookup (lanes, conn);
      if (notice->lane == NULL)
        {
          notice->lane = notice_lane_new ();
          g_hash_table_insert (lanes, conn, notice->lane);
        }
      g_thread_pool_push (notice->lane->pool, notice, NULL);
      notice = NULL;
    }
  g_mutex_unlock (&lanes_lock);
  return notice == NULL;
}
