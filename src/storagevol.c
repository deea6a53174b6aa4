/* org.libvirt.StorageVol: one object per storage volume, at
 * <connection>/storagevol/<escaped volume key>. */
#include "objects.h"

#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "libvirt-glib-compat.h"
#include "streams.h"

#define STORAGE_VOL_KIND "storagevol"

char *
vb_storage_vol_path (VbConn *conn, virStorageVolPtr vol)
{
  const char *key = virStorageVolGetKey (vol);

  if (key == NULL)
    {
      g_warning ("cannot read a volume's key: %s", virGetLastErrorMessage ());
      return NULL;
    }
  return vb_string_object_path (conn, STORAGE_VOL_KIND, key);
}

static gpointer
storage_vol_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  g_autofree char *key = vb_segment_to_string (segment, error);
  virStorageVolPtr vol;

  if (key == NULL)
    return NULL;
  vol = virStorageVolLookupByKey (virconn, key);
  return vol != NULL ? vol : vb_lookup_failed (error);
}

static char *
storage_vol_path_of (VbConn *conn, gpointer object)
{
  return vb_storage_vol_path (conn, object);
}

static void
storage_vol_release (gpointer vol)
{
  virStorageVolFree (vol);
}

static GVariant *
storage_vol_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virStorageVolGetName (call->object), error);
}

static GVariant *
storage_vol_get_key (VbCall *call, GError **error)
{
  return vb_string_result (virStorageVolGetKey (call->object), error);
}

static GVariant *
storage_vol_get_path (VbCall *call, GError **error)
{
  return vb_owned_string_result (virStorageVolGetPath (call->object), error);
}

static GVariant *
storage_vol_delete (VbCall *call, GVariant *args, GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (virStorageVolDelete (call->object, flags), error);
}

static GVariant *
storage_vol_get_info (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virStorageVolInfo info = { 0 };

  g_variant_get (args, "(u)", &flags);
  if (virStorageVolGetInfoFlags (call->object, &info, flags) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new ("((itt))", info.type, (guint64) info.capacity,
                        (guint64) info.allocation);
}

static GVariant *
storage_vol_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virStorageVolGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
storage_vol_resize (VbCall *call, GVariant *args, GError **error)
{
  guint64 capacity;
  guint flags;

  g_variant_get (args, "(tu)", &capacity, &flags);
  return vb_unit_result (virStorageVolResize (call->object, capacity, flags), error);
}

static GVariant *
storage_vol_wipe (VbCall *call, GVariant *args, GError **error)
{
  guint pattern, flags;

  g_variant_get (args, "(uu)", &pattern, &flags);
  return vb_unit_result (virStorageVolWipePattern (call->object, pattern, flags), error);
}

/* ---- data transfer (not in the reference daemon) ---------------------- */

/* virStorageVolUpload() and virStorageVolDownload() alike. */
typedef int (*VbVolumeStreamFunc) (virStorageVolPtr vol, virStreamPtr stream,
                                   unsigned long long offset,
                                   unsigned long long length, unsigned int flags);

/* A duplicate of the fd the message carries at @handle; -1 with
 * InvalidArgs when there is none. */
static int
fd_from_handle (VbCall *call, gint32 handle, GError **error)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (call->invocation);
  GUnixFDList *fd_list = g_dbus_message_get_unix_fd_list (message);

  if (fd_list == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fd_list))
    {
      vb_invalid_args (error, "File descriptor handle %d is not in the message", handle);
      return -1;
    }
  return g_unix_fd_list_get (fd_list, handle, error);
}

/* Binds a new stream to the volume with @bind and pumps it to or from
 * the caller's fd; replies with the number of bytes moved once the
 * transfer is over. */
static GVariant *
storage_vol_transfer (VbCall *call, GVariant *args, VbStreamDirection direction,
                      VbVolumeStreamFunc bind, GError **error)
{
  gint32 handle;
  guint64 offset, length, to_fd = 0, from_fd = 0;
  guint flags;
  int fd;
  virStreamPtr stream;
  gboolean moved;

  g_variant_get (args, "(httu)", &handle, &offset, &length, &flags);
  fd = fd_from_handle (call, handle, error);
  if (fd < 0)
    return NULL;
  stream = vb_stream_new (call->virconn, error);
  if (stream == NULL)
    {
      close (fd);
      return NULL;
    }
  if (bind (call->object, stream, offset, length, flags) < 0)
    {
      /* Before virStreamFree(), which resets libvirt's last error. */
      vb_error_set_from_libvirt (error);
      close (fd);
      virStreamFree (stream);
      return NULL;
    }
  moved = vb_stream_transfer_run (stream, fd, direction, length, &to_fd, &from_fd, error);
  virStreamFree (stream);
  if (!moved)
    return NULL;
  return g_variant_new ("(t)", direction == VB_STREAM_TO_FD ? to_fd : from_fd);
}

static GVariant *
storage_vol_download (VbCall *call, GVariant *args, GError **error)
{
  return storage_vol_transfer (call, args, VB_STREAM_TO_FD, virStorageVolDownload, error);
}

static GVariant *
storage_vol_upload (VbCall *call, GVariant *args, GError **error)
{
  return storage_vol_transfer (call, args, VB_STREAM_FROM_FD, virStorageVolUpload, error);
}

#define CHEAP VB_COST_CHEAP
#define SLOW VB_COST_SLOW

static const VbMethod storage_vol_methods[] = {
  { "Delete", storage_vol_delete, "storage-vol:delete", SLOW },
  { "Download", storage_vol_download, "storage-vol:data-read", SLOW },
  { "GetInfo", storage_vol_get_info, "storage-vol:read", CHEAP },
  { "GetXMLDesc", storage_vol_get_xml_desc, "storage-vol:read", CHEAP },
  { "Resize", storage_vol_resize, "storage-vol:resize", SLOW },
  { "Upload", storage_vol_upload, "storage-vol:data-write", SLOW },
  { "Wipe", storage_vol_wipe, "storage-vol:format", SLOW },
  { NULL }
};

static const VbProperty storage_vol_properties[] = {
  { "Name", storage_vol_get_name },
  { "Key", storage_vol_get_key },
  { "Path", storage_vol_get_path },
  { NULL }
};

const VbInterface vb_storage_vol_interface = {
  .name = "org.libvirt.StorageVol",
  .kind = STORAGE_VOL_KIND,
  .get_permission = "storage-vol:read",
  .methods = storage_vol_methods,
  .properties = storage_vol_properties,
  .lookup = storage_vol_lookup,
  .release = storage_vol_release,
  .path = storage_vol_path_of,
};
