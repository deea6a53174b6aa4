/* org.libvirt.StoragePool: one object per libvirt storage pool, at
 * <connection>/storagepool/_<UUID>. */
#include "objects.h"

#include "libvirt-glib-compat.h"

#define STORAGE_POOL_KIND "storagepool"

char *
vb_storage_pool_path (VbConn *conn, virStoragePoolPtr pool)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virStoragePoolGetUUIDString (pool, uuid) < 0)
    {
      g_warning ("cannot read a storage pool's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  return vb_uuid_object_path (conn, STORAGE_POOL_KIND, uuid);
}

static gpointer
storage_pool_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virStoragePoolPtr pool;

  if (!vb_segment_to_uuid (segment, uuid, error))
    return NULL;
  pool = virStoragePoolLookupByUUIDString (virconn, uuid);
  return pool != NULL ? pool : vb_lookup_failed (error);
}

static char *
storage_pool_path_of (VbConn *conn, gpointer object)
{
  return vb_storage_pool_path (conn, object);
}

static void
storage_pool_release (gpointer pool)
{
  virStoragePoolFree (pool);
}

static GVariant *
storage_pool_get_active (VbCall *call, GError **error)
{
  return vb_boolean_result (virStoragePoolIsActive (call->object), error);
}

static GVariant *
storage_pool_get_autostart (VbCall *call, GError **error)
{
  int autostart = 0;

  if (virStoragePoolGetAutostart (call->object, &autostart) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_boolean (autostart != 0);
}

static gboolean
storage_pool_set_autostart (VbCall *call, GVariant *value, GError **error)
{
  if (virStoragePoolSetAutostart (call->object, g_variant_get_boolean (value)) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
storage_pool_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virStoragePoolGetName (call->object), error);
}

static GVariant *
storage_pool_get_persistent (VbCall *call, GError **error)
{
  return vb_boolean_result (virStoragePoolIsPersistent (call->object), error);
}

static GVariant *
storage_pool_get_uuid (VbCall *call, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virStoragePoolGetUUIDString (call->object, uuid) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_string (uuid);
}

static const VbMethod storage_pool_methods[] = {
  { NULL }
};

static const VbProperty storage_pool_properties[] = {
  { "Active", storage_pool_get_active },
  { "Autostart", storage_pool_get_autostart, storage_pool_set_autostart, "storage-pool:write" },
  { "Name", storage_pool_get_name },
  { "Persistent", storage_pool_get_persistent },
  { "UUID", storage_pool_get_uuid },
  { NULL }
};

const VbInterface vb_storage_pool_interface = {
  .name = "org.libvirt.StoragePool",
  .kind = STORAGE_POOL_KIND,
  .get_permission = "storage-pool:read",
  .methods = storage_pool_methods,
  .properties = storage_pool_properties,
  .lookup = storage_pool_lookup,
  .release = storage_pool_release,
  .path = storage_pool_path_of,
};
