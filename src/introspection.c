#include "introspection.h"

#include "vb-interfaces-resources.h"

#define RESOURCE_DIR "/org/libvirt/virtbus/interfaces"

static GHashTable *interfaces; /* name -> GDBusInterfaceInfo */

static gboolean
load_interface_file (const char *file_name, GError **error)
{
  g_autofree char *path = g_strconcat (RESOURCE_DIR "/", file_name, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GDBusNodeInfo) node = NULL;

  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return FALSE;

  node = g_dbus_node_info_new_for_xml (g_bytes_get_data (bytes, NULL), error);
  if (node == NULL)
    {
      g_prefix_error (error, "%s: ", file_name);
      return FALSE;
    }

  for (GDBusInterfaceInfo **iface = node->interfaces; *iface != NULL; iface++)
    {
      /* Caches the member lookups GDBus does on every call. */
      g_dbus_interface_info_cache_build (*iface);
      g_hash_table_insert (interfaces, (*iface)->name,
                           g_dbus_interface_info_ref (*iface));
    }
  return TRUE;
}

static void
release_interface (gpointer info)
{
  g_dbus_interface_info_cache_release (info);
  g_dbus_interface_info_unref (info);
}

gboolean
vb_introspection_load (GError **error)
{
  g_auto(GStrv) files = NULL;

  if (interfaces != NULL)
    return TRUE;

  vb_interfaces_register_resource ();
  files = g_resources_enumerate_children (RESOURCE_DIR,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (files == NULL)
    return FALSE;

  interfaces = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      release_interface);
  for (char **file = files; *file != NULL; file++)
    {
      if (!load_interface_file (*file, error))
        {
          vb_introspection_unload ();
          return FALSE;
        }
    }
  return TRUE;
}

void
vb_introspection_unload (void)
{
  if (interfaces == NULL)
    return;
  g_clear_pointer (&interfaces, g_hash_table_unref);
  vb_interfaces_unregister_resource ();
}

GDBusInterfaceInfo *
vb_introspection_lookup (const char *interface_name)
{
  if (interfaces == NULL)
    return NULL;
  return g_hash_table_lookup (interfaces, interface_name);
}
