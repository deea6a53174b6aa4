/* Helpers for the object files' handlers (bus.h): results from libvirt's
 * return values, path segments, object paths and object replies. */
#include "bus.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "libvirt-glib-compat.h"
#include "paths.h"

/* ---- helpers for object files ------------------------------------------ */

const char *
vb_arg_string (GVariant *args, gsize index)
{
  g_autoptr(GVariant) child = g_variant_get_child_value (args, index);

  return g_variant_get_string (child, NULL);
}

guint32
vb_arg_uint32 (GVariant *args, gsize index)
{
  g_autoptr(GVariant) child = g_variant_get_child_value (args, index);

  return g_variant_get_uint32 (child);
}

GVariant *
vb_tuple1 (GVariant *value)
{
  return g_variant_new_tuple (&value, 1);
}

GVariant *
vb_libvirt_failed (GError **error)
{
  vb_error_set_from_libvirt (error);
  return NULL;
}

GVariant *
vb_unit_result (int rc, GError **error)
{
  if (rc < 0)
    return vb_libvirt_failed (error);
  return g_variant_new ("()");
}

int *
vb_call_fds_from_handles (VbCall *call, GVariant *handles, guint *n_fds,
                          GError **error)
{
  GDBusMessage *message = call->message;
  GUnixFDList *fd_list = g_dbus_message_get_unix_fd_list (message);
  gint n_available = fd_list != NULL ? g_unix_fd_list_get_length (fd_list) : 0;
  const gint *available = fd_list != NULL ? g_unix_fd_list_peek_fds (fd_list, NULL) : NULL;
  gsize n_handles = 0;
  const gint32 *indexes = g_variant_get_fixed_array (handles, &n_handles, sizeof (gint32));
  g_autofree int *fds = g_new0 (int, MAX (n_handles, 1));

  for (gsize i = 0; i < n_handles; i++)
    {
      if (indexes[i] < 0 || indexes[i] >= n_available)
        {
          vb_invalid_args (error, "File descriptor handle %d is not in the message",
                           indexes[i]);
          return NULL;
        }
      fds[i] = available[indexes[i]];
    }
  *n_fds = (guint) n_handles;
  return g_steal_pointer (&fds);
}

GVariant *
vb_boolean_result (int value, GError **error)
{
  if (value < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_boolean (value != 0);
}

GVariant *
vb_string_result (const char *str, GError **error)
{
  if (str == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new_string (str);
}

GVariant *
vb_owned_string_result (char *str, GError **error)
{
  g_autofree char *owned = str;

  return vb_string_result (owned, error);
}

GVariant *
vb_object_path_result (char *path, GError **error)
{
  g_autofree char *owned = path;

  if (owned == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new_object_path (owned);
}

gpointer
vb_lookup_failed (GError **error)
{
  virErrorPtr last = virGetLastError ();

  if (vb_error_libvirt_is_not_found ())
    {
      g_autofree char *message =
          g_utf8_make_valid (last->message != NULL ? last->message : "No such object", -1);

      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT, message);
    }
  else
    vb_error_set_from_libvirt (error);
  return NULL;
}

gpointer
vb_malformed_segment (const char *segment, GError **error)
{
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT,
               "No object is named '%s' in this object path", segment);
  return NULL;
}

gboolean
vb_segment_to_uuid (const char *segment, char uuid[VIR_UUID_STRING_BUFLEN],
                    GError **error)
{
  if (!vb_path_decode_uuid (segment, uuid))
    {
      vb_malformed_segment (segment, error);
      return FALSE;
    }
  return TRUE;
}

char *
vb_segment_to_string (const char *segment, GError **error)
{
  char *decoded = vb_path_unescape (segment);

  /* No libvirt object has a name that is not UTF-8 (its XML is), and
   * libvirt's "not found" message would quote the bytes into a D-Bus
   * error, which must be UTF-8. */
  if (decoded != NULL && !g_utf8_validate (decoded, -1, NULL))
    g_clear_pointer (&decoded, g_free);
  if (decoded == NULL)
    vb_malformed_segment (segment, error);
  return decoded;
}

void
vb_details_add (GHashTable *details, const char *key, const char *value)
{
  if (value != NULL)
    g_hash_table_insert (details, (char *) key, g_strdup (value));
}

char *
vb_uuid_object_path (VbConn *conn, const char *kind, const char *uuid)
{
  g_autofree char *segment = vb_path_encode_uuid (uuid);

  return vb_path_join (vb_conn_get_path (conn), kind, segment);
}

char *
vb_string_object_path (VbConn *conn, const char *kind, const char *id)
{
  g_autofree char *segment = vb_path_escape (id);

  return vb_path_join (vb_conn_get_path (conn), kind, segment);
}

GVariant *
vb_object_reply (VbCall *call, const VbInterface *iface, gpointer object,
                 GError **error)
{
  g_autofree char *path = NULL;

  if (object == NULL)
    return vb_libvirt_failed (error);
  path = iface->path (call->conn, object);
  iface->release (object);
  if (path == NULL)
    return vb_libvirt_failed (error);
  return vb_tuple1 (g_variant_new_object_path (path));
}

GVariant *
vb_object_list_reply (VbCall *call, const VbInterface *iface,
                      gpointer *objects, int n_objects, GError **error)
{
  GVariantBuilder builder;

  if (n_objects < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("ao"));
  for (int i = 0; i < n_objects; i++)
    {
      g_autofree char *path = iface->path (call->conn, objects[i]);

      /* An object removed while listing has no identity left to report. */
      if (path != NULL)
        {
          g_variant_builder_add_value (&builder, g_variant_new_object_path (path));
          vb_call_note_listed (call, iface, objects[i]);
        }
      iface->release (objects[i]);
    }
  free (objects);
  return g_variant_new ("(ao)", &builder);
}
