/* org.libvirt.Secret: one object per secret, at <connection>/secret/_<UUID>.
 * Secret values never reach a log. */
#include "objects.h"

#include "libvirt-glib-compat.h"

#define SECRET_KIND "secret"

char *
vb_secret_path (VbConn *conn, virSecretPtr secret)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virSecretGetUUIDString (secret, uuid) < 0)
    {
      g_warning ("cannot read a secret's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
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

static const VbMethod secret_methods[] = {
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
  .methods = secret_methods,
  .properties = secret_properties,
  .lookup = secret_lookup,
  .release = secret_release,
  .path = secret_path_of,
};
