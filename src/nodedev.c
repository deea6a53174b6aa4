/* org.libvirt.NodeDevice: one object per host device, at
 * <connection>/nodedev/<escaped device name>. */
#include "objects.h"

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

static const VbMethod node_device_methods[] = {
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
  .methods = node_device_methods,
  .properties = node_device_properties,
  .lookup = node_device_lookup,
  .release = node_device_release,
  .path = node_device_path_of,
};
