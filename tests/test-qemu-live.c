/* Live state through a real libvirtd, with the changes made behind
 * virtbus's back: a QEMU guest defined, started, paused, resumed, stopped
 * and undefined with virsh (another libvirt connection to the same driver),
 * and a subscriber on virtbus sees InterfacesAdded, PropertiesChanged with
 * the right values, in order, and InterfacesRemoved.  Guests are named
 * vbtest-<pid>-live-* and removed at the end, even after a failure. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-watch.h"

#define DOMAIN "org.libvirt.Domain"
#define QEMU_PATH "/org/libvirt/QEMU"

static void
remove_test_guests (void)
{
  g_autofree char *names = vb_virsh ((const char *[]) { "list", "--all", "--name", NULL },
                                     NULL);
  g_auto(GStrv) lines = g_strsplit (names != NULL ? names : "", "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      g_autofree char *name = g_strstrip (g_strdup (*line));

      if (!vb_test_run_name_is_removable (name) || strstr (name, "-live-") == NULL)
        continue;
      g_free (vb_virsh ((const char *[]) { "destroy", name, NULL }, NULL));
      g_free (vb_virsh ((const char *[]) { "undefine", name, NULL }, NULL));
    }
}

static char *
write_guest_xml (const char *name)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
      "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
      "<devices><graphics type='vnc' port='-1' listen='127.0.0.1'/></devices></domain>",
      name);
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("vbtest-live-XXXXXX.xml", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, xml, -1, &error);
  g_assert_no_error (error);
  return path;
}

static char *
domain_path (VbTestFixture *f, const char *name)
{
  g_autoptr(GVariant) reply = vb_test_call (f, QEMU_PATH, "org.libvirt.Connect",
                                            "DomainLookupByName",
                                            g_variant_new ("(s)", name), "(o)");

  return vb_test_reply_path (reply);
}

static void
test_changes_behind_virtbus_back (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *name = vb_test_run_name ("live-guest");
  g_autofree char *xml_file = write_guest_xml (name);
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
  g_autofree char *path = NULL;
  g_autoptr(GVariant) added = NULL, started = NULL, paused = NULL, resumed = NULL;
  g_autoptr(GVariant) stopped = NULL;

  vb_virsh_ok ((const char *[]) { "define", xml_file, NULL });
  path = domain_path (f, name);
  added = vb_watcher_expect_added (watcher, path, DOMAIN);
  vb_assert_dict_value (added, "Active", "false");
  vb_assert_dict_value (added, "State", "5");
  vb_assert_dict_value (added, "MaxMemory", "uint64 65536");

  vb_virsh_ok ((const char *[]) { "start", name, NULL });
  started = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (started, "Active", "true");
  vb_assert_dict_value (started, "State", "1");

  vb_virsh_ok ((const char *[]) { "suspend", name, NULL });
  paused = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (paused, "State", "3");

  vb_virsh_ok ((const char *[]) { "resume", name, NULL });
  resumed = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (resumed, "State", "1");

  vb_virsh_ok ((const char *[]) { "destroy", name, NULL });
  stopped = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (stopped, "Active", "false");
  vb_assert_dict_value (stopped, "Id", "uint32 0");
  vb_assert_dict_value (stopped, "State", "5");

  vb_virsh_ok ((const char *[]) { "undefine", name, NULL });
  vb_watcher_expect_removed (watcher, path, DOMAIN);
  g_unlink (xml_file);
}

/* On a real libvirtd too, GetManagedObjects has exactly ListDomains'
 * domains. */
static void
test_managed_objects_match_list (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) managed = vb_test_call (f, QEMU_PATH,
                                              "org.freedesktop.DBus.ObjectManager",
                                              "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  g_autoptr(GVariant) listed = vb_test_call (f, QEMU_PATH, "org.libvirt.Connect",
                                             "ListDomains", g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) objects = g_variant_get_child_value (managed, 0);
  g_autofree const char **paths = NULL;
  guint n_domains = 0;
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;

  g_variant_get (listed, "(^a&o)", &paths);
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(GVariant) entry = g_variant_lookup_value (objects, paths[i], NULL);

      g_assert_nonnull (entry);
    }
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_loop (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) domain = g_variant_lookup_value (interfaces, DOMAIN, NULL);

      if (domain != NULL)
        n_domains++;
    }
  g_assert_cmpuint (n_domains, ==, g_strv_length ((char **) paths));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/qemu-live/changes-behind-virtbus-back", VbTestFixture, NULL,
              vb_test_setup_libvirtd, test_changes_behind_virtbus_back, vb_test_teardown);
  g_test_add ("/qemu-live/managed-objects-match-list", VbTestFixture, NULL,
              vb_test_setup_libvirtd, test_managed_objects_match_list, vb_test_teardown);

  return vb_test_run_with_libvirtd (remove_test_guests);
}
