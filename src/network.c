/* org.libvirt.Network: one object per libvirt network, at
 * <connection>/network/_<UUID>. */
#include "objects.h"

#include "libvirt-glib-compat.h"

#define NETWORK_KIND "network"

char *
vb_network_path (VbConn *conn, virNetworkPtr network)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virNetworkGetUUIDString (network, uuid) < 0)
    {
      g_warning ("cannot read a network's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
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

static const VbMethod network_methods[] = {
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
  .methods = network_methods,
  .properties = network_properties,
  .lookup = network_lookup,
  .release = network_release,
  .path = network_path_of,
};
