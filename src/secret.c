/* org.libvirt.Secret: one object per secret, at <connection>/secret/_<UUID>.
 * Secret values never reach a log. */
#include "objects.h"

#include <stdlib.h>
#include <string.h>

#include "libvirt-glib-compat.h"
#include "paths.h"

#define SECRET_KIND "secret"

char *
vb_secret_path (VbConn *conn, virSecretPtr secret)
{
  unsigned char raw[VIR_UUID_BUFLEN];
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virSecretGetUUID (secret, raw) < 0)
    {
      g_warning ("cannot read a secret's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  vb_uuid_format (raw, uuid);
  return vb_uuid_object_path (conn, SECRET_KIND, uuid);
}

static gpointer
secret_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virSecretPtr secret;

  if (!vb_segment_to_uuid (segment, uuid, error))
    return NULL;
  secret = virSecretLookupByUUIDString (virconn, uuid);
  return secret != NULL ? secret : vb_lookup_failed (error);
}

static char *
secret_path_of (VbConn *conn, gpointer object)
{
  return vb_secret_path (conn, object);
}

static void
secret_release (gpointer secret)
{
  virSecretFree (secret);
}

static void
secret_describe (gpointer secret, GHashTable *details)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virSecretGetUUIDString (secret, uuid) == 0)
    vb_details_add (details, "secret_uuid", uuid);
  vb_details_add (details, "secret_usage_id", virSecretGetUsageID (secret));
}

static GVariant *
secret_get_uuid (VbCall *call, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virSecretGetUUIDString (call->object, uuid) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_string (uuid);
}

static GVariant *
secret_get_usage_id (VbCall *call, GError **error)
{
  return vb_string_result (virSecretGetUsageID (call->object), error);
}

static GVariant *
secret_get_usage_type (VbCall *call, GError **error)
{
  int usage_type = virSecretGetUsageType (call->object);

  if (usage_type < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_int32 (usage_type);
}

/* The value is copied into the reply, then wiped from our memory. */
static GVariant *
secret_get_value (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  size_t size = 0;
  unsigned char *value;
  GVariant *bytes;

  g_variant_get (args, "(u)", &flags);
  value = virSecretGetValue (call->object, &size, flags);
  if (value == NULL)
    return vb_libvirt_failed (error);
  bytes = g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, value, size, 1);
  explicit_bzero (value, size);
  free (value);
  return g_variant_new_tuple (&bytes, 1);
}

static GVariant *
secret_set_value (VbCall *call, GVariant *args, GError **error)
{
  g_autoptr(GVariant) bytes = NULL;
  guint flags;
  gsize size = 0;
  const guchar *value;

  g_variant_get (args, "(@ayu)", &bytes, &flags);
  /* NULL for an empty value, which libvirt refuses (and libvirtd could
   * not receive). */
  value = g_variant_get_fixed_array (bytes, &size, 1);
  return vb_unit_result (virSecretSetValue (call->object, value, size, flags), error);
}

static GVariant *
secret_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(u)", &flags);
  xml = virSecretGetXMLDesc (call->object, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
secret_undefine (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virSecretUndefine (call->object), error);
}

static const VbMethod secret_methods[] = {
  { "GetValue", secret_get_value, "secret:read-secure", VB_COST_CHEAP },
  { "GetXMLDesc", secret_get_xml_desc, "secret:read", VB_COST_INSTANT },
  { "SetValue", secret_set_value, "secret:write", VB_COST_CHEAP },
  { "Undefine", secret_undefine, "secret:delete", VB_COST_CHEAP },
  { NULL }
};

static const VbProperty secret_properties[] = {
  { "UUID", secret_get_uuid },
  { "UsageID", secret_get_usage_id },
  { "UsageType", secret_get_usage_type },
  { NULL }
};

const VbInterface vb_secret_interface = {
  .name = "org.libvirt.Secret",
  .kind = SECRET_KIND,
  .get_permission = "secret:read",
  .list_permission = "secret:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = secret_methods,
  .properties = secret_properties,
  .lookup = secret_lookup,
  .release = secret_release,
  .describe = secret_describe,
  .path = secret_path_of,
};
