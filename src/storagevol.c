/* org.libvirt.StorageVol: one object per storage volume, at
 * <connection>/storagevol/<escaped volume key>. */
#include "objects.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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

static void
storage_vol_describe (gpointer vol, GHashTable *details)
{
  g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume (vol);

  vb_details_add (details, "volume_key", virStorageVolGetKey (vol));
  vb_details_add (details, "volume_name", virStorageVolGetName (vol));
  if (pool != NULL)
    vb_details_add (details, "pool_name", virStoragePoolGetName (pool));
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

/* A copy of @fd that closes on exec; -1 with @error set. */
static int
duplicate_fd (int fd, GError **error)
{
  int copy = fcntl (fd, F_DUPFD_CLOEXEC, 0);

  if (copy < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_IO_ERROR,
                   "Cannot use the file descriptor: %s", g_strerror (saved_errno));
    }
  return copy;
}

/* A duplicate of the fd the message carries at @handle (the message keeps
 * its own); -1 with InvalidArgs when there is none. */
static int
fd_from_handle (VbCall *call, gint32 handle, GError **error)
{
  g_autoptr(GVariant) handles = g_variant_ref_sink (
      g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, &handle, 1, sizeof handle));
  guint n_fds = 0;
  g_autofree int *fds = vb_call_fds_from_handles (call, handles, &n_fds, error);

  return fds != NULL ? duplicate_fd (fds[0], error) : -1;
}

/* Upload's and Download's arguments; returns the fd (a duplicate), -1
 * with @error set when the message carries none. */
static int
transfer_arguments (VbCall *call, GVariant *args, guint64 *offset, guint64 *length,
                    guint *flags, GError **error)
{
  gint32 handle;

  g_variant_get (args, "(httu)", &handle, offset, length, flags);
  return fd_from_handle (call, handle, error);
}

/* A new stream bound to the volume by @bind; NULL with @error set. */
static virStreamPtr
volume_stream (VbCall *call, VbVolumeStreamFunc bind, guint64 offset, guint64 length,
               guint flags, GError **error)
{
  virStreamPtr stream = vb_call_new_stream (call, error);

  if (stream == NULL)
    return NULL;
  if (bind (call->object, stream, offset, length, flags) < 0)
    {
      /* Before virStreamFree(), which resets libvirt's last error. */
      vb_error_set_from_libvirt (error);
      virStreamFree (stream);
      return NULL;
    }
  return stream;
}

/* One stream carries at most this much of a download.  libvirt's client
 * library queues whatever libvirtd sends, as fast as it sends it, however
 * slowly the fd is read: its stream buffer has no bound.  Asking libvirtd
 * for the next piece only once the last one is written to the fd bounds
 * what is ever held to one piece. */
#define DOWNLOAD_PIECE_SIZE (8 * 1024 * 1024)

/* Writes @length bytes from @offset (fewer at the end of the volume) to
 * @fd, which stays open. */
static gboolean
download_piece (VbCall *call, int fd, guint64 offset, guint64 length, guint flags,
                guint64 *written, GError **error)
{
  virStreamPtr stream = volume_stream (call, virStorageVolDownload, offset, length,
                                       flags, error);
  int piece_fd;
  gboolean moved;

  if (stream == NULL)
    return FALSE;
  /* The transfer closes the fd it is given. */
  piece_fd = duplicate_fd (fd, error);
  if (piece_fd < 0)
    {
      virStreamAbort (stream);
      virStreamFree (stream);
      return FALSE;
    }
  moved = vb_stream_transfer_run (stream, piece_fd, VB_STREAM_TO_FD, 0, written, NULL, error);
  virStreamFree (stream);
  return moved;
}

static GVariant *
storage_vol_download (VbCall *call, GVariant *args, GError **error)
{
  guint64 offset, length, total = 0;
  guint flags;
  int fd = transfer_arguments (call, args, &offset, &length, &flags, error);

  if (fd < 0)
    return NULL;
  for (;;)
    {
      guint64 wanted = length == 0 ? DOWNLOAD_PIECE_SIZE
                                   : MIN (length - total, DOWNLOAD_PIECE_SIZE);
      guint64 written = 0;

      if (wanted == 0)
        break;
      if (!download_piece (call, fd, offset + total, wanted, flags, &written, error))
        {
          close (fd);
          return NULL;
        }
      total += written;
      if (written < wanted)
        break;   /* the end of the volume */
    }
  /* Closed before the reply, so that a reader of a pipe sees its end. */
  close (fd);
  return g_variant_new ("(t)", total);
}

static GVariant *
storage_vol_upload (VbCall *call, GVariant *args, GError **error)
{
  guint64 offset, length, sent = 0;
  guint flags;
  int fd = transfer_arguments (call, args, &offset, &length, &flags, error);
  virStreamPtr stream;
  gboolean moved;

  if (fd < 0)
    return NULL;
  stream = volume_stream (call, virStorageVolUpload, offset, length, flags, error);
  if (stream == NULL)
    {
      close (fd);
      return NULL;
    }
  /* Uploads need no pieces: each send waits until libvirtd has taken
   * the data. */
  moved = vb_stream_transfer_run (stream, fd, VB_STREAM_FROM_FD, length, NULL, &sent, error);
  virStreamFree (stream);
  if (!moved)
    return NULL;
  return g_variant_new ("(t)", sent);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

static const VbMethod storage_vol_methods[] = {
  { "Delete", storage_vol_delete, "storage-vol:delete", SLOW },
  { "Download", storage_vol_download, "storage-vol:data-read", SLOW },
  { "GetInfo", storage_vol_get_info, "storage-vol:read", CHEAP },
  { "GetXMLDesc", storage_vol_get_xml_desc, "storage-vol:read", INSTANT },
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
  .list_permission = "storage-vol:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = storage_vol_methods,
  .properties = storage_vol_properties,
  .lookup = storage_vol_lookup,
  .release = storage_vol_release,
  .describe = storage_vol_describe,
  .path = storage_vol_path_of,
};
