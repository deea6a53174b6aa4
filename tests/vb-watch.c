/* Watching an object's live state (tests of ObjectManager and
 * PropertiesChanged): records PropertiesChanged, InterfacesAdded and
 * InterfacesRemoved from org.libvirt, and checks every PropertiesChanged
 * against the EmitsChangedSignal annotations of the interface's XML. */
#include "vb-watch.h"

#include <string.h>

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define EMITS "org.freedesktop.DBus.Property.EmitsChangedSignal"

/* ---- a recorder of PropertiesChanged and InterfacesAdded/Removed -------- */

typedef struct {
  char *path;          /* the object: the signal's path or its first argument */
  char *member;
  GVariant *args;
} Notice;

struct _VbWatcher {
  VbTestFixture *f;
  GQueue notices;
  guint subscriptions[2];
  GHashTable *interfaces;  /* name -> GDBusNodeInfo holding it */
};

static void
notice_free (Notice *notice)
{
  g_free (notice->path);
  g_free (notice->member);
  g_variant_unref (notice->args);
  g_free (notice);
}

static void
on_signal (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
           const char *member, GVariant *args, gpointer data)
{
  VbWatcher *watcher = data;
  Notice *notice = g_new0 (Notice, 1);

  notice->member = g_strdup (member);
  notice->args = g_variant_ref (args);
  if (g_str_equal (iface, OBJECT_MANAGER))
    g_variant_get_child (args, 0, "o", &notice->path);
  else
    notice->path = g_strdup (path);
  g_queue_push_tail (&watcher->notices, notice);
}

VbWatcher *
vb_watcher_new (VbTestFixture *f)
{
  VbWatcher *watcher = g_new0 (VbWatcher, 1);
  const char *const ifaces[] = { PROPERTIES, OBJECT_MANAGER };
  g_autoptr(GVariant) ping = NULL;
  g_autoptr(GError) error = NULL;

  watcher->f = f;
  watcher->interfaces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_dbus_node_info_unref);
  for (int i = 0; i < 2; i++)
    watcher->subscriptions[i] = g_dbus_connection_signal_subscribe (
        f->bus, "org.libvirt", ifaces[i], NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
        on_signal, watcher, NULL);
  /* The match rules are in place once a call has gone through the bus
   * after them. */
  ping = g_dbus_connection_call_sync (f->bus, "org.libvirt", "/", "org.freedesktop.DBus.Peer",
                                      "Ping", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                      &error);
  g_assert_no_error (error);
  return watcher;
}

void
vb_watcher_free (VbWatcher *watcher)
{
  for (int i = 0; i < 2; i++)
    g_dbus_connection_signal_unsubscribe (watcher->f->bus, watcher->subscriptions[i]);
  g_queue_clear_full (&watcher->notices, (GDestroyNotify) notice_free);
  g_hash_table_unref (watcher->interfaces);
  g_free (watcher);
}

static GDBusInterfaceInfo *
interface_info (VbWatcher *watcher, const char *path, const char *name)
{
  GDBusNodeInfo *node = g_hash_table_lookup (watcher->interfaces, name);

  if (node == NULL)
    {
      vb_test_introspect_interface (watcher->f, path, name, &node);
      g_hash_table_insert (watcher->interfaces, g_strdup (name), node);
    }
  return g_dbus_node_info_lookup_interface (node, name);
}

static const char *
emits (GDBusInterfaceInfo *info, const char *property)
{
  GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (info, property);
  const char *value;

  g_assert_nonnull (p);
  value = g_dbus_annotation_info_lookup (p->annotations, EMITS);
  if (value == NULL)
    value = g_dbus_annotation_info_lookup (info->annotations, EMITS);
  return value != NULL ? value : "true";
}

/* What the XML promises: values only of "true" properties, names only of
 * "invalidates" ones, never a "const" or "false" one. */
static void
assert_annotations_kept (VbWatcher *watcher, const Notice *notice)
{
  const char *iface, *name;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  GDBusInterfaceInfo *info;
  GVariantIter iter;
  GVariant *value;

  g_variant_get (notice->args, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  info = interface_info (watcher, notice->path, iface);
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (info, name);

      if (!g_str_equal (emits (info, name), "true"))
        g_error ("%s.%s changed with a value, but its EmitsChangedSignal is %s", iface,
                 name, emits (info, name));
      g_assert_cmpstr (g_variant_get_type_string (value), ==, p->signature);
    }
  for (gsize i = 0; invalidated[i] != NULL; i++)
    if (!g_str_equal (emits (info, invalidated[i]), "invalidates"))
      g_error ("%s.%s invalidated, but its EmitsChangedSignal is %s", iface,
               invalidated[i], emits (info, invalidated[i]));
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The next notice about @path (others are passed over), within 5 s. */
static Notice *
watcher_next (VbWatcher *watcher, const char *path)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (5, on_timeout, &timed_out);

  for (;;)
    {
      while (!g_queue_is_empty (&watcher->notices))
        {
          Notice *notice = g_queue_pop_head (&watcher->notices);

          if (g_str_equal (notice->member, "PropertiesChanged"))
            assert_annotations_kept (watcher, notice);
          if (g_str_equal (notice->path, path))
            {
              if (!timed_out)
                g_source_remove (timeout);
              return notice;
            }
          notice_free (notice);
        }
      if (timed_out)
        g_error ("no notice about %s within 5 s", path);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* The next notice about @path is PropertiesChanged on @iface; returns its
 * changed values. */
GVariant *
vb_watcher_expect_changed (VbWatcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  const char *name;
  GVariant *changed;

  g_assert_cmpstr (notice->member, ==, "PropertiesChanged");
  g_variant_get (notice->args, "(&s@a{sv}as)", &name, &changed, NULL);
  g_assert_cmpstr (name, ==, iface);
  notice_free (notice);
  return changed;
}

/* The next notice about @path is InterfacesAdded of @iface; returns its
 * properties. */
GVariant *
vb_watcher_expect_added (VbWatcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  g_autoptr(GVariant) interfaces = NULL;
  GVariant *properties;

  g_assert_cmpstr (notice->member, ==, "InterfacesAdded");
  g_variant_get (notice->args, "(o@a{sa{sv}})", NULL, &interfaces);
  g_assert_cmpuint (g_variant_n_children (interfaces), ==, 1);
  properties = g_variant_lookup_value (interfaces, iface, G_VARIANT_TYPE ("a{sv}"));
  g_assert_nonnull (properties);
  notice_free (notice);
  return properties;
}

void
vb_watcher_expect_removed (VbWatcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  g_autofree const char **names = NULL;

  g_assert_cmpstr (notice->member, ==, "InterfacesRemoved");
  g_variant_get (notice->args, "(o^a&s)", NULL, &names);
  g_assert_cmpuint (g_strv_length ((char **) names), ==, 1);
  g_assert_cmpstr (names[0], ==, iface);
  notice_free (notice);
}

void
vb_assert_dict_value (GVariant *dict, const char *name, const char *expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, name, NULL);
  g_autofree char *text = NULL;

  if (value == NULL)
    {
      g_autofree char *all = g_variant_print (dict, TRUE);

      g_error ("%s missing from %s", name, all);
    }
  text = g_variant_print (value, TRUE);
  g_assert_cmpstr (text, ==, expected);
}

void
vb_assert_dict_lacks (GVariant *dict, const char *name)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, name, NULL);

  g_assert_null (value);
}

