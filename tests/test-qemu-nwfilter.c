/* org.libvirt.NWFilter against a real libvirtd (qemu:///system; the test
 * driver has no network filters): a filter defined, read, looked up by
 * name and UUID, redefined, and undefined; filters removed behind
 * virtbus's back.  libvirt has no filter events.  Every filter is named
 * vbtest-<pid>-* and removed at the end, even after a failure; at the
 * start, leftovers of runs whose process is gone are removed too. */
#include <string.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define CONNECT_PATH "/org/libvirt/QEMU"
#define CONNECT "org.libvirt.Connect"
#define NWFILTER "org.libvirt.NWFilter"

/* printf format: the name */
#define FILTER_XML \
  "<filter name='%s' chain='ipv4'>" \
  "<rule action='accept' direction='out' priority='500'><tcp dstportstart='22'/></rule>" \
  "</filter>"
/* printf format: the name, the UUID */
#define FILTER_XML_2 \
  "<filter name='%s' chain='ipv4'><uuid>%s</uuid>" \
  "<rule action='drop' direction='in' priority='400'><tcp dstportstart='2222'/></rule>" \
  "</filter>"

/* vbtest-<pid>-filter: made by main() */
static char *filter_name;

static void
remove_test_filters (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *list = vb_virsh ((const char *[]) { "nwfilter-list", NULL }, &error);
  g_auto(GStrv) lines = g_strsplit (list != NULL ? list : "", "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (*line), " ", -1);
      const char *name = words[0] != NULL ? words[g_strv_length (words) - 1] : "";
      g_autofree char *out = NULL;

      if (vb_test_run_name_is_removable (name))
        out = vb_virsh ((const char *[]) { "nwfilter-undefine", name, NULL }, NULL);
    }
}

static void
teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_teardown (f, data);
  remove_test_filters ();
}

/* Defines FILTER_XML, or FILTER_XML_2 when @uuid is not NULL. */
static char *
define_filter (VbTestFixture *f, const char *uuid)
{
  g_autofree char *xml = uuid != NULL ? g_strdup_printf (FILTER_XML_2, filter_name, uuid)
                                      : g_strdup_printf (FILTER_XML, filter_name);
  g_autoptr(GVariant) reply = vb_test_call (f, CONNECT_PATH, CONNECT, "NWFilterDefineXML",
                                            g_variant_new ("(s)", xml), "(o)");

  return vb_test_reply_path (reply);
}

static char *
xml_desc (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NWFILTER, "GetXMLDesc",
                                            g_variant_new ("(u)", 0), "(s)");
  char *xml;

  g_variant_get (reply, "(s)", &xml);
  return xml;
}

static char *
lookup (VbTestFixture *f, const char *method, const char *key)
{
  g_autoptr(GVariant) reply = vb_test_call (f, CONNECT_PATH, CONNECT, method,
                                            g_variant_new ("(s)", key), "(o)");

  return vb_test_reply_path (reply);
}

static void
test_define_read_lookup_undefine (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_filter (f, NULL);
  g_autoptr(GVariant) all = vb_test_get_all (f, path, NWFILTER);
  g_autofree char *xml = xml_desc (f, path);
  const char *name = NULL, *uuid = NULL;
  g_autofree char *uuid_path = NULL;
  g_autofree char *by_name = lookup (f, "NWFilterLookupByName", filter_name);
  g_autofree char *by_uuid = NULL;
  g_autoptr(GVariant) undefined = NULL;

  g_assert_true (g_variant_lookup (all, "Name", "&s", &name));
  g_assert_true (g_variant_lookup (all, "UUID", "&s", &uuid));
  g_assert_cmpstr (name, ==, filter_name);
  uuid_path = g_strdelimit (g_strconcat (CONNECT_PATH "/nwfilter/_", uuid, NULL), "-", '_');
  g_assert_cmpstr (path, ==, uuid_path);
  g_assert_nonnull (strstr (xml, filter_name));
  g_assert_nonnull (strstr (xml, uuid));
  g_assert_nonnull (strstr (xml, "dstportstart='22'"));
  by_uuid = lookup (f, "NWFilterLookupByUUID", uuid);
  g_assert_cmpstr (by_name, ==, path);
  g_assert_cmpstr (by_uuid, ==, path);
  vb_test_assert_call_error (f, path, NWFILTER, "GetXMLDesc", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");

  undefined = vb_test_call (f, path, NWFILTER, "Undefine", NULL, "()");
  vb_test_assert_object_gone (f, path, NWFILTER);
  vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "NWFilterLookupByName",
                             g_variant_new ("(s)", filter_name), VB_ERROR_LIBVIRT_NAME,
                             "not found");
  vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "NWFilterLookupByUUID",
                             g_variant_new ("(s)", uuid), VB_ERROR_LIBVIRT_NAME, "not found");
}

/* Defining a filter of the same name and UUID changes it in place: same
 * path, new rules.  Without the UUID libvirt refuses. */
static void
test_redefine (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_filter (f, NULL);
  g_autoptr(GVariant) uuid = vb_test_get_property (f, path, NWFILTER, "UUID");
  g_autofree char *again = define_filter (f, g_variant_get_string (uuid, NULL));
  g_autofree char *unchanged = g_strdup_printf (FILTER_XML, filter_name);
  g_autofree char *xml = xml_desc (f, path);

  g_assert_cmpstr (again, ==, path);
  g_assert_nonnull (strstr (xml, "dstportstart='2222'"));
  g_assert_null (strstr (xml, "dstportstart='22'"));
  vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "NWFilterDefineXML",
                             g_variant_new ("(s)", unchanged), VB_ERROR_LIBVIRT_NAME,
                             "already exists");
}

static void
test_define_errors (VbTestFixture *f, gconstpointer data)
{
  const char *bad[] = { "", "<filter", "<filter name='vbtest-x'><rule action='nope'/></filter>",
                        "<network><name>vbtest-x</name></network>" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "NWFilterDefineXML",
                               g_variant_new ("(s)", bad[i]), VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "NWFilterLookupByUUID",
                             g_variant_new ("(s)", "not-a-uuid"), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_removed_behind_our_back (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_filter (f, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "nwfilter-undefine", filter_name, NULL },
                                   &error);

  g_assert_no_error (error);
  vb_test_assert_object_gone (f, path, NWFILTER);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_filter (f, NULL);
  g_autofree char *xml = NULL;

  vb_test_sweep_object (f, path, NWFILTER, "<filter><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, path, NWFILTER, "", 0x80000000, NULL);
  xml = xml_desc (f, path);
  g_assert_nonnull (strstr (xml, "dstportstart='22'"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  filter_name = vb_test_run_name ("filter");

#define ADD(name, func) \
  g_test_add ("/qemu-nwfilter/" name, VbTestFixture, NULL, vb_test_setup_libvirtd, func, \
              teardown)

  ADD ("Define+GetXMLDesc+LookupByName+LookupByUUID+Undefine", test_define_read_lookup_undefine);
  ADD ("redefine", test_redefine);
  ADD ("define-errors", test_define_errors);
  ADD ("removed-behind-our-back", test_removed_behind_our_back);
  ADD ("sweep", test_sweep);
#undef ADD

  return vb_test_run_with_libvirtd (remove_test_filters);
}
