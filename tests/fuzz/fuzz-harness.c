#include "fuzz-harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libvirt/virterror.h>

#include "conn.h"
#include "introspection.h"
#include "objects.h"

static VbConn *fuzz_conn;
static virConnectPtr host;
static char *host_uri;
/* VbInterface -> GPtrArray of path elements */
static GHashTable *segments;

void
vb_fuzz_fail (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  fputs ("virtbus fuzz finding: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  abort ();
}

/* libvirt reports every failure here as well; the targets read the
 * error from virGetLastError(), as the daemon does. */
static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static gpointer
run_libvirt_events (gpointer data)
{
  for (;;)
    {
      if (virEventRunDefaultImpl () < 0)
        g_usleep (1000);
    }
  return NULL;
}

/* VbConn wants a bus to emit signals on; nothing here emits any, so one
 * end of a socket pair with nobody at the other does. */
static GDBusConnection *
unconnected_bus (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  GDBusConnection *bus;
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    vb_fuzz_fail ("socketpair: %s", g_strerror (errno));
  socket = g_socket_new_from_fd (pair[0], &error);
  if (socket == NULL)
    vb_fuzz_fail ("g_socket_new_from_fd: %s", error->message);
  stream = g_socket_connection_factory_create_connection (socket);
  bus = g_dbus_connection_new_sync (G_IO_STREAM (stream), NULL, G_DBUS_CONNECTION_FLAGS_NONE,
                                    NULL, NULL, &error);
  if (bus == NULL)
    vb_fuzz_fail ("g_dbus_connection_new_sync: %s", error->message);
  /* pair[1] stays open (and unread) for as long as the process runs. */
  return bus;
}

static GPtrArray *
segments_of (const VbInterface *iface)
{
  GPtrArray *list = g_hash_table_lookup (segments, iface);

  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (segments, (gpointer) iface, list);
    }
  return list;
}

/* Takes @object. */
static void
add_segment (const VbInterface *iface, gpointer object)
{
  g_autofree char *path = iface->path (fuzz_conn, object);

  if (path != NULL)
    g_ptr_array_add (segments_of (iface), g_strdup (strrchr (path, '/') + 1));
  iface->release (object);
}

static void
add_object_and_children (const VbInterface *iface, gpointer object, gpointer data)
{
  virDomainSnapshotPtr *snapshots = NULL;
  virStorageVolPtr *volumes = NULL;
  int n;

  if (object == NULL)
    return;
  if (iface == &vb_domain_interface)
    {
      n = virDomainListAllSnapshots (object, &snapshots, 0);
      for (int i = 0; i < n; i++)
        add_segment (&vb_domain_snapshot_interface, snapshots[i]);
      free (snapshots);
    }
  if (iface == &vb_storage_pool_interface)
    {
      n = virStoragePoolListAllVolumes (object, &volumes, 0);
      for (int i = 0; i < n; i++)
        add_segment (&vb_storage_vol_interface, volumes[i]);
      free (volumes);
    }
  add_segment (iface, object);
}

static void
collect_segments (void)
{
  static const char *const nobody[] = {
    "_", "_00000000_0000_0000_0000_000000000000", "x_zz",
  };

  segments = g_hash_table_new (NULL, NULL);
  vb_object_manager_each (host, add_object_and_children, NULL);
  virResetLastError ();
  for (const VbInterface *const *iface = vb_bus_interfaces (); *iface != NULL; iface++)
    {
      if ((*iface)->kind == NULL)
        continue;
      for (gsize i = 0; i < G_N_ELEMENTS (nobody); i++)
        g_ptr_array_add (segments_of (*iface), g_strdup (nobody[i]));
    }
}

GPtrArray *
vb_fuzz_segments (const VbInterface *iface)
{
  return g_hash_table_lookup (segments, iface);
}

void
vb_fuzz_init (void)
{
  const char *file = g_getenv ("VB_FUZZ_HOST");
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
  virSetErrorFunc (NULL, ignore_libvirt_error);
  if (virInitialize () < 0 || virEventRegisterDefaultImpl () < 0)
    vb_fuzz_fail ("cannot initialize libvirt: %s", virGetLastErrorMessage ());
  g_thread_unref (g_thread_new ("fuzz-libvirt-events", run_libvirt_events, NULL));
  if (!vb_introspection_load (&error))
    vb_fuzz_fail ("%s", error->message);

  host_uri = g_strconcat ("test://", file != NULL ? file : VB_FUZZ_HOST_FILE, NULL);
  bus = unconnected_bus ();
  fuzz_conn = vb_conn_new (bus, "Fuzz", host_uri);
  vb_fuzz_reset_host ();
  collect_segments ();
}

VbConn *
vb_fuzz_conn (void)
{
  return fuzz_conn;
}

virConnectPtr
vb_fuzz_virconn (void)
{
  return host;
}

void
vb_fuzz_reset_host (void)
{
  if (host != NULL)
    {
      /* libvirt 9's test driver forgets, when the connection closes, the
       * copy of the host interfaces an InterfaceChangeBegin kept: ending
       * the transaction frees it (an error when none runs). */
      if (virInterfaceChangeCommit (host, 0) < 0)
        virResetLastError ();
      virConnectClose (host);
    }
  host = virConnectOpen (host_uri);
  if (host == NULL)
    vb_fuzz_fail ("cannot open %s: %s", host_uri, virGetLastErrorMessage ());
}

/* ---- checks ------------------------------------------------------------- */

static void
check_handles (const char *what, GVariant *value, int n_fds)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_HANDLE))
    {
      gint32 handle = g_variant_get_handle (value);

      if (handle < 0 || handle >= n_fds)
        vb_fuzz_fail ("%s: reply names fd %d, the reply carries %d", what, handle, n_fds);
      return;
    }
  if (g_variant_is_container (value))
    {
      gsize n = g_variant_n_children (value);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          check_handles (what, child, n_fds);
        }
    }
}

/* Serialized as GDBus would send it; fails where GDBus would refuse. */
static void
check_sendable (const char *what, GDBusMessage *answer)
{
  g_autoptr(GError) error = NULL;
  gsize size = 0;
  g_autofree guchar *blob = g_dbus_message_to_blob (answer, &size,
                                                    G_DBUS_CAPABILITY_FLAGS_UNIX_FD_PASSING,
                                                    &error);

  if (blob == NULL)
    vb_fuzz_fail ("%s: the answer cannot be sent: %s", what, error->message);
}

static GDBusMessage *
call_message (void)
{
  GDBusMessage *message = g_dbus_message_new_method_call ("org.libvirt", "/org/libvirt/Fuzz",
                                                          "org.libvirt.Fuzz", "Call");

  g_dbus_message_set_serial (message, 1);
  return message;
}

void
vb_fuzz_check_answer (const char *what, GVariant *reply, const GVariantType *reply_type,
                      GUnixFDList *out_fds, const GError *error)
{
  g_autoptr(GDBusMessage) message = call_message ();
  g_autoptr(GDBusMessage) answer = NULL;

  if (reply != NULL && error != NULL)
    vb_fuzz_fail ("%s: both a reply and an error (%s)", what, error->message);
  if (reply == NULL && error == NULL)
    vb_fuzz_fail ("%s: neither a reply nor an error", what);

  if (reply != NULL)
    {
      if (!g_variant_is_of_type (reply, reply_type))
        {
          g_autofree char *expected = g_variant_type_dup_string (reply_type);

          vb_fuzz_fail ("%s: reply of type %s, the interface says %s", what,
                        g_variant_get_type_string (reply), expected);
        }
      check_handles (what, reply, out_fds != NULL ? g_unix_fd_list_get_length (out_fds) : 0);
      answer = g_dbus_message_new_method_reply (message);
      g_dbus_message_set_body (answer, reply);
      if (out_fds != NULL)
        g_dbus_message_set_unix_fd_list (answer, out_fds);
      check_sendable (what, answer);
      return;
    }

  {
    g_autofree char *name = g_dbus_error_encode_gerror (error);

    if (!g_str_has_prefix (name, "org.freedesktop.DBus.Error.") &&
        !g_str_equal (name, "org.libvirt.Error"))
      vb_fuzz_fail ("%s: error %s (%s, code %d): %s", what, name,
                    g_quark_to_string (error->domain), error->code, error->message);
    if (!g_utf8_validate (error->message, -1, NULL))
      vb_fuzz_fail ("%s: error %s with a message that is not UTF-8: %s", what, name,
                    error->message);
    if (*error->message == '\0')
      vb_fuzz_fail ("%s: error %s with an empty message", what, name);
    answer = g_dbus_message_new_method_error_literal (message, name, error->message);
    check_sendable (what, answer);
  }
}

void
vb_fuzz_check_details (const char *what, GHashTable *details)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, details);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!g_utf8_validate (key, -1, NULL) || !g_utf8_validate (value, -1, NULL))
        vb_fuzz_fail ("%s: polkit detail %s is not UTF-8: %s", what, (const char *) key,
                      (const char *) value);
    }
}

/* ---- fuzzed values ------------------------------------------------------ */

GVariant *
vb_fuzz_variant (const GVariantType *type, const guint8 *data, gsize size)
{
  /* A copy: GVariant wants its data aligned, libFuzzer's is not. */
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) serialized = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes,
                                                                                  FALSE));

  return g_variant_get_normal_form (serialized);
}

char *
vb_fuzz_string (const guint8 *data, gsize size)
{
  return g_strndup ((const char *) data, size);
}
