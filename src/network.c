/* org.libvirt.Network: one object per libvirt network, at
 * <connection>/network/_<UUID>. */
#include "objects.h"

#include <stdlib.h>

#include "libvirt-glib-compat.h"
#include "paths.h"

#define NETWORK_KIND "network"

char *
vb_network_path (VbConn *conn, virNetworkPtr network)
{
  unsigned char raw[VIR_UUID_BUFLEN];
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virNetworkGetUUID (network, raw) < 0)
    {
      g_warning ("cannot read a network's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  vb_uuid_format (raw, uuid);
  return vb_uuid_object_path (conn, NETWORK_KIND, uuid);
}

static gpointer
network_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virNetworkPtr network;

  if (!vb_segment_to_uuid (segment, uuid, error))
    return NULL;
  network = virNetworkLookupByUUIDString (virconn, uuid);
  return network != NULL ? network : vb_lookup_failed (error);
}

static char *
network_path_of (VbConn *conn, gpointer object)
{
  return vb_network_path (conn, object);
}

static void
network_release (gpointer network)
{
  virNetworkFree (network);
}

static void
network_describe (gpointer network, GHashTable *details)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  vb_details_add (details, "network_name", virNetworkGetName (network));
  if (virNetworkGetUUIDString (network, uuid) == 0)
    vb_details_add (details, "network_uuid", uuid);
}

static GVariant *
network_get_active (VbCall *call, GError **error)
{
  return vb_boolean_result (virNetworkIsActive (call->object), error);
}

static GVariant *
network_get_autostart (VbCall *call, GError **error)
{
  int autostart = 0;

  if (virNetworkGetAutostart (call->object, &autostart) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_boolean (autostart != 0);
}

static gboolean
network_set_autostart (VbCall *call, GVariant *value, GError **error)
{
  if (virNetworkSetAutostart (call->object, g_variant_get_boolean (value)) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
network_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virNetworkGetName (call->object), error);
}

static GVariant *
network_get_persistent (VbCall *call, GError **error)
{
  return vb_boolean_result (virNetworkIsPersistent (call->object), error);
}

static GVariant *
network_get_uuid (VbCall *call, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virNetworkGetUUIDString (call->object, uuid) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_string (uuid);
}

static GVariant *
network_create (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNetworkCreate (call->object), error);
}

static GVariant *
network_destroy (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNetworkDestroy (call->object), error);
}

static GVariant *
network_undefine (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNetworkUndefine (call->object), error);
}

/* libvirt leaves optional lease fields NULL; D-Bus strings cannot be. */
static const char *
null_to_empty (const char *str)
{
  return str != NULL ? str : "";
}

static GVariant *
network_get_dhcp_leases (VbCall *call, GVariant *args, GError **error)
{
  const char *mac;
  guint flags;
  virNetworkDHCPLeasePtr *leases = NULL;
  int n_leases;
  GVariantBuilder builder;

  g_variant_get (args, "(&su)", &mac, &flags);
  n_leases = virNetworkGetDHCPLeases (call->object, vb_empty_to_null (mac), &leases, flags);
  if (n_leases < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sxisssuss)"));
  for (int i = 0; i < n_leases; i++)
    {
      virNetworkDHCPLeasePtr lease = leases[i];

      g_variant_builder_add (&builder, "(sxisssuss)", null_to_empty (lease->iface),
                             (gint64) lease->expirytime, lease->type,
                             null_to_empty (lease->mac), null_to_empty (lease->iaid),
                             null_to_empty (lease->ipaddr), lease->prefix,
                             null_to_empty (lease->hostname),
                             null_to_empty (lease->clientid));
      virNetworkDHCPLeaseFree (lease);
    }
  free (leases);
  return g_variant_new ("(a(sxisssuss))", &builder);
}

static GVariant *
network_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virNetworkGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
network_update (VbCall *call, GVariant *args, GError **error)
{
  guint command, section, flags;
  gint32 parent_index;
  const char *xml;

  g_variant_get (args, "(uui&su)", &command, &section, &parent_index, &xml, &flags);
  return vb_unit_result (virNetworkUpdate (call->object, command, section, parent_index,
                                            xml, flags), error);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

static const VbMethod network_methods[] = {
  { "Create", network_create, "network:start", SLOW },
  { "Destroy", network_destroy, "network:stop", SLOW },
  { "GetDHCPLeases", network_get_dhcp_leases, "network:read", CHEAP },
  { "GetXMLDesc", network_get_xml_desc, "network:read", INSTANT },
  { "Undefine", network_undefine, "network:delete", CHEAP },
  { "Update", network_update, "network:write", SLOW },
  { NULL }
};

static const VbProperty network_properties[] = {
  { "Active", network_get_active },
  { "Autostart", network_get_autostart, network_set_autostart, "network:write" },
  { "Name", network_get_name },
  { "Persistent", network_get_persistent },
  { "UUID", network_get_uuid },
  { NULL }
};

const VbInterface vb_network_interface = {
  .name = "org.libvirt.Network",
  .kind = NETWORK_KIND,
  .get_permission = "network:read",
  .list_permission = "network:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = network_methods,
  .properties = network_properties,
  .lookup = network_lookup,
  .release = network_release,
  .describe = network_describe,
  .path = network_path_of,
};
