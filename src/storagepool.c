/* org.libvirt.StoragePool: one object per libvirt storage pool, at
 * <connection>/storagepool/_<UUID>. */
#include "objects.h"

#include "libvirt-glib-compat.h"
#include "paths.h"

#define STORAGE_POOL_KIND "storagepool"

char *
vb_storage_pool_path (VbConn *conn, virStoragePoolPtr pool)
{
  unsigned char raw[VIR_UUID_BUFLEN];
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virStoragePoolGetUUID (pool, raw) < 0)
    {
      g_warning ("cannot read a storage pool's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  vb_uuid_format (raw, uuid);
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

static void
storage_pool_describe (gpointer pool, GHashTable *details)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  vb_details_add (details, "pool_name", virStoragePoolGetName (pool));
  if (virStoragePoolGetUUIDString (pool, uuid) == 0)
    vb_details_add (details, "pool_uuid", uuid);
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

/* Methods taking only flags and returning nothing: one libvirt call. */
typedef int (*VbPoolFlagsFunc) (virStoragePoolPtr pool, unsigned int flags);

static GVariant *
call_with_flags (VbCall *call, GVariant *args, VbPoolFlagsFunc func, GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (func (call->object, flags), error);
}

static GVariant *
storage_pool_build (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virStoragePoolBuild, error);
}

static GVariant *
storage_pool_create (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virStoragePoolCreate, error);
}

static GVariant *
storage_pool_delete (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virStoragePoolDelete, error);
}

static GVariant *
storage_pool_refresh (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virStoragePoolRefresh, error);
}

static GVariant *
storage_pool_destroy (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virStoragePoolDestroy (call->object), error);
}

static GVariant *
storage_pool_undefine (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virStoragePoolUndefine (call->object), error);
}

static GVariant *
storage_pool_get_info (VbCall *call, GVariant *args, GError **error)
{
  virStoragePoolInfo info = { 0 };

  if (virStoragePoolGetInfo (call->object, &info) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new ("((ittt))", info.state, (guint64) info.capacity,
                        (guint64) info.allocation, (guint64) info.available);
}

static GVariant *
storage_pool_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virStoragePoolGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
storage_pool_list_storage_volumes (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virStorageVolPtr *vols = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virStoragePoolListAllVolumes (call->object, &vols, flags);
  return vb_object_list_reply (call, &vb_storage_vol_interface, (gpointer *) vols,
                               n, error);
}

static GVariant *
storage_pool_storage_vol_create_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_storage_vol_interface,
                          virStorageVolCreateXML (call->object, xml, flags), error);
}

static GVariant *
storage_pool_storage_vol_create_xml_from (VbCall *call, GVariant *args, GError **error)
{
  const char *xml, *key;
  guint flags;
  g_autoptr(virStorageVol) source = NULL;

  g_variant_get (args, "(&s&su)", &xml, &key, &flags);
  /* As the reference daemon: the source volume is named by its key, and
   * an unknown key is libvirt's error. */
  source = virStorageVolLookupByKey (call->virconn, key);
  if (source == NULL)
    return vb_libvirt_failed (error);
  return vb_object_reply (call, &vb_storage_vol_interface,
                          virStorageVolCreateXMLFrom (call->object, xml, source, flags),
                          error);
}

static GVariant *
storage_pool_storage_vol_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_storage_vol_interface,
                          virStorageVolLookupByName (call->object, name), error);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

static const VbMethod storage_pool_methods[] = {
  { "Build", storage_pool_build, "storage-pool:format", SLOW },
  { "Create", storage_pool_create, "storage-pool:start", SLOW },
  { "Delete", storage_pool_delete, "storage-pool:format", SLOW },
  { "Destroy", storage_pool_destroy, "storage-pool:stop", SLOW },
  { "GetInfo", storage_pool_get_info, "storage-pool:read", CHEAP },
  { "GetXMLDesc", storage_pool_get_xml_desc, "storage-pool:read", INSTANT },
  { "ListStorageVolumes", storage_pool_list_storage_volumes, "storage-pool:search-storage-vols", CHEAP },
  { "Refresh", storage_pool_refresh, "storage-pool:refresh", SLOW },
  { "StorageVolCreateXML", storage_pool_storage_vol_create_xml, "storage-vol:create", SLOW },
  { "StorageVolCreateXMLFrom", storage_pool_storage_vol_create_xml_from, "storage-vol:create", SLOW },
  { "StorageVolLookupByName", storage_pool_storage_vol_lookup_by_name, "storage-vol:getattr", CHEAP },
  { "Undefine", storage_pool_undefine, "storage-pool:delete", CHEAP },
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
  .list_permission = "storage-pool:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = storage_pool_methods,
  .properties = storage_pool_properties,
  .lookup = storage_pool_lookup,
  .release = storage_pool_release,
  .describe = storage_pool_describe,
  .path = storage_pool_path_of,
};
