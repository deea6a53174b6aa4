/* org.libvirt.NWFilter: one object per network filter, at
 * <connection>/nwfilter/_<UUID>. */
#include "objects.h"

#include "libvirt-glib-compat.h"
#include "paths.h"

#define NWFILTER_KIND "nwfilter"

char *
vb_nwfilter_path (VbConn *conn, virNWFilterPtr nwfilter)
{
  unsigned char raw[VIR_UUID_BUFLEN];
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virNWFilterGetUUID (nwfilter, raw) < 0)
    {
      g_warning ("cannot read a filter's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  vb_uuid_format (raw, uuid);
  return vb_uuid_object_path (conn, NWFILTER_KIND, uuid);
}

static gpointer
nwfilter_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virNWFilterPtr nwfilter;

  if (!vb_segment_to_uuid (segment, uuid, error))
    return NULL;
  nwfilter = virNWFilterLookupByUUIDString (virconn, uuid);
  return nwfilter != NULL ? nwfilter : vb_lookup_failed (error);
}

static char *
nwfilter_path_of (VbConn *conn, gpointer object)
{
  return vb_nwfilter_path (conn, object);
}

static void
nwfilter_release (gpointer nwfilter)
{
  virNWFilterFree (nwfilter);
}

static void
nwfilter_describe (gpointer nwfilter, GHashTable *details)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  vb_details_add (details, "nwfilter_name", virNWFilterGetName (nwfilter));
  if (virNWFilterGetUUIDString (nwfilter, uuid) == 0)
    vb_details_add (details, "nwfilter_uuid", uuid);
}

static GVariant *
nwfilter_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virNWFilterGetName (call->object), error);
}

static GVariant *
nwfilter_get_uuid (VbCall *call, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virNWFilterGetUUIDString (call->object, uuid) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_string (uuid);
}

static GVariant *
nwfilter_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virNWFilterGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
nwfilter_undefine (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virNWFilterUndefine (call->object), error);
}

static const VbMethod nwfilter_methods[] = {
  { "GetXMLDesc", nwfilter_get_xml_desc, "nwfilter:read", VB_COST_INSTANT },
  { "Undefine", nwfilter_undefine, "nwfilter:delete", VB_COST_CHEAP },
  { NULL }
};

static const VbProperty nwfilter_properties[] = {
  { "Name", nwfilter_get_name },
  { "UUID", nwfilter_get_uuid },
  { NULL }
};

const VbInterface vb_nwfilter_interface = {
  .name = "org.libvirt.NWFilter",
  .kind = NWFILTER_KIND,
  .get_permission = "nwfilter:read",
  .list_permission = "nwfilter:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = nwfilter_methods,
  .properties = nwfilter_properties,
  .lookup = nwfilter_lookup,
  .release = nwfilter_release,
  .describe = nwfilter_describe,
  .path = nwfilter_path_of,
};
