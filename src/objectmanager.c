/* org.freedesktop.DBus.ObjectManager on each connection object: every
 * object below it with its properties, in one reply.  Its signals come from
 * changes.c. */
#include <stdlib.h>

#include "objectmanager-domains.h"

#define CHEAP VB_COST_CHEAP

typedef int (*ListAllFunc) (virConnectPtr virconn, gpointer **objects);

static int
list_domains (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllDomains (virconn, (virDomainPtr **) objects, 0);
}

static int
list_networks (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllNetworks (virconn, (virNetworkPtr **) objects, 0);
}

static int
list_storage_pools (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllStoragePools (virconn, (virStoragePoolPtr **) objects, 0);
}

static int
list_node_devices (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllNodeDevices (virconn, (virNodeDevicePtr **) objects, 0);
}

static int
list_host_interfaces (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllInterfaces (virconn, (virInterfacePtr **) objects, 0);
}

static int
list_nwfilters (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllNWFilters (virconn, (virNWFilterPtr **) objects, 0);
}

static int
list_secrets (virConnectPtr virconn, gpointer **objects)
{
  return virConnectListAllSecrets (virconn, (virSecretPtr **) objects, 0);
}

static void add_objects (GVariantBuilder *reply, VbCall *call, const VbInterface *iface,
                         gpointer *objects, int n_objects);

/* A domain's snapshots, an active pool's volumes. */
static void
add_children (GVariantBuilder *reply, VbCall *call, const VbInterface *iface,
              gpointer object)
{
  gpointer *children = NULL;
  int n = -1;

  if (iface == &vb_domain_interface)
    {
      n = virDomainListAllSnapshots (object, (virDomainSnapshotPtr **) &children, 0);
      add_objects (reply, call, &vb_domain_snapshot_interface, children, n);
    }
  else if (iface == &vb_storage_pool_interface && virStoragePoolIsActive (object) == 1)
    {
      n = virStoragePoolListAllVolumes (object, (virStorageVolPtr **) &children, 0);
      add_objects (reply, call, &vb_storage_vol_interface, children, n);
    }
}

void
vb_object_manager_add_object (GVariantBuilder *reply, VbCall *call, const VbInterface *iface,
                              gpointer object, const VbDomainBulkFacts *facts,
                              gboolean with_children)
{
  VbCall object_call = { .conn = call->conn, .iface = iface,
                         .virconn = call->virconn, .object = object };
  g_autofree char *path = iface->path (call->conn, object);
  g_autoptr(GVariant) properties = NULL;
  GVariant *interface;

  /* An object removed while listing has no identity left to report. */
  if (path == NULL)
    return;
  if (facts != NULL)
    vb_domain_properties_preset (&object_call, facts);
  properties = vb_call_read_properties (&object_call, FALSE);
  vb_call_forget_memo (&object_call);
  interface = g_variant_new_dict_entry (g_variant_new_string (iface->name), properties);
  /* Built without format strings: parsing "{%s: %@a{sv}}" for each of
   * 10,000 objects was a cost of its own. */
  g_variant_builder_add_value (
      reply, g_variant_new_dict_entry (
                 g_variant_new_object_path (path),
                 g_variant_new_array (G_VARIANT_TYPE ("{sa{sv}}"), &interface, 1)));
  vb_call_note_listed (call, iface, object);
  if (with_children)
    add_children (reply, call, iface, object);
}

/* Adds and releases @objects (a libvirt array, freed here). */
static void
add_objects (GVariantBuilder *reply, VbCall *call, const VbInterface *iface,
             gpointer *objects, int n_objects)
{
  for (int i = 0; i < n_objects; i++)
    {
      vb_object_manager_add_object (reply, call, iface, objects[i], NULL, TRUE);
      iface->release (objects[i]);
    }
  free (objects);
}

static const struct {
  const VbInterface *iface;
  ListAllFunc list_all;
} managed_kinds[] = {
  { &vb_domain_interface, list_domains },
  { &vb_network_interface, list_networks },
  { &vb_storage_pool_interface, list_storage_pools },
  { &vb_node_device_interface, list_node_devices },
  { &vb_host_interface_interface, list_host_interfaces },
  { &vb_nwfilter_interface, list_nwfilters },
  { &vb_secret_interface, list_secrets },
};

void
vb_object_manager_each (virConnectPtr virconn, VbObjectFunc func, gpointer data)
{
  for (gsize k = 0; k < G_N_ELEMENTS (managed_kinds); k++)
    {
      gpointer *objects = NULL;
      int n = managed_kinds[k].list_all (virconn, &objects);

      if (n < 0)
        {
          /* A kind the driver lacks (or a host gone meanwhile). */
          virResetLastError ();
          continue;
        }
      func (managed_kinds[k].iface, NULL, data);
      for (int i = 0; i < n; i++)
        func (managed_kinds[k].iface, objects[i], data);
      free (objects);
    }
}

static GVariant *
object_manager_get_managed_objects (VbCall *call, GVariant *args, GError **error)
{
  GVariantBuilder reply;

  g_variant_builder_init (&reply, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  /* Domains are what every driver has: failing to list them fails the
   * call.  Other kinds a driver lacks (filters, secrets, ...) are left
   * out. */
  if (!vb_object_manager_add_domains (&reply, call, error))
    {
      g_variant_builder_clear (&reply);
      return NULL;
    }
  for (gsize k = 1; k < G_N_ELEMENTS (managed_kinds); k++)
    {
      gpointer *objects = NULL;
      int n = managed_kinds[k].list_all (call->virconn, &objects);

      if (n < 0)
        virResetLastError ();
      add_objects (&reply, call, managed_kinds[k].iface, objects, n);
    }
  return g_variant_new ("(a{oa{sa{sv}}})", &reply);
}

static const VbMethod object_manager_methods[] = {
  { "GetManagedObjects", object_manager_get_managed_objects, "connect:search-domains", CHEAP },
  { NULL }
};

static const VbProperty object_manager_properties[] = {
  { NULL }
};

const VbInterface vb_object_manager_interface = {
  .name = "org.freedesktop.DBus.ObjectManager",
  .kind = NULL,
  .get_permission = "connect:read",
  .methods = object_manager_methods,
  .properties = object_manager_properties,
};
