/* org.libvirt.NodeDevice: one object per host device, at
 * <connection>/nodedev/<escaped device name>. */
#include "objects.h"

#include <stdlib.h>

#include "libvirt-glib-compat.h"

#define NODE_DEVICE_KIND "nodedev"

char *
vb_node_device_path (VbConn *conn, virNodeDevicePtr device)
{
  const char *name = virNodeDeviceGetName (device);

  if (name == NULL)
    {
      g_warning ("cannot read a node device's name: %s", virGetLastErrorMessage ());
      return NULL;
    }
  return vb_string_object_path (conn, NODE_DEVICE_KIND, name);
}

static gpointer
node_device_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  g_autofree char *name = vb_segment_to_string (segment, error);
  virNodeDevicePtr device;

  if (name == NULL)
    return NULL;
  device = virNodeDeviceLookupByName (virconn, name);
  return device != NULL ? device : vb_lookup_failed (error);
}

static char *
node_device_path_of (VbConn *conn, gpointer object)
{
  return vb_node_device_path (conn, object);
}

static void
node_device_release (gpointer device)
{
  virNodeDeviceFree (device);
}

static void
node_device_describe (gpointer device, GHashTable *details)
{
  vb_details_add (details, "node_device_name", virNodeDeviceGetName (device));
}

static GVariant *
node_device_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virNodeDeviceGetName (call->object), error);
}

static GVariant *
node_device_get_parent (VbCall *call, GError **error)
{
  const char *parent = virNodeDeviceGetParent (call->object);

  /* A root device has no parent: an error, as in the reference daemon,
   * so GetAll leaves the property out. */
  if (parent == NULL)
    {
      g_set_error (error, VB_ERROR, VB_ERROR_LIBVIRT,
                   "Node device '%s' has no parent",
                   virNodeDeviceGetName (call->object));
      return NULL;
    }
  return g_variant_new_string (parent);
}

static GVariant *
node_device_destroy (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNodeDeviceDestroy (call->object), error);
}

static GVariant *
node_device_re_attach (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNodeDeviceReAttach (call->object), error);
}

static GVariant *
node_device_reset (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNodeDeviceReset (call->object), error);
}

static GVariant *
node_device_detach (VbCall *call, GVariant *args, GError **error)
{
  const char *driver_name;
  guint flags;

  g_variant_get (args, "(&su)", &driver_name, &flags);
  return vb_unit_result (virNodeDeviceDetachFlags (call->object, driver_name, flags), error);
}

static GVariant *
node_device_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virNodeDeviceGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
node_device_list_caps (VbCall *call, GVariant *args, GError **error)
{
  int n_caps = virNodeDeviceNumOfCaps (call->object);
  g_autofree char **names = NULL;
  GVariantBuilder builder;

  if (n_caps < 0)
    return vb_libvirt_failed (error);
  names = g_new0 (char *, n_caps + 1);
  /* The list may have changed since it was counted: libvirt fills at
   * most n_caps names and says how many. */
  n_caps = virNodeDeviceListCaps (call->object, names, n_caps);
  if (n_caps < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("as"));
  for (int i = 0; i < n_caps; i++)
    {
      g_variant_builder_add (&builder, "s", names[i]);
      free (names[i]);
    }
  return g_variant_new ("(as)", &builder);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

static const VbMethod node_device_methods[] = {
  { "Destroy", node_device_destroy, "node-device:stop", SLOW },
  { "Detach", node_device_detach, "node-device:detach", SLOW },
  { "GetXMLDesc", node_device_get_xml_desc, "node-device:read", INSTANT },
  { "ListCaps", node_device_list_caps, "node-device:read", CHEAP },
  { "ReAttach", node_device_re_attach, "node-device:detach", SLOW },
  { "Reset", node_device_reset, "node-device:detach", SLOW },
  { NULL }
};

static const VbProperty node_device_properties[] = {
  { "Name", node_device_get_name },
  { "Parent", node_device_get_parent },
  { NULL }
};

const VbInterface vb_node_device_interface = {
  .name = "org.libvirt.NodeDevice",
  .kind = NODE_DEVICE_KIND,
  .get_permission = "node-device:read",
  .list_permission = "node-device:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = node_device_methods,
  .properties = node_device_properties,
  .lookup = node_device_lookup,
  .release = node_device_release,
  .describe = node_device_describe,
  .path = node_device_path_of,
};
