/* org.libvirt.Interface: one object per host network interface, at
 * <connection>/interface/<escaped MAC address>.  Called "host interface"
 * in the code so it is not mistaken for a D-Bus interface. */
#include "objects.h"

#include "libvirt-glib-compat.h"

#define HOST_INTERFACE_KIND "interface"

char *
vb_host_interface_path (VbConn *conn, virInterfacePtr iface)
{
  const char *mac = virInterfaceGetMACString (iface);

  if (mac == NULL)
    {
      g_warning ("cannot read an interface's MAC: %s", virGetLastErrorMessage ());
      return NULL;
    }
  return vb_string_object_path (conn, HOST_INTERFACE_KIND, mac);
}

static gpointer
host_interface_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  g_autofree char *mac = vb_segment_to_string (segment, error);
  virInterfacePtr iface;

  if (mac == NULL)
    return NULL;
  iface = virInterfaceLookupByMACString (virconn, mac);
  return iface != NULL ? iface : vb_lookup_failed (error);
}

static char *
host_interface_path_of (VbConn *conn, gpointer object)
{
  return vb_host_interface_path (conn, object);
}

static void
host_interface_release (gpointer iface)
{
  virInterfaceFree (iface);
}

static void
host_interface_describe (gpointer iface, GHashTable *details)
{
  vb_details_add (details, "interface_name", virInterfaceGetName (iface));
  vb_details_add (details, "interface_mac", virInterfaceGetMACString (iface));
}

static GVariant *
host_interface_get_active (VbCall *call, GError **error)
{
  return vb_boolean_result (virInterfaceIsActive (call->object), error);
}

static GVariant *
host_interface_get_mac (VbCall *call, GError **error)
{
  return vb_string_result (virInterfaceGetMACString (call->object), error);
}

static GVariant *
host_interface_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virInterfaceGetName (call->object), error);
}

/* Methods taking only flags and returning nothing: one libvirt call. */
typedef int (*VbHostInterfaceFlagsFunc) (virInterfacePtr iface, unsigned int flags);

static GVariant *
call_with_flags (VbCall *call, GVariant *args, VbHostInterfaceFlagsFunc func,
                 GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (func (call->object, flags), error);
}

static GVariant *
host_interface_create (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virInterfaceCreate, error);
}

static GVariant *
host_interface_destroy (VbCall *call, GVariant *args, GError **error)
{
  return call_with_flags (call, args, virInterfaceDestroy, error);
}

static GVariant *
host_interface_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virInterfaceGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
host_interface_undefine (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virInterfaceUndefine (call->object), error);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

static const VbMethod host_interface_methods[] = {
  { "Create", host_interface_create, "interface:start", SLOW },
  { "Destroy", host_interface_destroy, "interface:stop", SLOW },
  { "GetXMLDesc", host_interface_get_xml_desc, "interface:read", INSTANT },
  { "Undefine", host_interface_undefine, "interface:delete", CHEAP },
  { NULL }
};

static const VbProperty host_interface_properties[] = {
  { "Active", host_interface_get_active },
  { "MAC", host_interface_get_mac },
  { "Name", host_interface_get_name },
  { NULL }
};

const VbInterface vb_host_interface_interface = {
  .name = "org.libvirt.Interface",
  .kind = HOST_INTERFACE_KIND,
  .get_permission = "interface:read",
  .list_permission = "interface:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = host_interface_methods,
  .properties = host_interface_properties,
  .lookup = host_interface_lookup,
  .release = host_interface_release,
  .describe = host_interface_describe,
  .path = host_interface_path_of,
};
