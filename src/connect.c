/* org.libvirt.Connect: one object per libvirt connection, at
 * /org/libvirt/<name>. */
#include "objects.h"

#include <stdlib.h>

#include <gio/gunixfdlist.h>

#include "libvirt-glib-compat.h"
#include "typed-params.h"

/* ---- properties --------------------------------------------------------- */

static GVariant *
connect_get_encrypted (VbCall *call, GError **error)
{
  return vb_boolean_result (virConnectIsEncrypted (call->virconn), error);
}

static GVariant *
connect_get_hostname (VbCall *call, GError **error)
{
  return vb_owned_string_result (virConnectGetHostname (call->virconn), error);
}

static GVariant *
connect_get_lib_version (VbCall *call, GError **error)
{
  unsigned long version = 0;

  if (virConnectGetLibVersion (call->virconn, &version) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_uint64 (version);
}

static GVariant *
connect_get_secure (VbCall *call, GError **error)
{
  return vb_boolean_result (virConnectIsSecure (call->virconn), error);
}

static GVariant *
connect_get_version (VbCall *call, GError **error)
{
  unsigned long version = 0;

  if (virConnectGetVersion (call->virconn, &version) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new_uint64 (version);
}

/* ---- host ------------------------------------------------------------- */

static GVariant *
connect_baseline_cpu (VbCall *call, GVariant *args, GError **error)
{
  g_autofree const char **cpus = NULL;
  guint flags;
  g_autofree char *baseline = NULL;

  g_variant_get (args, "(^a&su)", &cpus, &flags);
  baseline = virConnectBaselineCPU (call->virconn, cpus,
                                    g_strv_length ((char **) cpus), flags);
  if (baseline == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", baseline);
}

static GVariant *
connect_compare_cpu (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;
  int result;

  g_variant_get (args, "(&su)", &xml, &flags);
  result = virConnectCompareCPU (call->virconn, xml, flags);
  if (result == VIR_CPU_COMPARE_ERROR)
    return vb_libvirt_failed (error);
  return g_variant_new ("(i)", result);
}

static GVariant *
connect_get_capabilities (VbCall *call, GVariant *args, GError **error)
{
  g_autofree char *caps = virConnectGetCapabilities (call->virconn);

  if (caps == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", caps);
}

static GVariant *
connect_get_cpu_model_names (VbCall *call, GVariant *args, GError **error)
{
  const char *arch;
  guint flags;
  char **models = NULL;
  int n_models;
  GVariantBuilder builder;

  g_variant_get (args, "(&su)", &arch, &flags);
  n_models = virConnectGetCPUModelNames (call->virconn, arch, &models, flags);
  if (n_models < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("as"));
  for (int i = 0; i < n_models; i++)
    {
      g_variant_builder_add (&builder, "s", models[i]);
      free (models[i]);
    }
  free (models);
  return g_variant_new ("(as)", &builder);
}

/* libvirt's ACL asks connect:write of virConnectGetDomainCapabilities
 * because the caller may name any emulator binary, which libvirtd then
 * runs to probe it.  Without one, libvirt answers for the emulator its
 * own capabilities name for the architecture and machine: host facts
 * like GetCapabilities' (connect:read), which Cockpit's Virtual Machines
 * page reads for every VM it lists.  So only naming a binary needs write
 * (docs/authorization.md). */
static gboolean
domain_capabilities_names_emulator (GVariant *args)
{
  return *vb_arg_string (args, 0) != '\0';
}

static GVariant *
connect_get_domain_capabilities (VbCall *call, GVariant *args, GError **error)
{
  const char *emulator, *arch, *machine, *virt_type;
  guint flags;
  g_autofree char *caps = NULL;

  g_variant_get (args, "(&s&s&s&su)", &emulator, &arch, &machine, &virt_type, &flags);
  caps = virConnectGetDomainCapabilities (call->virconn, vb_empty_to_null (emulator),
                                          vb_empty_to_null (arch),
                                          vb_empty_to_null (machine),
                                          vb_empty_to_null (virt_type), flags);
  if (caps == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", caps);
}

static GVariant *
connect_get_sysinfo (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree char *sysinfo = NULL;

  g_variant_get (args, "(u)", &flags);
  sysinfo = virConnectGetSysinfo (call->virconn, flags);
  if (sysinfo == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", sysinfo);
}

static GVariant *
connect_node_get_cpu_map (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  g_autofree unsigned char *cpumap = NULL;
  int n_cpus;
  GVariantBuilder builder;

  g_variant_get (args, "(u)", &flags);
  n_cpus = virNodeGetCPUMap (call->virconn, &cpumap, NULL, flags);
  if (n_cpus < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("ab"));
  for (int i = 0; i < n_cpus; i++)
    g_variant_builder_add (&builder, "b", VIR_CPU_USED (cpumap, i) != 0);
  return g_variant_new ("(ab)", &builder);
}

static GVariant *
connect_node_get_cpu_stats (VbCall *call, GVariant *args, GError **error)
{
  int cpu;
  guint flags;
  int n_params = 0;
  g_autofree virNodeCPUStatsPtr params = NULL;
  GVariantBuilder builder;

  g_variant_get (args, "(iu)", &cpu, &flags);
  /* The first call only counts the fields. */
  if (virNodeGetCPUStats (call->virconn, cpu, NULL, &n_params, flags) < 0)
    return vb_libvirt_failed (error);
  params = g_new0 (virNodeCPUStats, MAX (n_params, 1));
  if (n_params > 0 &&
      virNodeGetCPUStats (call->virconn, cpu, params, &n_params, flags) < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  for (int i = 0; i < n_params; i++)
    g_variant_builder_add (&builder, "{st}", params[i].field, params[i].value);
  return g_variant_new ("(a{st})", &builder);
}

static GVariant *
connect_node_get_free_memory (VbCall *call, GVariant *args, GError **error)
{
  unsigned long long free_memory;

  /* 0 is both a possible answer and libvirt's error value. */
  virResetLastError ();
  free_memory = virNodeGetFreeMemory (call->virconn);
  if (free_memory == 0 && virGetLastError () != NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(t)", (guint64) free_memory);
}

/* The node's memory parameters as libvirt lists them (names and types). */
static gboolean
node_memory_parameters (virConnectPtr virconn, guint flags,
                        virTypedParameterPtr *out_params, int *out_n_params,
                        GError **error)
{
  int n_params = 0;
  virTypedParameterPtr params;

  if (virNodeGetMemoryParameters (virconn, NULL, &n_params, flags) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  params = g_new0 (virTypedParameter, MAX (n_params, 1));
  if (n_params > 0 &&
      virNodeGetMemoryParameters (virconn, params, &n_params, flags) < 0)
    {
      vb_error_set_from_libvirt (error);
      g_free (params);
      return FALSE;
    }
  *out_params = params;
  *out_n_params = n_params;
  return TRUE;
}

static GVariant *
connect_node_get_memory_parameters (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virTypedParameterPtr params = NULL;
  int n_params = 0;
  GVariant *dict;

  g_variant_get (args, "(u)", &flags);
  if (!node_memory_parameters (call->virconn, flags, &params, &n_params, error))
    return NULL;
  dict = vb_typed_params_to_dict (params, n_params);
  virTypedParamsClear (params, n_params);
  g_free (params);
  return g_variant_new ("(@a{sv})", dict);
}

static GVariant *
connect_node_set_memory_parameters (VbCall *call, GVariant *args, GError **error)
{
  g_autoptr(GVariant) dict = NULL;
  guint flags;
  virTypedParameterPtr known = NULL;
  int n_known = 0;
  virTypedParameterPtr params = NULL;
  int n_params = 0;
  gboolean converted;
  int result;

  g_variant_get (args, "(@a{sv}u)", &dict, &flags);
  /* The current parameters say which names and types libvirt accepts. */
  if (!node_memory_parameters (call->virconn, 0, &known, &n_known, error))
    return NULL;
  converted = vb_typed_params_from_dict (dict, known, n_known, &params,
                                         &n_params, error);
  virTypedParamsClear (known, n_known);
  g_free (known);
  if (!converted)
    return NULL;

  result = virNodeSetMemoryParameters (call->virconn, params, n_params, flags);
  virTypedParamsFree (params, n_params);
  if (result < 0)
    return vb_libvirt_failed (error);
  return g_variant_new ("()");
}

static GVariant *
connect_node_get_memory_stats (VbCall *call, GVariant *args, GError **error)
{
  int cell;
  guint flags;
  int n_params = 0;
  g_autofree virNodeMemoryStatsPtr params = NULL;
  GVariantBuilder builder;

  g_variant_get (args, "(iu)", &cell, &flags);
  if (virNodeGetMemoryStats (call->virconn, cell, NULL, &n_params, flags) < 0)
    return vb_libvirt_failed (error);
  params = g_new0 (virNodeMemoryStats, MAX (n_params, 1));
  if (n_params > 0 &&
      virNodeGetMemoryStats (call->virconn, cell, params, &n_params, flags) < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  for (int i = 0; i < n_params; i++)
    g_variant_builder_add (&builder, "{st}", params[i].field, params[i].value);
  return g_variant_new ("(a{st})", &builder);
}

static GVariant *
connect_node_get_security_model (VbCall *call, GVariant *args, GError **error)
{
  virSecurityModel model = { 0 };

  if (virNodeGetSecurityModel (call->virconn, &model) < 0)
    return vb_libvirt_failed (error);
  return g_variant_new ("((ss))", model.model, model.doi);
}

static GVariant *
connect_find_storage_pool_sources (VbCall *call, GVariant *args, GError **error)
{
  const char *type, *spec;
  guint flags;
  g_autofree char *sources = NULL;

  g_variant_get (args, "(&s&su)", &type, &spec, &flags);
  sources = virConnectFindStoragePoolSources (call->virconn, type,
                                              vb_empty_to_null (spec), flags);
  if (sources == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", sources);
}

/* ---- domains ---------------------------------------------------------- */

static GVariant *
connect_list_domains (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virDomainPtr *domains = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllDomains (call->virconn, &domains, flags);
  return vb_object_list_reply (call, &vb_domain_interface, (gpointer *) domains,
                               n, error);
}

static GVariant *
connect_domain_create_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_domain_interface,
                          virDomainCreateXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_domain_create_xml_with_files (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  g_autoptr(GVariant) handles = NULL;
  guint flags;
  guint n_fds = 0;
  g_autofree int *fds = NULL;

  g_variant_get (args, "(&s@ahu)", &xml, &handles, &flags);
  fds = vb_call_fds_from_handles (call, handles, &n_fds, error);
  if (fds == NULL)
    return NULL;
  return vb_object_reply (call, &vb_domain_interface,
                          virDomainCreateXMLWithFiles (call->virconn, xml, n_fds,
                                                       fds, flags), error);
}

static GVariant *
connect_domain_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;

  g_variant_get (args, "(&s)", &xml);
  return vb_object_reply (call, &vb_domain_interface,
                          virDomainDefineXML (call->virconn, xml), error);
}

static GVariant *
connect_domain_lookup_by_id (VbCall *call, GVariant *args, GError **error)
{
  gint32 id;

  g_variant_get (args, "(i)", &id);
  return vb_object_reply (call, &vb_domain_interface,
                          virDomainLookupByID (call->virconn, id), error);
}

static GVariant *
connect_domain_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name = vb_arg_string (args, 0);

  return vb_object_reply (call, &vb_domain_interface,
                          virDomainLookupByName (call->virconn, name), error);
}

static GVariant *
connect_domain_lookup_by_uuid (VbCall *call, GVariant *args, GError **error)
{
  const char *uuid = vb_arg_string (args, 0);

  return vb_object_reply (call, &vb_domain_interface,
                          virDomainLookupByUUIDString (call->virconn, uuid), error);
}

static GVariant *
connect_domain_restore (VbCall *call, GVariant *args, GError **error)
{
  const char *from, *xml;
  guint flags;

  g_variant_get (args, "(&s&su)", &from, &xml, &flags);
  return vb_unit_result (virDomainRestoreFlags (call->virconn, from,
                                               vb_empty_to_null (xml), flags), error);
}

static GVariant *
connect_domain_save_image_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *file, *xml;
  guint flags;

  g_variant_get (args, "(&s&su)", &file, &xml, &flags);
  return vb_unit_result (virDomainSaveImageDefineXML (call->virconn, file, xml, flags),
                         error);
}

static GVariant *
connect_domain_save_image_get_xml_desc (VbCall *call, GVariant *args, GError **error)
{
  const char *file;
  guint flags;
  g_autofree char *xml = NULL;

  g_variant_get (args, "(&su)", &file, &flags);
  xml = virDomainSaveImageGetXMLDesc (call->virconn, file, flags);
  if (xml == NULL)
    return vb_libvirt_failed (error);
  return g_variant_new ("(s)", xml);
}

static GVariant *
connect_get_all_domain_stats (VbCall *call, GVariant *args, GError **error)
{
  guint stats, flags;
  virDomainStatsRecordPtr *records = NULL;
  int n_records;
  GVariantBuilder builder;

  g_variant_get (args, "(uu)", &stats, &flags);
  n_records = virConnectGetAllDomainStats (call->virconn, stats, &records, flags);
  if (n_records < 0)
    return vb_libvirt_failed (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sa{sv})"));
  for (int i = 0; i < n_records; i++)
    {
      g_variant_builder_add (&builder, "(s@a{sv})", virDomainGetName (records[i]->dom),
                             vb_typed_params_to_dict (records[i]->params,
                                                      records[i]->nparams));
      vb_call_note_listed (call, &vb_domain_interface, records[i]->dom);
    }
  virDomainStatsRecordListFree (records);
  return g_variant_new ("(a(sa{sv}))", &builder);
}

/* ---- networks --------------------------------------------------------- */

static GVariant *
connect_list_networks (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virNetworkPtr *networks = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllNetworks (call->virconn, &networks, flags);
  return vb_object_list_reply (call, &vb_network_interface, (gpointer *) networks,
                               n, error);
}

static GVariant *
connect_network_create_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;

  g_variant_get (args, "(&s)", &xml);
  return vb_object_reply (call, &vb_network_interface,
                          virNetworkCreateXML (call->virconn, xml), error);
}

static GVariant *
connect_network_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;

  g_variant_get (args, "(&s)", &xml);
  return vb_object_reply (call, &vb_network_interface,
                          virNetworkDefineXML (call->virconn, xml), error);
}

static GVariant *
connect_network_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_network_interface,
                          virNetworkLookupByName (call->virconn, name), error);
}

static GVariant *
connect_network_lookup_by_uuid (VbCall *call, GVariant *args, GError **error)
{
  const char *uuid;

  g_variant_get (args, "(&s)", &uuid);
  return vb_object_reply (call, &vb_network_interface,
                          virNetworkLookupByUUIDString (call->virconn, uuid), error);
}

/* ---- storage ---------------------------------------------------------- */

static GVariant *
connect_list_storage_pools (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virStoragePoolPtr *pools = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllStoragePools (call->virconn, &pools, flags);
  return vb_object_list_reply (call, &vb_storage_pool_interface,
                               (gpointer *) pools, n, error);
}

static GVariant *
connect_storage_pool_create_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_storage_pool_interface,
                          virStoragePoolCreateXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_storage_pool_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_storage_pool_interface,
                          virStoragePoolDefineXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_storage_pool_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_storage_pool_interface,
                          virStoragePoolLookupByName (call->virconn, name), error);
}

static GVariant *
connect_storage_pool_lookup_by_uuid (VbCall *call, GVariant *args, GError **error)
{
  const char *uuid;

  g_variant_get (args, "(&s)", &uuid);
  return vb_object_reply (call, &vb_storage_pool_interface,
                          virStoragePoolLookupByUUIDString (call->virconn, uuid),
                          error);
}

static GVariant *
connect_storage_vol_lookup_by_key (VbCall *call, GVariant *args, GError **error)
{
  const char *key;

  g_variant_get (args, "(&s)", &key);
  return vb_object_reply (call, &vb_storage_vol_interface,
                          virStorageVolLookupByKey (call->virconn, key), error);
}

static GVariant *
connect_storage_vol_lookup_by_path (VbCall *call, GVariant *args, GError **error)
{
  const char *path;

  g_variant_get (args, "(&s)", &path);
  return vb_object_reply (call, &vb_storage_vol_interface,
                          virStorageVolLookupByPath (call->virconn, path), error);
}

/* ---- node devices ----------------------------------------------------- */

static GVariant *
connect_list_node_devices (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virNodeDevicePtr *devices = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllNodeDevices (call->virconn, &devices, flags);
  return vb_object_list_reply (call, &vb_node_device_interface,
                               (gpointer *) devices, n, error);
}

static GVariant *
connect_node_device_create_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_node_device_interface,
                          virNodeDeviceCreateXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_node_device_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_node_device_interface,
                          virNodeDeviceLookupByName (call->virconn, name), error);
}

static GVariant *
connect_node_device_lookup_scsi_host_by_wwn (VbCall *call, GVariant *args,
                                             GError **error)
{
  const char *wwnn, *wwpn;
  guint flags;

  g_variant_get (args, "(&s&su)", &wwnn, &wwpn, &flags);
  return vb_object_reply (call, &vb_node_device_interface,
                          virNodeDeviceLookupSCSIHostByWWN (call->virconn, wwnn,
                                                            wwpn, flags), error);
}

/* ---- host interfaces -------------------------------------------------- */

static GVariant *
connect_list_interfaces (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virInterfacePtr *ifaces = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllInterfaces (call->virconn, &ifaces, flags);
  return vb_object_list_reply (call, &vb_host_interface_interface,
                               (gpointer *) ifaces, n, error);
}

static GVariant *
connect_interface_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_host_interface_interface,
                          virInterfaceDefineXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_interface_lookup_by_mac (VbCall *call, GVariant *args, GError **error)
{
  const char *mac;

  g_variant_get (args, "(&s)", &mac);
  return vb_object_reply (call, &vb_host_interface_interface,
                          virInterfaceLookupByMACString (call->virconn, mac), error);
}

static GVariant *
connect_interface_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_host_interface_interface,
                          virInterfaceLookupByName (call->virconn, name), error);
}

static GVariant *
connect_interface_change_begin (VbCall *call, GVariant *args, GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (virInterfaceChangeBegin (call->virconn, flags), error);
}

static GVariant *
connect_interface_change_commit (VbCall *call, GVariant *args, GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (virInterfaceChangeCommit (call->virconn, flags), error);
}

static GVariant *
connect_interface_change_rollback (VbCall *call, GVariant *args, GError **error)
{
  guint flags;

  g_variant_get (args, "(u)", &flags);
  return vb_unit_result (virInterfaceChangeRollback (call->virconn, flags), error);
}

/* ---- network filters -------------------------------------------------- */

static GVariant *
connect_list_nwfilters (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virNWFilterPtr *filters = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllNWFilters (call->virconn, &filters, flags);
  return vb_object_list_reply (call, &vb_nwfilter_interface, (gpointer *) filters,
                               n, error);
}

static GVariant *
connect_nwfilter_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;

  g_variant_get (args, "(&s)", &xml);
  return vb_object_reply (call, &vb_nwfilter_interface,
                          virNWFilterDefineXML (call->virconn, xml), error);
}

static GVariant *
connect_nwfilter_lookup_by_name (VbCall *call, GVariant *args, GError **error)
{
  const char *name;

  g_variant_get (args, "(&s)", &name);
  return vb_object_reply (call, &vb_nwfilter_interface,
                          virNWFilterLookupByName (call->virconn, name), error);
}

static GVariant *
connect_nwfilter_lookup_by_uuid (VbCall *call, GVariant *args, GError **error)
{
  const char *uuid;

  g_variant_get (args, "(&s)", &uuid);
  return vb_object_reply (call, &vb_nwfilter_interface,
                          virNWFilterLookupByUUIDString (call->virconn, uuid), error);
}

/* ---- secrets ---------------------------------------------------------- */

static GVariant *
connect_list_secrets (VbCall *call, GVariant *args, GError **error)
{
  guint flags;
  virSecretPtr *secrets = NULL;
  int n;

  g_variant_get (args, "(u)", &flags);
  n = virConnectListAllSecrets (call->virconn, &secrets, flags);
  return vb_object_list_reply (call, &vb_secret_interface, (gpointer *) secrets,
                               n, error);
}

static GVariant *
connect_secret_define_xml (VbCall *call, GVariant *args, GError **error)
{
  const char *xml;
  guint flags;

  g_variant_get (args, "(&su)", &xml, &flags);
  return vb_object_reply (call, &vb_secret_interface,
                          virSecretDefineXML (call->virconn, xml, flags), error);
}

static GVariant *
connect_secret_lookup_by_uuid (VbCall *call, GVariant *args, GError **error)
{
  const char *uuid;

  g_variant_get (args, "(&s)", &uuid);
  return vb_object_reply (call, &vb_secret_interface,
                          virSecretLookupByUUIDString (call->virconn, uuid), error);
}

static GVariant *
connect_secret_lookup_by_usage (VbCall *call, GVariant *args, GError **error)
{
  gint32 usage_type;
  const char *usage_id;

  g_variant_get (args, "(i&s)", &usage_type, &usage_id);
  return vb_object_reply (call, &vb_secret_interface,
                          virSecretLookupByUsage (call->virconn, usage_type, usage_id),
                          error);
}

/* ---- the table -------------------------------------------------------- */

#define CHEAP VB_COST_CHEAP
#define INSTANT VB_COST_INSTANT
#define SLOW VB_COST_SLOW

/* Permissions follow libvirt's ACL checks for the wrapped call; where
 * libvirt checks several, the one that matters most is named. */
static const VbMethod connect_methods[] = {
  { "BaselineCPU", connect_baseline_cpu, "connect:read", CHEAP },
  { "CompareCPU", connect_compare_cpu, "connect:read", CHEAP },
  { "DomainCreateXML", connect_domain_create_xml, "domain:start", SLOW },
  { "DomainCreateXMLWithFiles", connect_domain_create_xml_with_files, "domain:start", SLOW },
  { "DomainDefineXML", connect_domain_define_xml, "domain:write", CHEAP },
  { "DomainLookupByID", connect_domain_lookup_by_id, "domain:getattr", INSTANT },
  { "DomainLookupByName", connect_domain_lookup_by_name, "domain:getattr", INSTANT },
  { "DomainLookupByUUID", connect_domain_lookup_by_uuid, "domain:getattr", INSTANT },
  { "DomainRestore", connect_domain_restore, "domain:start", SLOW },
  { "DomainSaveImageDefineXML", connect_domain_save_image_define_xml, "domain:write", SLOW },
  { "DomainSaveImageGetXMLDesc", connect_domain_save_image_get_xml_desc, "domain:read", SLOW,
    VB_FLAG_PERMISSION (VIR_DOMAIN_SAVE_IMAGE_XML_SECURE, "domain:read-secure") },
  { "FindStoragePoolSources", connect_find_storage_pool_sources, "connect:detect-storage-pools", SLOW },
  { "GetAllDomainStats", connect_get_all_domain_stats, "connect:search-domains", SLOW },
  { "GetCapabilities", connect_get_capabilities, "connect:read", CHEAP },
  { "GetCPUModelNames", connect_get_cpu_model_names, "connect:read", CHEAP },
  { "GetDomainCapabilities", connect_get_domain_capabilities, "connect:read", SLOW,
    VB_ARG_PERMISSION (domain_capabilities_names_emulator, "a non-empty `emulatorbin`",
                       "connect:write") },
  { "GetSysinfo", connect_get_sysinfo, "connect:read", CHEAP },
  { "InterfaceChangeBegin", connect_interface_change_begin, "connect:interface-transaction", SLOW },
  { "InterfaceChangeCommit", connect_interface_change_commit, "connect:interface-transaction", SLOW },
  { "InterfaceChangeRollback", connect_interface_change_rollback, "connect:interface-transaction", SLOW },
  { "InterfaceDefineXML", connect_interface_define_xml, "interface:write", CHEAP },
  { "InterfaceLookupByMAC", connect_interface_lookup_by_mac, "interface:getattr", INSTANT },
  { "InterfaceLookupByName", connect_interface_lookup_by_name, "interface:getattr", INSTANT },
  { "ListDomains", connect_list_domains, "connect:search-domains", CHEAP },
  { "ListInterfaces", connect_list_interfaces, "connect:search-interfaces", CHEAP },
  { "ListNetworks", connect_list_networks, "connect:search-networks", CHEAP },
  { "ListNodeDevices", connect_list_node_devices, "connect:search-node-devices", CHEAP },
  { "ListNWFilters", connect_list_nwfilters, "connect:search-nwfilters", CHEAP },
  { "ListSecrets", connect_list_secrets, "connect:search-secrets", CHEAP },
  { "ListStoragePools", connect_list_storage_pools, "connect:search-storage-pools", CHEAP },
  { "NetworkCreateXML", connect_network_create_xml, "network:start", SLOW },
  { "NetworkDefineXML", connect_network_define_xml, "network:write", CHEAP },
  { "NetworkLookupByName", connect_network_lookup_by_name, "network:getattr", INSTANT },
  { "NetworkLookupByUUID", connect_network_lookup_by_uuid, "network:getattr", INSTANT },
  { "NodeDeviceCreateXML", connect_node_device_create_xml, "node-device:start", SLOW },
  { "NodeDeviceLookupByName", connect_node_device_lookup_by_name, "node-device:getattr", INSTANT },
  { "NodeDeviceLookupSCSIHostByWWN", connect_node_device_lookup_scsi_host_by_wwn, "node-device:getattr", INSTANT },
  { "NWFilterDefineXML", connect_nwfilter_define_xml, "nwfilter:write", CHEAP },
  { "NWFilterLookupByName", connect_nwfilter_lookup_by_name, "nwfilter:getattr", INSTANT },
  { "NWFilterLookupByUUID", connect_nwfilter_lookup_by_uuid, "nwfilter:getattr", INSTANT },
  { "NodeGetCPUMap", connect_node_get_cpu_map, "connect:read", CHEAP },
  { "NodeGetCPUStats", connect_node_get_cpu_stats, "connect:read", CHEAP },
  { "NodeGetFreeMemory", connect_node_get_free_memory, "connect:read", CHEAP },
  { "NodeGetMemoryParameters", connect_node_get_memory_parameters, "connect:read", CHEAP },
  { "NodeGetMemoryStats", connect_node_get_memory_stats, "connect:read", CHEAP },
  { "NodeGetSecurityModel", connect_node_get_security_model, "connect:read", CHEAP },
  { "NodeSetMemoryParameters", connect_node_set_memory_parameters, "connect:write", CHEAP },
  { "SecretDefineXML", connect_secret_define_xml, "secret:write", CHEAP },
  { "SecretLookupByUUID", connect_secret_lookup_by_uuid, "secret:getattr", INSTANT },
  { "SecretLookupByUsage", connect_secret_lookup_by_usage, "secret:getattr", INSTANT },
  { "StoragePoolCreateXML", connect_storage_pool_create_xml, "storage-pool:start", SLOW },
  { "StoragePoolDefineXML", connect_storage_pool_define_xml, "storage-pool:write", CHEAP },
  { "StoragePoolLookupByName", connect_storage_pool_lookup_by_name, "storage-pool:getattr", INSTANT },
  { "StoragePoolLookupByUUID", connect_storage_pool_lookup_by_uuid, "storage-pool:getattr", INSTANT },
  { "StorageVolLookupByKey", connect_storage_vol_lookup_by_key, "storage-vol:getattr", INSTANT },
  { "StorageVolLookupByPath", connect_storage_vol_lookup_by_path, "storage-vol:getattr", INSTANT },
  { NULL }
};

static const VbProperty connect_properties[] = {
  { "Encrypted", connect_get_encrypted },
  { "Hostname", connect_get_hostname },
  { "LibVersion", connect_get_lib_version },
  { "Secure", connect_get_secure },
  { "Version", connect_get_version },
  { NULL }
};

const VbInterface vb_connect_interface = {
  .name = "org.libvirt.Connect",
  .kind = NULL,
  .get_permission = "connect:read",
  .methods = connect_methods,
  .properties = connect_properties,
};
