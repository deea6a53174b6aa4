/* org.libvirt.DomainSnapshot: one object per snapshot, at
 * <connection>/domainsnapshot/_<domain UUID>_<escaped snapshot name>. */
#include "objects.h"

#include <string.h>

#include "libvirt-glib-compat.h"
#include "paths.h"

#define SNAPSHOT_KIND "domainsnapshot"
/* "_" + 36 characters of UUID */
#define DOMAIN_SEGMENT_LEN 37

char *
vb_domain_snapshot_path (VbConn *conn, virDomainSnapshotPtr snapshot)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  virDomainPtr domain = virDomainSnapshotGetDomain (snapshot);
  g_autofree char *domain_segment = NULL;
  g_autofree char *name_segment = NULL;
  g_autofree char *segment = NULL;

  if (domain == NULL || virDomainGetUUIDString (domain, uuid) < 0)
    {
      g_warning ("cannot read a snapshot's domain: %s", virGetLastErrorMessage ());
      return NULL;
    }
  domain_segment = vb_path_encode_uuid (uuid);
  name_segment = vb_path_escape (virDomainSnapshotGetName (snapshot));
  segment = g_strconcat (domain_segment, "_", name_segment, NULL);
  return vb_path_join (vb_conn_get_path (conn), SNAPSHOT_KIND, segment);
}

static gpointer
snapshot_lookup (virConnectPtr virconn, const char *segment, GError **error)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  g_autofree char *domain_segment = NULL;
  g_autofree char *name = NULL;
  g_autoptr(virDomain) domain = NULL;
  virDomainSnapshotPtr snapshot;

  if (strlen (segment) < DOMAIN_SEGMENT_LEN + 2 || segment[DOMAIN_SEGMENT_LEN] != '_')
    return vb_malformed_segment (segment, error);
  domain_segment = g_strndup (segment, DOMAIN_SEGMENT_LEN);
  if (!vb_segment_to_uuid (domain_segment, uuid, error))
    return NULL;
  name = vb_segment_to_string (segment + DOMAIN_SEGMENT_LEN + 1, error);
  if (name == NULL)
    return NULL;

  domain = virDomainLookupByUUIDString (virconn, uuid);
  if (domain == NULL)
    return vb_lookup_failed (error);
  snapshot = virDomainSnapshotLookupByName (domain, name, 0);
  return snapshot != NULL ? snapshot : vb_lookup_failed (error);
}

static char *
snapshot_path_of (VbConn *conn, gpointer object)
{
  return vb_domain_snapshot_path (conn, object);
}

static void
snapshot_release (gpointer snapshot)
{
  virDomainSnapshotFree (snapshot);
}

static const VbMethod snapshot_methods[] = {
  { NULL }
};

static const VbProperty snapshot_properties[] = {
  { NULL }
};

const VbInterface vb_domain_snapshot_interface = {
  .name = "org.libvirt.DomainSnapshot",
  .kind = SNAPSHOT_KIND,
  .get_permission = "domain:read",
  .methods = snapshot_methods,
  .properties = snapshot_properties,
  .lookup = snapshot_lookup,
  .release = snapshot_release,
  .path = snapshot_path_of,
};
