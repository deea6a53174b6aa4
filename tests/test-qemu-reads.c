/* Fast reads on a real libvirtd stay exact (issue 16).
 *
 * Reads reuse the domain handles a channel looked up before, and
 * GetManagedObjects answers from bulk calls and several channels at once;
 * neither may answer anything a read at the time of the call would not.
 * Changes are made behind virtbus's back with virsh: a rename, a start,
 * an undefine, a new definition with the same UUID.  Guests are named
 * vbtest-<pid>-reads-* and removed at the end, even after a failure. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"
#include "vb-watch.h"

#define DOMAIN "org.libvirt.Domain"
#define QEMU_PATH "/org/libvirt/QEMU"
/* More calls than a channel set holds channels, so that reads land on
 * channels that kept the handle from earlier calls. */
#define READS 24
/* Enough domains for GetManagedObjects to spread them over helpers. */
#define MANY 120

static gboolean
is_ours (const char *name)
{
  return vb_test_run_name_is_removable (name) && strstr (name, "-reads-") != NULL;
}

static void
remove_test_guests (void)
{
  vb_libvirtd_remove_guests (is_ours);
}

static char *
guest_xml_file (const char *name, const char *uuid)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='qemu'><name>%s</name>%s%s%s<memory unit='MiB'>64</memory>"
      "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
      name, uuid != NULL ? "<uuid>" : "", uuid != NULL ? uuid : "",
      uuid != NULL ? "</uuid>" : "");
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("vbtest-reads-XXXXXX.xml", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, xml, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
define_guest (const char *name, const char *uuid)
{
  g_autofree char *file = guest_xml_file (name, uuid);

  vb_virsh_ok ((const char *[]) { "define", file, NULL });
  g_unlink (file);
}

static char *
domain_path (VbTestFixture *f, const char *name)
{
  g_autoptr(GVariant) reply = vb_test_call (f, QEMU_PATH, "org.libvirt.Connect",
                                            "DomainLookupByName",
                                            g_variant_new ("(s)", name), "(o)");

  return vb_test_reply_path (reply);
}

static char *
get_string (VbTestFixture *f, const char *path, const char *property)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, DOMAIN, property);

  return g_variant_dup_string (value, NULL);
}

/* Name, UUID, Active, Id and State as Get, GetAll and GetXMLDesc tell
 * them, READS times each, all as expected. */
static void
assert_reads (VbTestFixture *f, const char *path, const char *name, gboolean active)
{
  g_autofree char *name_element = g_strdup_printf ("<name>%s</name>", name);

  for (int i = 0; i < READS; i++)
    {
      g_autofree char *got_name = get_string (f, path, "Name");
      g_autoptr(GVariant) got_active = vb_test_get_property (f, path, DOMAIN, "Active");
      g_autoptr(GVariant) got_id = vb_test_get_property (f, path, DOMAIN, "Id");
      g_autoptr(GVariant) got_state = vb_test_get_property (f, path, DOMAIN, "State");
      g_autoptr(GVariant) all = vb_test_get_all (f, path, DOMAIN);
      g_autoptr(GVariant) xml = vb_test_call (f, path, DOMAIN, "GetXMLDesc",
                                              g_variant_new ("(u)", 0), "(s)");
      g_autofree char *quoted = g_strdup_printf ("'%s'", name);
      const char *xml_text = NULL;

      g_assert_cmpstr (got_name, ==, name);
      g_assert_cmpint (g_variant_get_boolean (got_active), ==, active);
      g_assert_cmpint (g_variant_get_uint32 (got_id) != 0, ==, active);
      /* libvirt's VIR_DOMAIN_RUNNING and VIR_DOMAIN_SHUTOFF */
      g_assert_cmpint (g_variant_get_int32 (got_state), ==, active ? 1 : 5);
      vb_assert_dict_value (all, "Name", quoted);
      vb_assert_dict_value (all, "Active", active ? "true" : "false");
      g_variant_get (xml, "(&s)", &xml_text);
      g_assert_nonnull (strstr (xml_text, name_element));
    }
}

/* Every read of a removed guest's path answers UnknownObject, however
 * many channels kept its handle. */
static void
assert_gone (VbTestFixture *f, const char *path)
{
  for (int i = 0; i < READS; i++)
    {
      vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "Get",
                                 g_variant_new ("(ss)", DOMAIN, "State"),
                                 "org.freedesktop.DBus.Error.UnknownObject", NULL);
      vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "GetAll",
                                 g_variant_new ("(s)", DOMAIN),
                                 "org.freedesktop.DBus.Error.UnknownObject", NULL);
      vb_test_assert_call_error (f, path, DOMAIN, "GetXMLDesc", g_variant_new ("(u)", 0),
                                 "org.freedesktop.DBus.Error.UnknownObject", NULL);
    }
  vb_test_assert_object_gone (f, path, DOMAIN);
}

static void
test_reused_handles_follow_changes (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *name = vb_test_run_name ("reads-guest");
  g_autofree char *renamed = vb_test_run_name ("reads-renamed");
  g_autofree char *again = vb_test_run_name ("reads-again");
  g_autofree char *path = NULL;
  g_autofree char *uuid = NULL;

  define_guest (name, NULL);
  path = domain_path (f, name);
  uuid = get_string (f, path, "UUID");
  assert_reads (f, path, name, FALSE);

  vb_virsh_ok ((const char *[]) { "domrename", name, renamed, NULL });
  assert_reads (f, path, renamed, FALSE);

  vb_virsh_ok ((const char *[]) { "start", renamed, NULL });
  assert_reads (f, path, renamed, TRUE);
  vb_virsh_ok ((const char *[]) { "destroy", renamed, NULL });
  assert_reads (f, path, renamed, FALSE);

  vb_virsh_ok ((const char *[]) { "undefine", renamed, NULL });
  assert_gone (f, path);

  /* The same UUID, so the same path, for another guest. */
  define_guest (again, uuid);
  assert_reads (f, path, again, FALSE);
  vb_virsh_ok ((const char *[]) { "undefine", again, NULL });
  assert_gone (f, path);
}

/* The properties of one domain in GetManagedObjects' answer. */
static GVariant *
managed_properties (GVariant *objects, const char *path)
{
  g_autoptr(GVariant) interfaces = g_variant_lookup_value (objects, path, NULL);

  g_assert_nonnull (interfaces);
  return g_variant_lookup_value (interfaces, DOMAIN, G_VARIANT_TYPE ("a{sv}"));
}

/* Defines @count guests through one virsh (one process, not @count),
 * every third set to start with the host. */
static GPtrArray *
define_many (int count)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) commands = g_string_new ("");
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) virsh = NULL;

  for (int i = 0; i < count; i++)
    {
      g_autofree char *what = g_strdup_printf ("reads-many-%03d", i);
      char *name = vb_test_run_name (what);
      char *file = guest_xml_file (name, NULL);

      g_string_append_printf (commands, "define %s\n", file);
      if (i % 3 == 0)
        g_string_append_printf (commands, "autostart %s\n", name);
      g_ptr_array_add (names, name);
      g_ptr_array_add (files, file);
    }
  virsh = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                            &error, "virsh", "-c", VB_LIBVIRTD_URI, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (virsh, commands->str, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (virsh) && g_subprocess_get_exit_status (virsh) == 0);
  for (guint i = 0; i < files->len; i++)
    g_unlink (files->pdata[i]);
  return names;
}

/* Each property of @all (a GetAll answer) is what Properties.Get of that
 * property alone answers (each from its own libvirt call). */
static void
assert_get_agrees (VbTestFixture *f, const char *path, GVariant *all)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, all);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      g_autoptr(GVariant) alone = vb_test_get_property (f, path, DOMAIN, name);

      if (!g_variant_equal (alone, value))
        {
          g_autofree char *a = g_variant_print (value, TRUE);
          g_autofree char *b = g_variant_print (alone, TRUE);

          g_error ("%s: %s is %s in GetAll, %s alone", path, name, a, b);
        }
    }
}

/* Titles and descriptions that the domain XML cannot carry as they are:
 * a control character (libvirt leaves it out of its XML) and a carriage
 * return (an XML reader turns it into a line feed). */
static void
set_awkward_texts (const char *name)
{
  vb_virsh_ok ((const char *[]) { "desc", name, "--title", "--new-desc", "ti\001tle\rx", NULL });
  vb_virsh_ok ((const char *[]) { "desc", name, "--new-desc", "line one\r\nline\001two",
                                  NULL });
}

/* GetManagedObjects, from bulk calls and several channels, answers for
 * each domain what GetAll answers for it alone, and GetAll what each
 * property's Get answers: on many inactive guests (a third of them
 * autostarted, one with awkward texts), a running one, a transient one. */
static void
test_managed_objects_equal_get_all (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) names = define_many (MANY);
  g_autofree char *running = vb_test_run_name ("reads-running");
  g_autofree char *transient = vb_test_run_name ("reads-transient");
  g_autofree char *transient_file = guest_xml_file (transient, NULL);
  g_autoptr(GVariant) managed = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) listed = NULL;
  g_autofree const char **paths = NULL;
  g_autofree char *prefix = vb_test_run_name ("reads-");
  guint ours = 0, autostarted = 0;

  set_awkward_texts (names->pdata[1]);
  define_guest (running, NULL);
  vb_virsh_ok ((const char *[]) { "start", running, NULL });
  vb_virsh_ok ((const char *[]) { "create", transient_file, NULL });
  g_unlink (transient_file);

  managed = vb_test_call (f, QEMU_PATH, "org.freedesktop.DBus.ObjectManager",
                          "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
  objects = g_variant_get_child_value (managed, 0);
  listed = vb_test_call (f, QEMU_PATH, "org.libvirt.Connect", "ListDomains",
                         g_variant_new ("(u)", 0), "(ao)");
  g_variant_get (listed, "(^a&o)", &paths);
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(GVariant) from_managed = managed_properties (objects, paths[i]);
      g_autoptr(GVariant) alone = vb_test_get_all (f, paths[i], DOMAIN);
      g_autofree char *name = NULL;
      gboolean autostart = FALSE;

      g_assert_nonnull (from_managed);
      if (!g_variant_equal (from_managed, alone))
        {
          g_autofree char *a = g_variant_print (from_managed, TRUE);
          g_autofree char *b = g_variant_print (alone, TRUE);

          g_error ("%s: GetManagedObjects says\n%s\nGetAll says\n%s", paths[i], a, b);
        }
      g_variant_lookup (alone, "Name", "s", &name);
      if (!g_str_has_prefix (name, prefix))
        continue;
      assert_get_agrees (f, paths[i], alone);
      ours++;
      if (g_variant_lookup (alone, "Autostart", "b", &autostart) && autostart)
        autostarted++;
    }
  g_assert_cmpuint (ours, ==, MANY + 2);
  g_assert_cmpuint (autostarted, ==, MANY / 3);
  {
    g_autofree char *awkward = domain_path (f, names->pdata[1]);
    g_autoptr(GVariant) title = vb_test_get_property (f, awkward, DOMAIN, "Title");

    g_assert_cmpstr (g_variant_get_string (title, NULL), ==, "ti\001tle\rx");
  }

  vb_virsh_ok ((const char *[]) { "destroy", running, NULL });
  vb_virsh_ok ((const char *[]) { "destroy", transient, NULL });
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/qemu-reads/reused-handles-follow-changes", VbTestFixture, NULL,
              vb_test_setup_libvirtd, test_reused_handles_follow_changes, vb_test_teardown);
  g_test_add ("/qemu-reads/managed-objects-equal-get-all", VbTestFixture, NULL,
              vb_test_setup_libvirtd, test_managed_objects_equal_get_all, vb_test_teardown);

  return vb_test_run_with_libvirtd (remove_test_guests);
}
