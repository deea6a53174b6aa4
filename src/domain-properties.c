/* org.libvirt.Domain's properties (domain.c has its methods).
 *
 * Each is read from libvirt when asked.  Name, Id and Active come from
 * the handle as looked up for the call, so a reused handle (handles.h) is
 * looked up again first; GetManagedObjects hands over what its bulk reads
 * of the whole host found (vb_domain_properties_preset) so that only the
 * rest is asked domain by domain. */
#include "objects.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "domain-properties.h"
#include "libvirt-glib-compat.h"
#include "paths.h"

/* What this call learnt of its domain: virDomainGetState's and
 * virDomainGetInfo's answers (State, StateReason, Memory, MaxMemory and
 * VCPUs come from two libvirt calls, made at most once per call: GetAll
 * reads all five), or what a bulk read of the whole host said
 * (vb_domain_properties_preset). */
typedef struct {
  gboolean have_state;
  int state;
  int reason;
  gboolean have_info;
  virDomainInfo info;
  gboolean have_persistent;
  gboolean persistent;
  gboolean have_autostart;
  gboolean autostart;
  /* What the domain's XML said (xml_read: asked; xml_parsed: understood). */
  gboolean xml_read;
  gboolean xml_parsed;
  char *os_type;
  gboolean has_title;
  gboolean has_description;
} DomainMemo;

static void
domain_memo_free (gpointer data)
{
  DomainMemo *memo = data;

  g_free (memo->os_type);
  g_free (memo);
}

static DomainMemo *
domain_memo (VbCall *call)
{
  if (call->memo == NULL)
    {
      call->memo = g_new0 (DomainMemo, 1);
      call->memo_free = domain_memo_free;
    }
  return call->memo;
}

void
vb_domain_properties_preset (VbCall *call, const VbDomainBulkFacts *facts)
{
  DomainMemo *memo = domain_memo (call);

  memo->have_state = facts->have_state;
  memo->state = facts->state;
  memo->reason = facts->reason;
  memo->have_persistent = facts->have_persistent;
  memo->persistent = facts->persistent;
  memo->have_autostart = facts->have_autostart;
  memo->autostart = facts->autostart;
}

static const DomainMemo *
domain_state (VbCall *call, GError **error)
{
  DomainMemo *memo = domain_memo (call);

  if (!memo->have_state &&
      virDomainGetState (call->object, &memo->state, &memo->reason, 0) < 0)
    {
      vb_libvirt_failed (error);
      return NULL;
    }
  memo->have_state = TRUE;
  return memo;
}

static const virDomainInfo *
domain_info (VbCall *call, GError **error)
{
  DomainMemo *memo = domain_memo (call);

  if (!memo->have_info && virDomainGetInfo (call->object, &memo->info) < 0)
    {
      vb_libvirt_failed (error);
      return NULL;
    }
  memo->have_info = TRUE;
  return &memo->info;
}

/* Reading every property of a QEMU domain: its XML, one RPC, says its OS
 * type and whether it has a title and a description (libvirt writes the
 * elements exactly when it has them), instead of three RPCs.  The texts
 * themselves are still asked with virDomainGetMetadata: libvirt leaves
 * control characters out of its XML.  Other drivers may answer otherwise
 * than their XML (the test driver's GetOSType says "linux" for an "hvm"
 * guest), and in process three calls cost less than an XML document. */
/* <os><type>hvm</type></os> */
static void
read_os_type (DomainMemo *memo, xmlNode *os)
{
  for (xmlNode *child = os->children; child != NULL; child = child->next)
    {
      xmlChar *text;

      if (child->type != XML_ELEMENT_NODE || !xmlStrEqual (child->name, BAD_CAST "type"))
        continue;
      text = xmlNodeGetContent (child);
      g_free (memo->os_type);
      memo->os_type = g_strdup ((const char *) text);
      xmlFree (text);
    }
}

static void
read_domain_element (DomainMemo *memo, xmlNode *root)
{
  for (xmlNode *node = root->children; node != NULL; node = node->next)
    {
      if (node->type != XML_ELEMENT_NODE)
        continue;
      if (xmlStrEqual (node->name, BAD_CAST "title"))
        memo->has_title = TRUE;
      else if (xmlStrEqual (node->name, BAD_CAST "description"))
        memo->has_description = TRUE;
      else if (xmlStrEqual (node->name, BAD_CAST "os"))
        read_os_type (memo, node);
    }
}

static void
read_xml_facts (DomainMemo *memo, const char *xml)
{
  xmlDoc *doc = xmlReadMemory (xml, (int) strlen (xml), NULL, "UTF-8",
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlNode *root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;

  if (root != NULL && xmlStrEqual (root->name, BAD_CAST "domain"))
    read_domain_element (memo, root);
  if (doc != NULL)
    xmlFreeDoc (doc);
  memo->xml_parsed = memo->os_type != NULL;
}

/* The XML facts of the call's domain, or NULL when its properties are not
 * all being read, the driver is not QEMU, or the XML could not be had. */
static const DomainMemo *
domain_xml_facts (VbCall *call)
{
  DomainMemo *memo = domain_memo (call);

  if (!call->reading_all || !g_str_has_prefix (vb_conn_get_uri (call->conn), "qemu"))
    return NULL;
  if (!memo->xml_read)
    {
      g_autofree char *xml = virDomainGetXMLDesc (call->object, 0);

      memo->xml_read = TRUE;
      if (xml != NULL)
        read_xml_facts (memo, xml);
      else
        virResetLastError ();
    }
  return memo->xml_parsed ? memo : NULL;
}

static GVariant *
domain_get_active (VbCall *call, GError **error)
{
  /* What virDomainIsActive answers (libvirt: active means it has an ID),
   * as of this call's lookup, without asking the driver again; a reused
   * handle's ID is older than the call, so libvirt is asked then. */
  if (call->object_reused)
    return vb_boolean_result (virDomainIsActive (call->object), error);
  return g_variant_new_boolean (virDomainGetID (call->object) != (unsigned int) -1);
}

static GVariant *
domain_get_autostart (VbCall *call, GError **error)
{
  const DomainMemo *memo = call->memo;
  int autostart = 0;

  if (memo != NULL && memo->have_autostart)
    return g_variant_new_boolean (memo->autostart);
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
  unsigned int id;

  if (!vb_call_refresh_object (call, error))
    return NULL;
  id = virDomainGetID (call->object);

  return g_variant_new_uint32 (id == (unsigned int) -1 ? 0 : id);
}

static GVariant *
domain_get_name (VbCall *call, GError **error)
{
  if (!vb_call_refresh_object (call, error))
    return NULL;
  return vb_string_result (virDomainGetName (call->object), error);
}

static GVariant *
domain_get_os_type (VbCall *call, GError **error)
{
  const DomainMemo *facts = domain_xml_facts (call);

  if (facts != NULL)
    return g_variant_new_string (facts->os_type);
  return vb_owned_string_result (virDomainGetOSType (call->object), error);
}

static GVariant *
domain_get_persistent (VbCall *call, GError **error)
{
  const DomainMemo *memo = call->memo;

  if (memo != NULL && memo->have_persistent)
    return g_variant_new_boolean (memo->persistent);
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
domain_property_state (VbCall *call, GError **error)
{
  const DomainMemo *memo = domain_state (call, error);

  return memo != NULL ? g_variant_new_int32 (memo->state) : NULL;
}

static GVariant *
domain_get_state_reason (VbCall *call, GError **error)
{
  const DomainMemo *memo = domain_state (call, error);

  return memo != NULL ? g_variant_new_int32 (memo->reason) : NULL;
}

static GVariant *
domain_get_memory (VbCall *call, GError **error)
{
  const virDomainInfo *info = domain_info (call, error);

  return info != NULL ? g_variant_new_uint64 (info->memory) : NULL;
}

static GVariant *
domain_get_max_memory (VbCall *call, GError **error)
{
  const virDomainInfo *info = domain_info (call, error);

  return info != NULL ? g_variant_new_uint64 (info->maxMem) : NULL;
}

static GVariant *
domain_property_vcpus (VbCall *call, GError **error)
{
  const virDomainInfo *info = domain_info (call, error);

  return info != NULL ? g_variant_new_uint32 (info->nrVirtCpu) : NULL;
}

/* Title and Description: the domain's metadata of that type, "" when it
 * has none (libvirt reports that as an error). */
static GVariant *
domain_metadata (VbCall *call, int type, GError **error)
{
  char *text = virDomainGetMetadata (call->object, type, NULL, 0);
  virErrorPtr last;

  if (text != NULL)
    return vb_owned_string_result (text, error);
  last = virGetLastError ();
  if (last != NULL && last->code == VIR_ERR_NO_DOMAIN_METADATA)
    return g_variant_new_string ("");
  return vb_libvirt_failed (error);
}

static GVariant *
domain_get_title (VbCall *call, GError **error)
{
  const DomainMemo *facts = domain_xml_facts (call);

  if (facts != NULL && !facts->has_title)
    return g_variant_new_string ("");
  return domain_metadata (call, VIR_DOMAIN_METADATA_TITLE, error);
}

static GVariant *
domain_get_description (VbCall *call, GError **error)
{
  const DomainMemo *facts = domain_xml_facts (call);

  if (facts != NULL && !facts->has_description)
    return g_variant_new_string ("");
  return domain_metadata (call, VIR_DOMAIN_METADATA_DESCRIPTION, error);
}

static GVariant *
domain_get_uuid (VbCall *call, GError **error)
{
  unsigned char raw[VIR_UUID_BUFLEN];
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (virDomainGetUUID (call->object, raw) < 0)
    return vb_libvirt_failed (error);
  vb_uuid_format (raw, uuid);
  return g_variant_new_string (uuid);
}

const VbProperty vb_domain_properties[] = {
  { "Active", domain_get_active },
  { "Autostart", domain_get_autostart, domain_set_autostart, "domain:write" },
  { "Description", domain_get_description },
  { "Id", domain_get_id },
  { "MaxMemory", domain_get_max_memory },
  { "Memory", domain_get_memory },
  { "Name", domain_get_name },
  { "OSType", domain_get_os_type },
  { "Persistent", domain_get_persistent },
  { "SchedulerType", domain_get_scheduler_type },
  { "State", domain_property_state },
  { "StateReason", domain_get_state_reason },
  { "Title", domain_get_title },
  { "Updated", domain_get_updated },
  { "UUID", domain_get_uuid },
  { "VCPUs", domain_property_vcpus },
  { NULL }
};
