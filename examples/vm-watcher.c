/* vm-watcher: prints every VM of a libvirt connection served by virtbusd,
 * with its state, and follows changes live, using nothing but the standard
 * org.freedesktop.DBus.ObjectManager and PropertiesChanged (through GDBus's
 * GDBusObjectManagerClient, which any D-Bus binding has an equivalent of).
 *
 *   vm-watcher [--session] [CONNECTION]      (default: QEMU on the system bus)
 */
#include <gio/gio.h>

static const char *const state_names[] = {
  "no state", "running", "blocked", "paused", "shutting down", "shut off",
  "crashed", "suspended",
};

static const char *
state_name (GDBusProxy *vm)
{
  g_autoptr(GVariant) state = g_dbus_proxy_get_cached_property (vm, "State");
  gint32 value = state != NULL ? g_variant_get_int32 (state) : 0;

  return value >= 0 && value < (gint32) G_N_ELEMENTS (state_names) ? state_names[value] : "?";
}

static void
print_vm (const char *what, GDBusProxy *vm)
{
  g_autoptr(GVariant) name = g_dbus_proxy_get_cached_property (vm, "Name");
  g_autoptr(GVariant) memory = g_dbus_proxy_get_cached_property (vm, "Memory");
  g_autoptr(GVariant) vcpus = g_dbus_proxy_get_cached_property (vm, "VCPUs");

  g_print ("%-8s %-24s %-14s %6" G_GUINT64_FORMAT " MiB %2u vCPU\n", what,
           name != NULL ? g_variant_get_string (name, NULL) : "?", state_name (vm),
           memory != NULL ? g_variant_get_uint64 (memory) / 1024 : 0,
           vcpus != NULL ? g_variant_get_uint32 (vcpus) : 0);
}

static GDBusProxy *
domain_of (GDBusObject *object)
{
  return G_DBUS_PROXY (g_dbus_object_get_interface (object, "org.libvirt.Domain"));
}

static void
on_object_added (GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
  g_autoptr(GDBusProxy) vm = domain_of (object);

  if (vm != NULL)
    print_vm ("new", vm);
}

static void
on_object_removed (GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
  g_autoptr(GDBusProxy) vm = domain_of (object);

  if (vm != NULL)
    print_vm ("gone", vm);
}

static void
on_properties_changed (GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                       GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                       gpointer data)
{
  if (g_str_equal (g_dbus_proxy_get_interface_name (proxy), "org.libvirt.Domain"))
    print_vm ("changed", proxy);
}

int
main (int argc, char **argv)
{
  GBusType bus_type = G_BUS_TYPE_SYSTEM;
  const char *connection = "QEMU";
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusObjectManager) manager = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GList *objects;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--session"))
        bus_type = G_BUS_TYPE_SESSION;
      else
        connection = argv[i];
    }
  path = g_strconcat ("/org/libvirt/", connection, NULL);
  manager = g_dbus_object_manager_client_new_for_bus_sync (
      bus_type, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, "org.libvirt", path,
      NULL, NULL, NULL, NULL, &error);
  if (manager == NULL)
    {
      g_printerr ("vm-watcher: %s\n", error->message);
      return 1;
    }

  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *o = objects; o != NULL; o = o->next)
    on_object_added (manager, o->data, NULL);
  g_list_free_full (objects, g_object_unref);

  g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), NULL);
  g_signal_connect (manager, "object-removed", G_CALLBACK (on_object_removed), NULL);
  g_signal_connect (manager, "interface-proxy-properties-changed",
                    G_CALLBACK (on_properties_changed), NULL);
  g_main_loop_run (loop);
  return 0;
}
