/* org.libvirt.StorageVol: one object per storage volume, at
 * <connection>/storagevol/<escaped volume key>. */
#include "objects.h"

#include "libvirt-glib-compat.h"

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

static const VbMethod storage_vol_methods[] = {
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
