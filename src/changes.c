#include "changes.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "errors.h"
#include "introspection.h"
#include "libvirt-glib-compat.h"

#define EMITS_ANNOTATION "org.freedesktop.DBus.Property.EmitsChangedSignal"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

typedef enum {
  EMITS_TRUE,          /* PropertiesChanged carries the new value */
  EMITS_INVALIDATES,   /* PropertiesChanged names it; read it again */
  EMITS_NOTHING,       /* "const" or "false" */
} Emits;

typedef struct {
  VbConn *conn;
  const VbInterface *iface;
  gpointer object;
  VbChangeKind kind;
} VbNotice;

static GMutex pool_lock;          /* guards notice_pool against shutdown */
static GThreadPool *notice_pool;  /* one thread: notices in order */
/* Object path -> a{sv} of the last values sent for its emitting
 * properties.  Only the notice thread touches it. */
static GHashTable *last_sent;
/* VbConn -> a libvirt connection of the notice thread's own.  Reading an
 * object right after its event can wait inside libvirtd (a domain busy
 * with a dump, say); on the calls' connection that wait would take one of
 * the few requests libvirtd serves at once per client, and cheap calls
 * would queue behind it.  Notice thread only. */
static GHashTable *own_connections;

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
  GVariant *before = g_hash_table_lookup (last_sent, path);
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
  g_hash_table_insert (last_sent, g_strdup (path), g_steal_pointer (&properties));
}

static void
close_connection (gpointer virconn)
{
  virConnectClose (virconn);
}

/* The notice thread's connection for @conn (a new reference), opened on
 * first use and again after libvirt closed it. */
static virConnectPtr
own_connection (VbConn *conn, GError **error)
{
  const char *uri = vb_conn_get_uri (conn);
  virConnectPtr virconn;

  /* A driver inside virtbusd never waits on libvirtd; and the test driver
   * gives each connection a state of its own (but for test:///default),
   * which a second connection would not see. */
  if (vb_conn_in_process (conn))
    return vb_conn_acquire (conn, error);

  virconn = g_hash_table_lookup (own_connections, conn);

  if (virconn != NULL && virConnectIsAlive (virconn) != 1)
    {
      g_hash_table_remove (own_connections, conn);
      virconn = NULL;
    }
  if (virconn == NULL)
    {
      virconn = virConnectOpen (uri);
      if (virconn == NULL)
        {
          vb_error_set_from_libvirt (error);
          return NULL;
        }
      g_hash_table_insert (own_connections, conn, virconn);
    }
  virConnectRef (virconn);
  return virconn;
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

static void
handle_notice (gpointer data, gpointer unused)
{
  VbNotice *notice = data;
  g_autofree char *path = notice->iface->path (notice->conn, notice->object);
  g_autoptr(GError) error = NULL;
  VbCall call = { .conn = notice->conn, .iface = notice->iface };

  lower_own_priority ();
  call.virconn = path != NULL ? own_connection (notice->conn, &error) : NULL;
  if (call.virconn != NULL)
    call.object = notice->iface->lookup (call.virconn, strrchr (path, '/') + 1, &error);

  if (call.object != NULL)
    {
      handle_present (notice, path, &call);
      vb_call_forget_memo (&call);
      notice->iface->release (call.object);
    }
  else if (call.virconn != NULL && notice->kind == VB_CHANGE_GONE_MAYBE &&
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    {
      g_hash_table_remove (last_sent, path);
      emit_removed (notice, path);
    }
  if (call.virconn != NULL)
    virConnectClose (call.virconn);
  notice->iface->release (notice->object);
  g_free (notice);
}

void
vb_changes_init (void)
{
  g_autoptr(GError) error = NULL;

  last_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_variant_unref);
  own_connections = g_hash_table_new_full (NULL, NULL, NULL, close_connection);
  g_mutex_lock (&pool_lock);
  notice_pool = g_thread_pool_new (handle_notice, NULL, 1, FALSE, &error);
  g_mutex_unlock (&pool_lock);
  if (notice_pool == NULL)
    g_error ("cannot create the change notice thread: %s", error->message);
}

void
vb_changes_shutdown (void)
{
  GThreadPool *pool;

  g_mutex_lock (&pool_lock);
  pool = g_steal_pointer (&notice_pool);
  g_mutex_unlock (&pool_lock);
  if (pool != NULL)
    g_thread_pool_free (pool, FALSE, TRUE);
  g_clear_pointer (&last_sent, g_hash_table_unref);
  g_clear_pointer (&own_connections, g_hash_table_unref);
}

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
  g_mutex_lock (&pool_lock);
  if (notice_pool != NULL)
    {
      g_thread_pool_push (notice_pool, notice, NULL);
      notice = NULL;
    }
  g_mutex_unlock (&pool_lock);
  /* Stopping: nobody is listening any more. */
  if (notice != NULL)
    {
      iface->release (object);
      g_free (notice);
    }
}
