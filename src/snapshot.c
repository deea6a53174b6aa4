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

/* A snapshot's checks name its domain too: rules about a VM cover its
 * snapshots. */
static void
snapshot_describe (gpointer snapshot, GHashTable *details)
{
  virDomainPtr domain = virDomainSnapshotGetDomain (snapshot);
  char uuid[VIR_UUID_STRING_BUFLEN];

  vb_details_add (details, "snapshot_name", virDomainSnapshotGetName (snapshot));
  vb_details_add (details, "domain_name", virDomainGetName (domain));
  if (virDomainGetUUIDString (domain, uuid) == 0)
    vb_details_add (details, "domain_uuid", uuid);
}

/* Most members take nothing but flags. */
static guint
flags_arg (GVariant *args)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return flags;
}

/* The reply tuple of a member with one out argument; NULL (error set)
 * stays NULL. */
static GVariant *
single_reply (GVariant *value)
{
  return value != NULL ? g_variant_new_tuple (&value, 1) : NULL;
}

/* ---- org.libvirt.Domain members ---------------------------------------- */

GVariant *
vb_domain_list_snapshots (VbCall *call, GVariant *args, GError **error)
{
  virDomainSnapshotPtr *snapshots = NULL;
  int n_snapshots = virDomainListAllSnapshots (call->object, &snapshots,
                                               flags_arg (args));

  return vb_object_list_reply (call, &vb_domain_snapshot_interface,
                               (gpointer *) snapshots, n_snapshots, error);
}

/* virDomainSnapshotCreateXML and virDomainSnapshotLookupByName alike. */
typedef virDomainSnapshotPtr (*SnapshotFromStringFunc) (virDomainPtr domain,
                                                        const char *str,
                                                        unsigned int flags);

/* (s, u) in, the snapshot's path out. */
static GVariant *
snapshot_from_string_reply (VbCall *call, GVariant *args,
                            SnapshotFromStringFunc func, GError **error)
{
  const char *str;
  guint flags;

  g_variant_get (args, "(&su)", &str, &flags);
  return vb_object_reply (call, &vb_domain_snapshot_interface,
                          func (call->object, str, flags), error);
}

GVariant *
vb_domain_snapshot_create_xml (VbCall *call, GVariant *args, GError **error)
{
  return snapshot_from_string_reply (call, args, virDomainSnapshotCreateXML, error);
}

GVariant *
vb_domain_snapshot_current (VbCall *call, GVariant *args, GError **error)
{
  return vb_object_reply (call, &vb_domain_snapshot_interface,
                          virDomainSnapshotCurrent (call->object, flags_arg (args)),
                          error);
}

/* An unknown name answers org.libvirt.Error, as the Connect lookups do
 * and as the reference daemon does. */
GVariant *
vb_domain_snapshot_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  return snapshot_from_string_reply (call, args, virDomainSnapshotLookupByName, error);
}

/* ---- org.libvirt.DomainSnapshot methods -------------------------------- */

static GVariant *
snapshot_delete (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virDomainSnapshotDelete (call->object, flags_arg (args)),
                         error);
}

/* A root snapshot has no parent: libvirt's error, not UnknownObject, since
 * the object called does exist. */
static GVariant *
snapshot_get_parent (VbCall *call, GVariant *args, GError **error)
{
  return vb_object_reply (call, &vb_domain_snapshot_interface,
                          virDomainSnapshotGetParent (call->object, flags_arg (args)),
                          error);
}

static GVariant *
snapshot_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  char *xml = virDomainSnapshotGetXMLDesc (call->object, flags_arg (args));

  return single_reply (vb_owned_string_result (xml, error));
}

static GVariant *
snapshot_is_current (VbCall *call, GVariant *args, GError **error)
{
  int current = virDomainSnapshotIsCurrent (call->object, flags_arg (args));

  return single_reply (vb_boolean_result (current, error));
}

static GVariant *
snapshot_list_children (VbCall *call, GVariant *args, GError **error)
{
  virDomainSnapshotPtr *children = NULL;
  int n_children = virDomainSnapshotListAllChildren (call->object, &children,
                                                     flags_arg (args));

  return vb_object_list_reply (call, &vb_domain_snapshot_interface,
                               (gpointer *) children, n_children, error);
}

static GVariant *
snapshot_revert (VbCall *call, GVariant *args, GError **error)
{
  return vb_unit_result (virDomainRevertToSnapshot (call->object, flags_arg (args)),
                         error);
}

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

/* Permissions as libvirt's ACLs: a snapshot is part of its domain. */
static const VbMethod snapshot_methods[] = {
  { "Delete", snapshot_delete, "domain:snapshot", SLOW },
  { "GetParent", snapshot_get_parent, "domain:read", CHEAP },
  { "GetXMLDesc", snapshot_get_xml_desc, "domain:read", INSTANT,
    VB_FLAG_PERMISSION (VIR_DOMAIN_SNAPSHOT_XML_SECURE, "domain:read-secure") },
  { "IsCurrent", snapshot_is_current, "domain:read", CHEAP },
  { "ListChildren", snapshot_list_children, "domain:read", CHEAP },
  { "Revert", snapshot_revert, "domain:snapshot", SLOW },
  { NULL }
};

static const VbProperty snapshot_properties[] = {
  { NULL }
};

const VbInterface vb_domain_snapshot_interface = {
  .name = "org.libvirt.DomainSnapshot",
  .kind = SNAPSHOT_KIND,
  .get_permission = "domain:read",
  .list_permission = "domain:getattr",
  .get_cost = VB_COST_INSTANT,
  .methods = snapshot_methods,
  .properties = snapshot_properties,
  .lookup = snapshot_lookup,
  .release = snapshot_release,
  .describe = snapshot_describe,
  .path = snapshot_path_of,
};
