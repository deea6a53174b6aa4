#include "bus.h"

#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "bus-call.h"
#include "changes.h"
#include "errors.h"
#include "introspection.h"
#include "libvirt-glib-compat.h"
#include "objects.h"
#include "paths.h"
#include "streams.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* One exported (connection, interface): the user data of its GDBus
 * registration. */
typedef struct {
  VbConn *conn;
  const VbInterface *iface;
  GDBusInterfaceInfo *info;
  guint registration_id;
} VbExport;

static const VbInterface *const all_interfaces[] = {
  &vb_connect_interface,
  &vb_domain_interface,
  &vb_domain_snapshot_interface,
  &vb_network_interface,
  &vb_storage_pool_interface,
  &vb_storage_vol_interface,
  &vb_node_device_interface,
  &vb_host_interface_interface,
  &vb_nwfilter_interface,
  &vb_secret_interface,
  &vb_object_manager_interface,
  NULL,
};

/* Calls answered in place and slow calls in drivers that run inside
 * virtbusd (see answer_in_place): never both at once. */
static gint in_place_calls;       /* atomic: 0 or 1 (GDBus's thread only) */
static gint slow_in_process_calls; /* atomic */

static GPtrArray *exports;        /* of VbExport, main thread only */
static gboolean polkit_enabled;   /* set once at export */
static gboolean stopping;         /* main thread: no longer serving */
static gint calls_in_flight;      /* atomic */
static gint calls_received;       /* atomic; wraps (see vb_bus_calls_received) */
/* Connection path -> its VbConn; read-only once exported. */
static GHashTable *served_paths;
static guint call_filter_id;

const VbInterface *const *
vb_bus_interfaces (void)
{
  return all_interfaces;
}

const VbInterface *
vb_bus_find_interface (const char *name)
{
  for (const VbInterface *const *iface = all_interfaces; *iface != NULL; iface++)
    {
      if (g_str_equal ((*iface)->name, name))
        return *iface;
    }
  return NULL;
}

GVariant *
vb_invalid_args (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, message);
  return NULL;
}

/* ---- worker side ------------------------------------------------------ */

static const VbMethod *
find_method (const VbInterface *iface, const char *name)
{
  for (const VbMethod *m = iface->methods; m != NULL && m->name != NULL; m++)
    {
      if (g_str_equal (m->name, name))
        return m;
    }
  return NULL;
}

static const VbProperty *
find_property (const VbInterface *iface, const char *name)
{
  for (const VbProperty *p = iface->properties; p != NULL && p->name != NULL; p++)
    {
      if (g_str_equal (p->name, name))
        return p;
    }
  return NULL;
}

void
vb_call_forget_memo (VbCall *call)
{
  if (call->memo != NULL)
    call->memo_free (call->memo);
  call->memo = NULL;
  call->memo_free = NULL;
}

GVariant *
vb_call_read_properties (VbCall *call, gboolean boxed_twice)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  call->reading_all = TRUE;
  for (const VbProperty *p = call->iface->properties; p->name != NULL; p++)
    {
      g_autoptr(GError) error = NULL;
      GVariant *value = p->get (call, &error);

      /* As the reference daemon does, a property the driver cannot
       * report is left out rather than failing the whole GetAll. */
      if (value == NULL)
        {
          g_debug ("%s: %s left out: %s", call->iface->name, p->name, error->message);
          continue;
        }
      /* Built without a format string: parsing "{sv}" once per property
       * cost more than reading most of them. */
      if (boxed_twice)
        value = g_variant_new_variant (value);
      g_variant_builder_add_value (
          &builder, g_variant_new_dict_entry (g_variant_new_string (p->name),
                                              g_variant_new_variant (value)));
    }
  call->reading_all = FALSE;
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static GVariant *
get_all_properties (VbCall *call)
{
  g_autoptr(GVariant) properties = vb_call_read_properties (call, TRUE);

  /* Boxed twice, as the reference daemon does on the wire: clients
   * written against it (Cockpit reads "Name.v.v") expect that. */
  return vb_tuple1 (properties);
}

static GVariant *
run_operation (VbPendingCall *pending, GError **error)
{
  VbCall *call = &pending->call;
  GVariant *value;

  switch (pending->operation)
    {
    case VB_OPERATION_METHOD:
      return pending->method->func (call, pending->args, error);
    case VB_OPERATION_GET:
      value = pending->property->get (call, error);
      return value != NULL ? vb_tuple1 (g_variant_new_variant (value)) : NULL;
    case VB_OPERATION_GET_ALL:
      return get_all_properties (call);
    case VB_OPERATION_SET:
      if (!pending->property->set (call, pending->args, error))
        return NULL;
      return g_variant_new ("()");
    default:
      g_assert_not_reached ();
    }
}

/* ---- reused handles (handles.h) ---------------------------------------- */

/* The call's channel's handles, if it is a read that may use them. */
static VbHandles *
call_handles (VbCall *call)
{
  if (!call->reuse_handle || call->iface->ref == NULL || call->segment == NULL ||
      call->virconn == NULL)
    return NULL;
  return vb_conn_handles (call->conn, call->virconn);
}

static gboolean
take_reused_object (VbCall *call)
{
  VbHandles *handles = call_handles (call);

  if (handles == NULL)
    return FALSE;
  call->object = vb_handles_take (handles, call->iface->kind, call->segment, call->iface->ref);
  call->object_reused = call->object != NULL;
  return call->object_reused;
}

/* The call's object, just looked up, for the next calls on its channel. */
static void
keep_object (VbCall *call)
{
  VbHandles *handles = call_handles (call);

  if (handles != NULL)
    vb_handles_keep (handles, call->iface->kind, call->segment,
                     call->iface->ref (call->object), call->iface->release);
}

static void
forget_object (VbCall *call)
{
  VbHandles *handles = call_handles (call);

  if (handles != NULL)
    vb_handles_forget (handles, call->iface->kind, call->segment);
}

/* A call that failed on a reused handle because its object is gone: the
 * handle is forgotten and the call made ready to run again with a lookup
 * (the object may have been removed, or removed and defined again with
 * the same UUID).  Only reads reuse handles, so running again is safe. */
static gboolean
should_run_again (VbCall *call, gboolean failed)
{
  if (!call->object_reused || !failed || !vb_error_libvirt_is_not_found ())
    return FALSE;
  forget_object (call);
  vb_call_forget_memo (call);
  call->iface->release (g_steal_pointer (&call->object));
  call->object_reused = FALSE;
  call->reuse_handle = FALSE;
  return TRUE;
}

/* Connection and object, looked up once per call (before authorization
 * when there is one). */
gboolean
vb_call_resolve_object (VbCall *call, GError **error)
{
  if (call->virconn == NULL)
    {
      call->virconn = vb_conn_acquire (call->conn, error);
      if (call->virconn == NULL)
        return FALSE;
    }
  if (call->iface->lookup == NULL || call->object != NULL)
    return TRUE;
  if (take_reused_object (call))
    return TRUE;
  call->object = call->iface->lookup (call->virconn, call->segment, error);
  if (call->object == NULL)
    return FALSE;
  keep_object (call);
  return TRUE;
}

gboolean
vb_call_refresh_object (VbCall *call, GError **error)
{
  gpointer fresh;

  if (!call->object_reused)
    return TRUE;
  fresh = call->iface->lookup (call->virconn, call->segment, error);
  if (fresh == NULL)
    {
      forget_object (call);
      return FALSE;
    }
  call->iface->release (call->object);
  call->object = fresh;
  call->object_reused = FALSE;
  keep_object (call);
  return TRUE;
}

virStreamPtr
vb_call_new_stream (VbCall *call, GError **error)
{
  virStreamPtr stream = vb_stream_new (call->virconn, error);

  if (stream != NULL)
    call->virconn_streams = TRUE;
  return stream;
}

void
vb_call_release_connection (VbCall *call)
{
  virConnectPtr virconn = g_steal_pointer (&call->virconn);

  if (virconn == NULL)
    return;
  if (call->virconn_streams)
    vb_conn_give_up (call->conn, virconn);
  else
    vb_conn_release (call->conn, virconn);
}

void
vb_call_let_go (VbCall *call)
{
  if (vb_conn_in_process (call->conn) || call->virconn == NULL)
    return;
  if (call->object != NULL)
    {
      vb_call_forget_memo (call);
      call->iface->release (g_steal_pointer (&call->object));
    }
  vb_call_release_connection (call);
}

/* A call that failed because its remote host went away says which. */
static void
name_lost_host (VbCall *call, GError *error)
{
  if (error != NULL && call->virconn != NULL && vb_conn_host_lost (call->conn, call->virconn))
    g_prefix_error (&error, "%s (%s): connection to the host lost: ",
                    vb_conn_get_name (call->conn), vb_conn_get_uri (call->conn));
}

static void
pending_call_free (VbPendingCall *pending)
{
  VbCall *call = &pending->call;

  if (call->object != NULL)
    call->iface->release (call->object);
  vb_call_release_connection (call);
  vb_call_forget_memo (call);
  g_clear_object (&call->out_fds);
  g_clear_object (&call->message);
  g_clear_object (&call->bus);
  g_free (call->segment);
  g_clear_pointer (&pending->args, g_variant_unref);
  vb_gate_clear (pending);
  g_free (pending);
}

/* For calls taken on the fast path: what GDBus's invocation would do. */
static void
reply_to_message (VbCall *call, GVariant *reply, GError *error)
{
  g_autoptr(GVariant) owned_reply = reply != NULL ? g_variant_ref_sink (reply) : NULL;
  g_autoptr(GError) owned_error = error;
  g_autoptr(GDBusMessage) answer = NULL;

  if (g_dbus_message_get_flags (call->message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    return;
  if (owned_reply != NULL)
    {
      answer = g_dbus_message_new_method_reply (call->message);
      g_dbus_message_set_body (answer, owned_reply);
      if (call->out_fds != NULL)
        g_dbus_message_set_unix_fd_list (answer, call->out_fds);
    }
  else
    {
      g_autofree char *name = g_dbus_error_encode_gerror (owned_error);

      answer = g_dbus_message_new_method_error_literal (call->message, name,
                                                        owned_error->message);
    }
  g_dbus_connection_send_message (call->bus, answer, G_DBUS_SEND_MESSAGE_FLAGS_NONE,
                                  NULL, NULL);
}

/* Answers the call (consuming @error) and frees it; any thread. */
void
vb_pending_call_finish (VbPendingCall *pending, GVariant *reply, GError *error)
{
  GDBusMethodInvocation *invocation = pending->call.invocation;

  if (invocation == NULL)
    reply_to_message (&pending->call, reply, error);
  else if (reply != NULL && pending->call.out_fds != NULL)
    g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, reply,
                                                             pending->call.out_fds);
  else if (reply != NULL)
    g_dbus_method_invocation_return_value (invocation, reply);
  else
    g_dbus_method_invocation_take_error (invocation, error);
  pending_call_free (pending);
  g_atomic_int_dec_and_test (&calls_in_flight);
}

/* A call that may have changed its object: libvirt reports some changes
 * (lifecycle events) but not all (autostart, memory of a stopped domain,
 * ...), so subscribers hear of these from here. */
static gboolean
call_may_change_object (VbPendingCall *pending)
{
  const char *verb;

  if (pending->call.object == NULL || pending->operation == VB_OPERATION_GET ||
      pending->operation == VB_OPERATION_GET_ALL)
    return FALSE;
  if (pending->operation == VB_OPERATION_SET)
    return TRUE;
  verb = strchr (pending->method->permission, ':') + 1;
  return !g_str_equal (verb, "read") && !g_str_equal (verb, "getattr") &&
         !g_str_has_prefix (verb, "search-");
}

VbCost
vb_pending_call_cost (VbPendingCall *pending)
{
  switch (pending->operation)
    {
    case VB_OPERATION_METHOD:
      return pending->method->cost;
    case VB_OPERATION_SET:
      return VB_COST_CHEAP;
    default:
      return pending->call.iface->get_cost;
    }
}

/* A slow call in a driver inside virtbusd may hold its object's lock in
 * libvirt for as long as it runs (a CoreDump into a FIFO nobody reads, a
 * Save): while one runs, nothing is answered in place, since a call there
 * waiting for that lock would stop GDBus's thread, and with it every
 * caller.  The two counters are a Dekker handshake (sequentially
 * consistent atomics): a call answered in place either sees the slow call
 * and goes to the workers, or is seen by it and finishes first. */
static void
begin_slow_in_process_call (void)
{
  g_atomic_int_inc (&slow_in_process_calls);
  while (g_atomic_int_get (&in_place_calls) != 0)
    g_thread_yield ();
}

static void
end_slow_in_process_call (void)
{
  g_atomic_int_dec_and_test (&slow_in_process_calls);
}

static gboolean
is_slow_in_process_call (VbPendingCall *pending)
{
  return vb_pending_call_cost (pending) == VB_COST_SLOW &&
         vb_conn_in_process (pending->call.conn);
}

void
vb_pending_call_run (VbPendingCall *pending)
{
  gboolean slow_in_process = is_slow_in_process_call (pending);
  VbConn *conn = pending->call.conn;
  const VbInterface *iface = pending->call.iface;
  gpointer changed = NULL;
  GError *error = NULL;
  GVariant *reply = NULL;

  if (slow_in_process)
    begin_slow_in_process_call ();
  if (vb_call_resolve_object (&pending->call, &error))
    reply = run_operation (pending, &error);
  if (should_run_again (&pending->call, reply == NULL))
    {
      g_clear_error (&error);
      if (vb_call_resolve_object (&pending->call, &error))
        reply = run_operation (pending, &error);
    }
  if (slow_in_process)
    end_slow_in_process_call ();
  /* Before the authorization of a list's elements, which may wait on
   * polkit: the connection is for the next call meanwhile. */
  name_lost_host (&pending->call, error);
  vb_call_release_connection (&pending->call);
  if (reply != NULL && pending->call.listed != NULL)
    {
      vb_gate_filter_list_reply (pending, reply);
      return;
    }
  if (reply != NULL && call_may_change_object (pending))
    changed = g_steal_pointer (&pending->call.object);
  vb_pending_call_finish (pending, reply, error);
  /* After the reply, so that the thread reading the object's new state
   * does not compete with it (nor with libvirt's event for the change). */
  if (changed != NULL)
    vb_changes_notify (conn, iface, changed, VB_CHANGE_UPDATED);
}

static void
run_pending_call (gpointer data)
{
  vb_pending_call_run (data);
}

void
vb_pending_call_dispatch (VbPendingCall *pending)
{
  vb_workers_push (pending->call.conn, vb_pending_call_cost (pending), run_pending_call,
                   pending);
}

/* ---- main loop side --------------------------------------------------- */

gboolean
vb_bus_is_stopping (void)
{
  return stopping;
}

GError *
vb_bus_stopping_error (void)
{
  return g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                              "virtbusd is stopping");
}

/* @segment: the object's path element, NULL for the connection object. */
static VbPendingCall *
pending_call_new (GDBusConnection *bus, GDBusMessage *message, VbConn *conn,
                  const VbInterface *iface, const char *segment)
{
  VbPendingCall *pending = g_new0 (VbPendingCall, 1);

  pending->call.message = g_object_ref (message);
  pending->call.bus = g_object_ref (bus);
  pending->call.conn = conn;
  pending->call.iface = iface;
  pending->call.segment = g_strdup (segment);
  return pending;
}

static gboolean
prepare_property_call (VbPendingCall *pending, const char *member,
                       GVariant *parameters, GError **error)
{
  g_autoptr(GVariant) name = NULL;
  const char *property_name;

  if (g_str_equal (member, "GetAll"))
    {
      pending->operation = VB_OPERATION_GET_ALL;
      return TRUE;
    }

  /* Both dispatch paths checked "(ss)" or "(ssv)" already. */
  pending->operation = g_str_equal (member, "Get") ? VB_OPERATION_GET : VB_OPERATION_SET;
  name = g_variant_get_child_value (parameters, 1);
  property_name = g_variant_get_string (name, NULL);
  if (pending->operation == VB_OPERATION_SET)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (parameters, 2);

      pending->args = g_variant_get_variant (boxed);
    }

  /* GDBus already checked that the property exists and is readable or
   * writable as its introspection says. */
  pending->property = find_property (pending->call.iface, property_name);
  if (pending->property == NULL ||
      (pending->operation == VB_OPERATION_SET && pending->property->set == NULL))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NOT_SUPPORTED,
                   "virtbus does not implement property %s.%s yet",
                   pending->call.iface->name, property_name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare_method_call (VbPendingCall *pending, const char *member,
                     GVariant *parameters, GError **error)
{
  pending->operation = VB_OPERATION_METHOD;
  pending->method = find_method (pending->call.iface, member);
  if (pending->method == NULL || pending->method->func == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NOT_SUPPORTED,
                   "virtbus does not implement %s.%s yet",
                   pending->call.iface->name, member);
      return FALSE;
    }
  pending->args = g_variant_ref (parameters);
  return TRUE;
}

static void
on_caller_identified (GObject *source, GAsyncResult *result, gpointer data)
{
  VbPendingCall *pending = data;
  GError *error = NULL;
  VbCallerKind kind = vb_authz_identify_caller_finish (result, &error);

  if (kind == VB_CALLER_UNKNOWN)
    vb_pending_call_finish (pending, NULL, error);
  else if (stopping)
    vb_pending_call_finish (pending, NULL, vb_bus_stopping_error ());
  else if (kind == VB_CALLER_TRUSTED)
    vb_pending_call_dispatch (pending);
  else
    vb_gate_authorize (pending, FALSE);
}

static void
authorize_call (VbPendingCall *pending, const char *sender)
{
  switch (vb_authz_lookup_caller (sender))
    {
    case VB_CALLER_TRUSTED:
      vb_pending_call_dispatch (pending);
      break;
    case VB_CALLER_USER:
      vb_gate_authorize (pending, FALSE);
      break;
    default:
      vb_authz_identify_caller_async (sender, on_caller_identified, pending);
      break;
    }
}

/* Reads (Properties.Get, methods that need only read or getattr and are
 * not slow) may run on a reused handle, and again when it turned out
 * stale: see handles.h.  The gate takes this back for callers polkit
 * judges, whose checks describe the object by its current name. */
static gboolean
is_read (VbPendingCall *pending)
{
  const char *verb;

  switch (pending->operation)
    {
    case VB_OPERATION_GET:
      return TRUE;
    case VB_OPERATION_GET_ALL:
      /* Reads the handle's name and ID (a domain's), which would then cost
       * a lookup anyway. */
      return FALSE;
    case VB_OPERATION_METHOD:
      verb = strchr (pending->method->permission, ':') + 1;
      return pending->method->cost != VB_COST_SLOW &&
             (g_str_equal (verb, "read") || g_str_equal (verb, "getattr"));
    default:
      return FALSE;
    }
}

/* Counts the call and finds its table entry; FALSE when it has been
 * answered already (a member the table lacks). */
static gboolean
accept_call (VbPendingCall *pending, const char *interface_name, const char *member,
             GVariant *parameters)
{
  GError *error = NULL;
  gboolean prepared;

  g_atomic_int_inc (&calls_received);
  g_atomic_int_inc (&calls_in_flight);
  if (g_str_equal (interface_name, PROPERTIES_INTERFACE))
    prepared = prepare_property_call (pending, member, parameters, &error);
  else
    prepared = prepare_method_call (pending, member, parameters, &error);
  if (!prepared)
    vb_pending_call_finish (pending, NULL, error);
  else
    pending->call.reuse_handle = is_read (pending);
  return prepared;
}

static void
on_method_call (GDBusConnection *bus, const char *sender,
                const char *object_path, const char *interface_name,
                const char *member, GVariant *parameters,
                GDBusMethodInvocation *invocation, gpointer user_data)
{
  VbExport *export = user_data;
  VbPendingCall *pending = pending_call_new (
      bus, g_dbus_method_invocation_get_message (invocation), export->conn, export->iface,
      export->iface->kind != NULL ? strrchr (object_path, '/') + 1 : NULL);

  pending->call.invocation = invocation;
  if (!accept_call (pending, interface_name, member, parameters))
    return;
  if (polkit_enabled)
    authorize_call (pending, sender);
  else
    vb_pending_call_dispatch (pending);
}

/* get_property and set_property are NULL so that GDBus routes
 * Properties.Get/GetAll/Set to on_method_call, which defers them to a
 * worker instead of blocking the main loop. */
static const GDBusInterfaceVTable interface_vtable = {
  .method_call = on_method_call,
};

/* Objects are not enumerated: that would need libvirt on the main loop.
 * Every child node is dispatched on demand. */
static char **
on_subtree_enumerate (GDBusConnection *bus, const char *sender,
                      const char *object_path, gpointer user_data)
{
  return g_new0 (char *, 1);
}

static GDBusInterfaceInfo **
on_subtree_introspect (GDBusConnection *bus, const char *sender,
                       const char *object_path, const char *node,
                       gpointer user_data)
{
  VbExport *export = user_data;
  GDBusInterfaceInfo **infos;

  if (node == NULL)
    return NULL;

  infos = g_new0 (GDBusInterfaceInfo *, 2);
  infos[0] = g_dbus_interface_info_ref (export->info);
  return infos;
}

static const GDBusInterfaceVTable *
on_subtree_dispatch (GDBusConnection *bus, const char *sender,
                     const char *object_path, const char *interface_name,
                     const char *node, gpointer *out_user_data,
                     gpointer user_data)
{
  VbExport *export = user_data;

  if (node == NULL || !g_str_equal (interface_name, export->iface->name))
    return NULL;

  *out_user_data = export;
  return &interface_vtable;
}

static const GDBusSubtreeVTable subtree_vtable = {
  .enumerate = on_subtree_enumerate,
  .introspect = on_subtree_introspect,
  .dispatch = on_subtree_dispatch,
};

static gboolean
export_interface (GDBusConnection *bus, VbConn *conn, const VbInterface *iface,
                  GError **error)
{
  VbExport *export = g_new0 (VbExport, 1);

  export->conn = conn;
  export->iface = iface;
  export->info = vb_introspection_lookup (iface->name);
  if (export->info == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "no introspection data for %s", iface->name);
      g_free (export);
      return FALSE;
    }

  if (iface->kind == NULL)
    {
      export->registration_id = g_dbus_connection_register_object (
          bus, vb_conn_get_path (conn), export->info, &interface_vtable,
          export, NULL, error);
    }
  else
    {
      g_autofree char *root = g_strconcat (vb_conn_get_path (conn), "/",
                                           iface->kind, NULL);

      export->registration_id = g_dbus_connection_register_subtree (
          bus, root, &subtree_vtable,
          G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES, export, NULL,
          error);
    }

  if (export->registration_id == 0)
    {
      g_free (export);
      return FALSE;
    }
  g_ptr_array_add (exports, export);
  return TRUE;
}

/* The connection serving @path (a connection path, or <connection
 * path>/<kind>/<node>), NULL if none; @kind and @segment point into @path
 * (NULL for a connection path; @kind up to the next '/'). */
static VbConn *
split_object_path (const char *path, const char **kind, const char **segment)
{
  g_autofree char *connection_path = NULL;
  const char *node_slash, *kind_slash;
  VbConn *conn = g_hash_table_lookup (served_paths, path);

  *kind = *segment = NULL;
  if (conn != NULL)
    return conn;
  node_slash = strrchr (path, '/');
  if (node_slash == NULL || node_slash[1] == '\0' || node_slash == path)
    return NULL;
  kind_slash = g_strrstr_len (path, node_slash - path, "/");
  if (kind_slash == NULL)
    return NULL;
  connection_path = g_strndup (path, (gsize) (kind_slash - path));
  conn = g_hash_table_lookup (served_paths, connection_path);
  if (conn != NULL)
    {
      *kind = kind_slash + 1;
      *segment = node_slash + 1;
    }
  return conn;
}

/* The interface table named @name for object kind @kind (a string running
 * up to '/'; NULL: the connection object), or NULL. */
static const VbInterface *
find_served_interface (const char *kind, const char *name)
{
  gsize kind_length = kind != NULL ? (gsize) (strchr (kind, '/') - kind) : 0;

  for (const VbInterface *const *i = all_interfaces; *i != NULL; i++)
    {
      const char *k = (*i)->kind;

      if ((name == NULL || g_str_equal ((*i)->name, name)) &&
          (kind == NULL ? k == NULL
                        : k != NULL && strlen (k) == kind_length &&
                              strncmp (k, kind, kind_length) == 0))
        return *i;
    }
  return NULL;
}

/* A path we serve: a connection path, or <connection path>/<kind>/<node>
 * with a kind we have. */
static gboolean
path_is_served (const char *path)
{
  const char *kind, *segment;

  if (split_object_path (path, &kind, &segment) == NULL)
    return FALSE;
  return kind == NULL || find_served_interface (kind, NULL) != NULL;
}

/* ---- the fast path: calls taken on GDBus's worker thread ---------------- */

/* The table serving @iface_name at @path, with the connection and the
 * object's path element; NULL when @path is not ours or lacks it. */
static const VbInterface *
resolve_target (const char *path, const char *iface_name, VbConn **conn,
                const char **segment)
{
  const char *kind;

  *conn = split_object_path (path, &kind, segment);
  return *conn != NULL ? find_served_interface (kind, iface_name) : NULL;
}

/* The arguments' type is "(" + the in-arguments' signatures + ")". */
static gboolean
method_signature_matches (GDBusInterfaceInfo *info, const char *member,
                          GVariant *parameters)
{
  GDBusMethodInfo *method = g_dbus_interface_info_lookup_method (info, member);
  const char *actual = g_variant_get_type_string (parameters);

  if (method == NULL || *actual++ != '(')
    return FALSE;
  for (GDBusArgInfo **arg = method->in_args; arg != NULL && *arg != NULL; arg++)
    {
      gsize length = strlen ((*arg)->signature);

      if (strncmp (actual, (*arg)->signature, length) != 0)
        return FALSE;
      actual += length;
    }
  return g_str_equal (actual, ")");
}

/* What GDBus would check before dispatching a Properties call. */
static gboolean
property_call_is_valid (GDBusInterfaceInfo *info, const char *member,
                        GVariant *parameters)
{
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) value = NULL;
  GDBusPropertyInfo *property;

  /* GDBus answers for an interface without properties itself. */
  if (info->properties == NULL || info->properties[0] == NULL)
    return FALSE;
  if (g_str_equal (member, "GetAll"))
    return g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(s)"));
  if (g_str_equal (member, "Get") && g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)")))
    {
      name = g_variant_get_child_value (parameters, 1);
      property = g_dbus_interface_info_lookup_property (info, g_variant_get_string (name, NULL));
      return property != NULL && (property->flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE);
    }
  if (g_str_equal (member, "Set") && g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssv)")))
    {
      name = g_variant_get_child_value (parameters, 1);
      boxed = g_variant_get_child_value (parameters, 2);
      value = g_variant_get_variant (boxed);
      property = g_dbus_interface_info_lookup_property (info, g_variant_get_string (name, NULL));
      return property != NULL && (property->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE) &&
             g_str_equal (g_variant_get_type_string (value), property->signature);
    }
  return FALSE;
}

/* Child @index of @tuple, or NULL if @tuple has no such child of @type.
 * (Format strings cost more than the rest of a cheap call: the hot path
 * reads its arguments with this.) */
static GVariant *
typed_child (GVariant *tuple, gsize index, const GVariantType *type)
{
  GVariant *child;

  if (g_variant_n_children (tuple) <= index)
    return NULL;
  child = g_variant_get_child_value (tuple, index);
  if (!g_variant_is_of_type (child, type))
    g_clear_pointer (&child, g_variant_unref);
  return child;
}

/* An INSTANT call (a read of one object) to a driver inside virtbusd is
 * answered here, on GDBus's thread: libvirt answers it from memory in
 * microseconds, while handing it to a worker and its reply back costs two
 * thread wake-ups, several times the call itself.  Not while a slow call
 * runs in such a driver (see begin_slow_in_process_call), nor while the
 * connection is being opened.  FALSE: not answered, for the workers. */
gboolean
vb_bus_run_in_place (VbPendingCall *pending, void (*func) (VbPendingCall *pending))
{
  VbCall *call = &pending->call;

  if (vb_pending_call_cost (pending) != VB_COST_INSTANT || !vb_conn_in_process (call->conn))
    return FALSE;
  g_atomic_int_inc (&in_place_calls);
  if (g_atomic_int_get (&slow_in_process_calls) == 0)
    call->virconn = vb_conn_try_acquire (call->conn);
  if (call->virconn == NULL)
    {
      g_atomic_int_dec_and_test (&in_place_calls);
      return FALSE;
    }
  func (pending);
  g_atomic_int_dec_and_test (&in_place_calls);
  return TRUE;
}

/* Takes a well-formed call to one of our objects straight to the workers,
 * without the hop through the main loop that GDBus's dispatch makes; a
 * caller polkit judges goes through the gate, which decides from reused
 * answers without the main loop when it can.  Anything else (unknown
 * members, wrong signatures, callers not identified yet) is left to
 * GDBus, which answers or dispatches it as usual. */
static gboolean
take_call (GDBusConnection *bus, GDBusMessage *message, const char *iface_name,
           const char *path)
{
  const char *member = g_dbus_message_get_member (message);
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr(GVariant) parameters = body != NULL ? g_variant_ref (body)
                                                : g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  g_autoptr(GVariant) target_name = NULL;
  gboolean is_properties = g_str_equal (iface_name, PROPERTIES_INTERFACE);
  const char *target = iface_name;
  const VbInterface *iface;
  GDBusInterfaceInfo *info;
  VbPendingCall *pending;
  VbCallerKind caller;
  VbConn *conn;
  const char *segment;

  if (member == NULL || stopping)
    return FALSE;
  if (is_properties)
    {
      target_name = typed_child (parameters, 0, G_VARIANT_TYPE_STRING);
      if (target_name == NULL)
        return FALSE;
      target = g_variant_get_string (target_name, NULL);
    }
  iface = resolve_target (path, target, &conn, &segment);
  info = iface != NULL ? vb_introspection_lookup (iface->name) : NULL;
  if (info == NULL ||
      !(is_properties ? property_call_is_valid (info, member, parameters)
                      : method_signature_matches (info, member, parameters)))
    return FALSE;
  caller = polkit_enabled ? vb_authz_lookup_caller (g_dbus_message_get_sender (message))
                         : VB_CALLER_TRUSTED;
  if (caller == VB_CALLER_UNKNOWN)
    return FALSE;

  pending = pending_call_new (bus, message, conn, iface, segment);
  if (!accept_call (pending, iface_name, member, parameters))
    return TRUE;
  if (caller == VB_CALLER_USER)
    vb_gate_authorize (pending, TRUE);
  else if (!vb_bus_run_in_place (pending, vb_pending_call_run))
    vb_pending_call_dispatch (pending);
  return TRUE;
}

static void
reply_unknown_object (GDBusConnection *bus, GDBusMessage *message, const char *path)
{
  g_autoptr(GDBusMessage) reply = NULL;

  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    return;
  reply = g_dbus_message_new_method_error (message, "org.freedesktop.DBus.Error.UnknownObject",
                                           "No object at path %s", path);
  g_dbus_connection_send_message (bus, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
}

/* Runs on GDBus's worker thread for every incoming message and only reads
 * data that is immutable while exported.  Calls to our interfaces on paths
 * we do not serve get the precise UnknownObject (GDBus would answer
 * UnknownMethod); well-formed calls to our objects are taken here. */
static GDBusMessage *
call_filter (GDBusConnection *bus, GDBusMessage *message, gboolean incoming,
             gpointer user_data)
{
  const char *interface_name;
  const char *path;

  if (!incoming ||
      g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;

  interface_name = g_dbus_message_get_interface (message);
  path = g_dbus_message_get_path (message);
  if (interface_name == NULL || path == NULL)
    return message;
  if (g_str_has_prefix (interface_name, "org.libvirt.") && !path_is_served (path))
    reply_unknown_object (bus, message, path);
  else if (!take_call (bus, message, interface_name, path))
    return message;
  g_object_unref (message);
  return NULL;
}

guint
vb_bus_calls_in_flight (void)
{
  return (guint) g_atomic_int_get (&calls_in_flight);
}

guint
vb_bus_calls_received (void)
{
  return (guint) g_atomic_int_get (&calls_received);
}

gboolean
vb_bus_export (GDBusConnection *bus, GPtrArray *conns, const VbAuthzSettings *authz,
               GError **error)
{
  g_return_val_if_fail (exports == NULL, FALSE);

  polkit_enabled = authz != NULL;
  stopping = FALSE;
  if (polkit_enabled)
    vb_authz_init (bus, authz);
  vb_changes_init ();
  exports = g_ptr_array_new_with_free_func (g_free);
  served_paths = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < conns->len; i++)
    {
      VbConn *conn = g_ptr_array_index (conns, i);

      g_hash_table_insert (served_paths, (char *) vb_conn_get_path (conn), conn);
      for (const VbInterface *const *iface = all_interfaces; *iface != NULL; iface++)
        {
          if (!export_interface (bus, conn, *iface, error))
            return FALSE;
        }
    }
  /* Added last: from here on served_paths is only read, from any thread. */
  call_filter_id = g_dbus_connection_add_filter (bus, call_filter, NULL, NULL);
  return TRUE;
}

void
vb_bus_unexport_all (GDBusConnection *bus)
{
  if (exports == NULL)
    return;

  stopping = TRUE;
  vb_changes_shutdown ();
  for (guint i = 0; i < exports->len; i++)
    {
      VbExport *export = g_ptr_array_index (exports, i);

      if (export->iface->kind == NULL)
        g_dbus_connection_unregister_object (bus, export->registration_id);
      else
        g_dbus_connection_unregister_subtree (bus, export->registration_id);
    }
  if (call_filter_id != 0)
    g_dbus_connection_remove_filter (bus, call_filter_id);
  call_filter_id = 0;
  g_clear_pointer (&exports, g_ptr_array_unref);
}

/* Calls still waiting for the caller's identity or for polkit are answered
 * (with an error: the service is stopping) and freed. */
static void
finish_waiting_calls (void)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  vb_authz_shutdown ();
  while (vb_bus_calls_in_flight () > 0 && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}

void
vb_bus_release (void)
{
  if (polkit_enabled)
    finish_waiting_calls ();
  g_clear_pointer (&served_paths, g_hash_table_unref);
}
