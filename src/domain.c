/* org.libvirt.Domain: one object per libvirt domain, at
 * <connection>/domain/_<UUID>. */
#include "objects.h"

#include "libvirt-glib-compat.h"

#define DOMAIN_KIND "domain"

char *
vb_domain_path (VbConn *conn, virDomainPtr domain)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virDomainGetUUIDString (domain, uuid) < 0)
    {
      g_warning ("cannot read a domain's UUID: %s", virGetLastErrorMessage ());
      return NULL;
    }
  return vb_uuid_object_path (conn, DOMAIN_KIND, uuid);
}

static gpointer
domain_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virDomainPtr domain;

  if (!vb_segment_to_uuid (segment, uuid, error))
    return NULL;
  domain = virDomainLookupByUUIDString (virconn, uuid);
  return domain != NULL ? domain : vb_lookup_failed (error);
}

static char *
domain_path_of (VbConn *conn, gpointer object)
{
  return vb_domain_path (conn, object);
}

static void
domain_release (gpointer domain)
{
  virDomainFree (domain);
}

static GVariant *
domain_get_active (VbCall *call, GError **error)
{
  return vb_boolean_result (virDomainIsActive (call->object), error);
}

static GVariant *
domain_get_autostart (VbCall *call, GError **error)
{
  int autostart = 0;

  if (virDomainGetAutostart (call->object, &autostart) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_boolean (autostart != 0);
}

static gboolean
domain_set_autostart (VbCall *call, GVariant *value, GError **error)
{
  if (virDomainSetAutostart (call->object, g_variant_get_boolean (value)) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
domain_get_id (VbCall *call, GError **error)
{
  /* libvirt answers (unsigned) -1 for an inactive domain; the reference
   * daemon reports 0 then. */
  unsigned int id = virDomainGetID (call->object);

  return g_variant_new_uint32 (id == (unsigned int) -1 ? 0 : id);
}

static GVariant *
domain_get_name (VbCall *call, GError **error)
{
  return vb_string_result (virDomainGetName (call->object), error);
}

static GVariant *
domain_get_os_type (VbCall *call, GError **error)
{
  return vb_owned_string_result (virDomainGetOSType (call->object), error);
}

static GVariant *
domain_get_persistent (VbCall *call, GError **error)
{
  return vb_boolean_result (virDomainIsPersistent (call->object), error);
}

static GVariant *
domain_get_scheduler_type (VbCall *call, GError **error)
{
  int n_params = 0;
  g_autofree char *type = virDomainGetSchedulerType (call->object, &n_params);

  if (type == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(si)", type, n_params);
}

static GVariant *
domain_get_updated (VbCall *call, GError **error)
{
  return vb_boolean_result (virDomainIsUpdated (call->object), error);
}

static GVariant *
domain_get_uuid (VbCall *call, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virDomainGetUUIDString (call->object, uuid) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_string (uuid);
}

static const VbMethod domain_methods[] = {
  { NULL }
};

static const VbProperty domain_properties[] = {
  { "Active", domain_get_active },
  { "Autostart", domain_get_autostart, domain_set_autostart, "domain:write" },
  { "Id", domain_get_id },
  { "Name", domain_get_name },
  { "OSType", domain_get_os_type },
  { "Persistent", domain_get_persistent },
  { "SchedulerType", domain_get_scheduler_type },
  { "Updated", domain_get_updated },
  { "UUID", domain_get_uuid },
  { NULL }
};

const VbInterface vb_domain_interface = {
  .name = "org.libvirt.Domain",
  .kind = DOMAIN_KIND,
  .get_permission = "domain:read",
  .methods = domain_methods,
  .properties = domain_properties,
  .lookup = domain_lookup,
  .release = domain_release,
  .path = domain_path_of,
};
