/* org.libvirt.DomainSnapshot, every method, and the snapshot members of
 * org.libvirt.Domain, over the bus against libvirt's test driver.
 *
 * The DomainSnapshot methods run on a test-driver host written here with a
 * snapshot tree already in it (test:///default has no snapshots until one
 * is made with Domain.SnapshotCreateXML):
 *
 *   root (running)
 *   +- child-1.x (running)
 *   |  +- leaf (shut off; the current snapshot)
 *   +- child 2 (shut off)
 *
 * The Domain members run on test:///default, and make, walk and delete a
 * snapshot tree of their own there. */
#include <libvirt/libvirt.h>
#include <string.h>

#include "vb-test.h"

#define SNAPSHOT_IFACE "org.libvirt.DomainSnapshot"
#define DOMAIN_IFACE "org.libvirt.Domain"
#define UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define UNSUPPORTED_FLAGS "unsupported flags"

#define SNAP_CONNECT_PATH "/org/libvirt/Snap"
#define SNAP_DOMAIN_UUID "2c7f3a16-5a5e-4b8e-9d3e-0a1b2c3d4e5f"
#define SNAP_DOMAIN_SEGMENT "_2c7f3a16_5a5e_4b8e_9d3e_0a1b2c3d4e5f"
#define SNAP_DOMAIN_PATH SNAP_CONNECT_PATH "/domain/" SNAP_DOMAIN_SEGMENT
#define SNAP_PATH(escaped_name) \
  SNAP_CONNECT_PATH "/domainsnapshot/" SNAP_DOMAIN_SEGMENT "_" escaped_name
#define ROOT SNAP_PATH ("root")
#define CHILD1 SNAP_PATH ("child_2d1_2ex")
#define CHILD2 SNAP_PATH ("child_202")
#define LEAF SNAP_PATH ("leaf")

#define TEST_SNAPSHOT_PATH(escaped_name) \
  VB_TEST_CONNECT_PATH "/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_" escaped_name

/* ---- the test-driver host with snapshots ------------------------------- */

#define SNAP_DOMAIN_XML \
  "<domain type='test'><name>snapdom</name><uuid>" SNAP_DOMAIN_UUID "</uuid>" \
  "<memory>65536</memory><os><type>hvm</type></os></domain>"

/* The test driver loads snapshots given as <test:domainsnapshot> elements
 * in the form libvirt stores them (with <active> marking the current
 * one). */
#define SNAPSHOT_RECORD(name, state, parent, time, active) \
  "<test:domainsnapshot><name>" name "</name><state>" state "</state>" parent \
  "<creationTime>" time "</creationTime><active>" active "</active>" \
  SNAP_DOMAIN_XML "</test:domainsnapshot>"
#define PARENT(name) "<parent><name>" name "</name></parent>"

static const char node_xml[] =
  "<node>"
  "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
  "<name>snapdom</name><uuid>" SNAP_DOMAIN_UUID "</uuid>"
  "<memory>65536</memory><os><type>hvm</type></os>"
  SNAPSHOT_RECORD ("root", "running", "", "1000", "0")
  SNAPSHOT_RECORD ("child-1.x", "running", PARENT ("root"), "1001", "0")
  SNAPSHOT_RECORD ("child 2", "shutoff", PARENT ("root"), "1002", "0")
  SNAPSHOT_RECORD ("leaf", "shutoff", PARENT ("child-1.x"), "1003", "1")
  "</domain>"
  "</node>";

static char *node_file;

/* Beside the test program: rewritten on each run (always the same), so a
 * run that dies leaves nothing behind in /tmp. */
static void
write_node_file (void)
{
  g_autoptr(GError) error = NULL;

  node_file = g_test_build_filename (G_TEST_BUILT, "test-snapshot-node.xml", NULL);
  g_file_set_contents (node_file, node_xml, -1, &error);
  g_assert_no_error (error);
}

static void
setup_with_snapshots (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *connect = g_strconcat ("Snap=test://", node_file, NULL);
  const char *const args[] = { "--connect", connect, NULL };

  vb_test_setup_with_args (f, args);
}

/* ---- helpers ------------------------------------------------------------ */

/* The paths of an "(ao)" reply, in the order sent. */
static GPtrArray *
reply_paths (GVariant *reply)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;

  g_variant_get (reply, "(ao)", &iter);
  while (g_variant_iter_next (iter, "&o", &path))
    g_ptr_array_add (paths, g_strdup (path));
  return paths;
}

static gboolean
domain_is_active (VbTestFixture *f, const char *domain_path)
{
  g_autoptr(GVariant) active = vb_test_get_property (f, domain_path, DOMAIN_IFACE, "Active");

  return g_variant_get_boolean (active);
}

/* Waits for DomainEvent and asserts what it says. */
static void
assert_domain_event (VbSignalRecorder *recorder, const char *domain_path,
                     int event, int detail)
{
  g_autofree char *emitter = NULL;
  g_autoptr(GVariant) args = vb_signal_recorder_wait (recorder, &emitter);
  const char *path;
  int got_event, got_detail;

  g_variant_get (args, "(&oii)", &path, &got_event, &got_detail);
  g_assert_cmpstr (path, ==, domain_path);
  g_assert_cmpint (got_event, ==, event);
  g_assert_cmpint (got_detail, ==, detail);
}

/* ---- DomainSnapshot methods -------------------------------------------- */

static void
test_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *xml = vb_test_snapshot_xml (f, CHILD1, 0);
  g_autofree char *secure = vb_test_snapshot_xml (f, CHILD1, VIR_DOMAIN_SNAPSHOT_XML_SECURE);
  g_autofree char *leaf = vb_test_snapshot_xml (f, LEAF, 0);

  g_assert_true (g_str_has_prefix (xml, "<domainsnapshot>"));
  g_assert_nonnull (strstr (xml, "<name>child-1.x</name>"));
  g_assert_nonnull (strstr (xml, "<state>running</state>"));
  g_assert_nonnull (strstr (xml, "<parent>\n    <name>root</name>"));
  g_assert_nonnull (strstr (xml, "<uuid>" SNAP_DOMAIN_UUID "</uuid>"));
  g_assert_nonnull (strstr (secure, "<name>child-1.x</name>"));
  g_assert_nonnull (strstr (leaf, "<name>leaf</name>"));
  g_assert_nonnull (strstr (leaf, "<state>shutoff</state>"));

  vb_test_assert_snapshot_error (f, CHILD1, "GetXMLDesc", 2, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x2)");
  vb_test_assert_snapshot_error (f, SNAP_PATH ("nope"), "GetXMLDesc", 0, UNKNOWN_OBJECT, "nope");
}

static void
test_get_parent (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_snapshot_parent (f, LEAF, CHILD1);
  vb_test_assert_snapshot_parent (f, CHILD1, ROOT);
  vb_test_assert_snapshot_parent (f, CHILD2, ROOT);

  /* The root exists; it has no parent: libvirt's error, not UnknownObject. */
  vb_test_assert_snapshot_error (f, ROOT, "GetParent", 0, VB_ERROR_LIBVIRT_NAME,
                         "'root' does not have a parent");
  vb_test_assert_snapshot_error (f, LEAF, "GetParent", 1, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x1)");
}

static void
test_is_current (VbTestFixture *f, gconstpointer data)
{
  g_assert_true (vb_test_snapshot_is_current (f, LEAF));
  g_assert_false (vb_test_snapshot_is_current (f, ROOT));
  g_assert_false (vb_test_snapshot_is_current (f, CHILD1));
  g_assert_false (vb_test_snapshot_is_current (f, CHILD2));

  vb_test_assert_snapshot_error (f, LEAF, "IsCurrent", 1, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x1)");
}

static void
test_list_children (VbTestFixture *f, gconstpointer data)
{
  const char *const root_children[] = { CHILD1, CHILD2, NULL };
  const char *const all_descendants[] = { CHILD1, CHILD2, LEAF, NULL };
  const char *const leaves[] = { CHILD2, LEAF, NULL };
  const char *const shut_off[] = { CHILD2, LEAF, NULL };
  const char *const child1_children[] = { LEAF, NULL };
  const char *const none[] = { NULL };
  g_autoptr(GVariant) ordered = vb_test_snapshot_call (
      f, ROOT, "ListChildren",
      VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS | VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL, "(ao)");
  g_autoptr(GPtrArray) topological = reply_paths (ordered);
  guint child1_at, leaf_at;

  vb_test_assert_snapshot_children (f, ROOT, 0, root_children);
  vb_test_assert_snapshot_children (f, ROOT, VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS, all_descendants);
  vb_test_assert_snapshot_children (f, ROOT,
                   VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS | VIR_DOMAIN_SNAPSHOT_LIST_LEAVES,
                   leaves);
  vb_test_assert_snapshot_children (f, ROOT,
                   VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS | VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE,
                   shut_off);
  vb_test_assert_snapshot_children (f, CHILD1, 0, child1_children);
  vb_test_assert_snapshot_children (f, LEAF, 0, none);

  /* TOPOLOGICAL: a parent comes before its children. */
  g_assert_cmpuint (topological->len, ==, 3);
  g_assert_true (g_ptr_array_find_with_equal_func (topological, CHILD1, g_str_equal, &child1_at));
  g_assert_true (g_ptr_array_find_with_equal_func (topological, LEAF, g_str_equal, &leaf_at));
  g_assert_cmpuint (child1_at, <, leaf_at);

  vb_test_assert_snapshot_error (f, ROOT, "ListChildren", 1 << 16, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x10000)");
}

static void
test_revert (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, "org.libvirt.Connect",
                                                               "DomainEvent");
  g_autoptr(GVariant) to_leaf = NULL;
  g_autoptr(GVariant) to_root = NULL;

  g_assert_true (domain_is_active (f, SNAP_DOMAIN_PATH));

  /* leaf was taken shut off: reverting stops the running guest. */
  to_leaf = vb_test_snapshot_call (f, LEAF, "Revert", 0, "()");
  assert_domain_event (events, SNAP_DOMAIN_PATH, VIR_DOMAIN_EVENT_STOPPED,
                       VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT);
  g_assert_false (domain_is_active (f, SNAP_DOMAIN_PATH));
  g_assert_true (vb_test_snapshot_is_current (f, LEAF));

  /* root was taken running: reverting starts it again. */
  to_root = vb_test_snapshot_call (f, ROOT, "Revert", 0, "()");
  assert_domain_event (events, SNAP_DOMAIN_PATH, VIR_DOMAIN_EVENT_STARTED,
                       VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT);
  g_assert_true (domain_is_active (f, SNAP_DOMAIN_PATH));
  g_assert_true (vb_test_snapshot_is_current (f, ROOT));
  g_assert_false (vb_test_snapshot_is_current (f, LEAF));
}

static void
test_revert_errors (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_snapshot_error (f, ROOT, "Revert",
                         VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING | VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED,
                         VB_ERROR_LIBVIRT_NAME, "mutually exclusive");
  vb_test_assert_snapshot_error (f, ROOT, "Revert", 1 << 8, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x100)");
  vb_test_assert_snapshot_error (f, SNAP_PATH ("nope"), "Revert", 0, UNKNOWN_OBJECT, NULL);

  /* Nothing changed. */
  g_assert_true (vb_test_snapshot_is_current (f, LEAF));
  g_assert_true (domain_is_active (f, SNAP_DOMAIN_PATH));
}

static void
test_delete (VbTestFixture *f, gconstpointer data)
{
  const char *const child1_only[] = { CHILD1, NULL };
  g_autoptr(GVariant) deleted = NULL;

  vb_test_assert_snapshot_error (f, CHILD2, "Delete", 1 << 8, VB_ERROR_LIBVIRT_NAME,
                         UNSUPPORTED_FLAGS " (0x100)");

  deleted = vb_test_snapshot_call (f, CHILD2, "Delete", 0, "()");
  vb_test_assert_snapshot_children (f, ROOT, 0, child1_only);
  vb_test_assert_snapshot_gone (f, CHILD2);
  vb_test_assert_snapshot_parent (f, LEAF, CHILD1);
}

static void
test_delete_current_moves_to_parent (VbTestFixture *f, gconstpointer data)
{
  const char *const none[] = { NULL };
  g_autoptr(GVariant) deleted = vb_test_snapshot_call (f, LEAF, "Delete", 0, "()");

  vb_test_assert_snapshot_gone (f, LEAF);
  vb_test_assert_snapshot_children (f, CHILD1, 0, none);
  g_assert_true (vb_test_snapshot_is_current (f, CHILD1));
}

static void
test_delete_children_only (VbTestFixture *f, gconstpointer data)
{
  const char *const none[] = { NULL };
  g_autoptr(GVariant) deleted = vb_test_snapshot_call (f, ROOT, "Delete",
                                               VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY, "()");

  vb_test_assert_snapshot_children (f, ROOT, VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS, none);
  vb_test_assert_snapshot_gone (f, CHILD1);
  vb_test_assert_snapshot_gone (f, CHILD2);
  vb_test_assert_snapshot_gone (f, LEAF);
  /* The root stays, and becomes current in place of leaf. */
  g_assert_true (vb_test_snapshot_is_current (f, ROOT));
}

/* A client holding paths while another deletes the snapshots: every
 * method on them answers UnknownObject, and the rest still works. */
static void
test_deleted_meanwhile (VbTestFixture *f, gconstpointer data)
{
  const char *const child2_only[] = { CHILD2, NULL };
  g_autoptr(GVariant) deleted = vb_test_snapshot_call (f, CHILD1, "Delete",
                                               VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN, "()");
  g_autofree char *root_xml = NULL;

  vb_test_assert_snapshot_gone (f, CHILD1);
  vb_test_assert_snapshot_gone (f, LEAF);
  vb_test_assert_snapshot_children (f, ROOT, VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS, child2_only);
  root_xml = vb_test_snapshot_xml (f, ROOT, 0);
  g_assert_nonnull (strstr (root_xml, "<name>root</name>"));
}

static void
test_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  const char *const paths[] = {
    /* a domain that has no such snapshot */
    SNAP_PATH ("nope"),
    /* a domain that does not exist */
    SNAP_CONNECT_PATH "/domainsnapshot/_00000000_0000_0000_0000_000000000001_root",
    /* malformed: too short, no name, no separator, no UUID, bad escapes */
    SNAP_CONNECT_PATH "/domainsnapshot/bogus",
    SNAP_CONNECT_PATH "/domainsnapshot/" SNAP_DOMAIN_SEGMENT "_",
    SNAP_CONNECT_PATH "/domainsnapshot/" SNAP_DOMAIN_SEGMENT "Xroot",
    SNAP_CONNECT_PATH "/domainsnapshot/_2c7f3a16_5a5e_4b8e_9d3e_0a1b2c3d4eZZ_root",
    SNAP_PATH ("bad_zz"),
    SNAP_PATH ("nul_00"),
    SNAP_PATH ("trailing_2"),
    NULL
  };

  for (const char *const *path = paths; *path != NULL; path++)
    vb_test_assert_snapshot_gone (f, *path);
  g_assert_true (vb_test_snapshot_is_current (f, LEAF));
}

/* Wrong signatures answer InvalidArgs; flags libvirt does not know, and
 * strings that name nothing, its own error; nothing reaches the snapshot. */
static void
test_malformed_calls (VbTestFixture *f, gconstpointer data)
{
  vb_test_sweep_object (f, LEAF, SNAPSHOT_IFACE, "x", 1u << 30, NULL);
  g_assert_true (vb_test_snapshot_is_current (f, LEAF));
  vb_test_assert_snapshot_parent (f, LEAF, CHILD1);
}

/* ---- Domain members on test:///default ---------------------------------- */

static GVariant *
domain_call (VbTestFixture *f, const char *method, GVariant *args, const char *reply_type)
{
  return vb_test_call (f, VB_TEST_DOMAIN_PATH, DOMAIN_IFACE, method, args, reply_type);
}

static void
assert_domain_error (VbTestFixture *f, const char *method, GVariant *args,
                     const char *error_name, const char *message_part)
{
  vb_test_assert_call_error (f, VB_TEST_DOMAIN_PATH, DOMAIN_IFACE, method, args,
                             error_name, message_part);
}

static char *
create_snapshot (VbTestFixture *f, const char *xml, guint flags)
{
  g_autoptr(GVariant) reply = domain_call (f, "SnapshotCreateXML",
                                           g_variant_new ("(su)", xml, flags), "(o)");

  return vb_test_reply_path (reply);
}

static char *
create_named_snapshot (VbTestFixture *f, const char *name)
{
  g_autofree char *xml = g_markup_printf_escaped (
      "<domainsnapshot><name>%s</name></domainsnapshot>", name);

  return create_snapshot (f, xml, 0);
}

static void
assert_domain_snapshots (VbTestFixture *f, guint flags, const char *const *expected)
{
  g_autoptr(GVariant) reply = domain_call (f, "ListDomainSnapshots",
                                           g_variant_new ("(u)", flags), "(ao)");

  vb_test_assert_paths (reply, expected);
}

static void
test_list_domain_snapshots (VbTestFixture *f, gconstpointer data)
{
  const char *const none[] = { NULL };
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  assert_domain_snapshots (f, 0, none);
  first = create_named_snapshot (f, "first");
  second = create_named_snapshot (f, "second");
  {
    const char *const both[] = { first, second, NULL };
    const char *const roots[] = { first, NULL };
    const char *const leaves[] = { second, NULL };

    assert_domain_snapshots (f, 0, both);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_ROOTS, roots);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_LEAVES, leaves);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE, none);
  }
  assert_domain_error (f, "ListDomainSnapshots", g_variant_new ("(u)", 1 << 16),
                       VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_snapshot_create_xml (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = NULL;
  g_autofree char *unnamed = NULL;
  g_autofree char *xml = NULL;

  path = create_snapshot (f, "<domainsnapshot><name>vb-1.x</name>"
                             "<description>made over D-Bus</description></domainsnapshot>", 0);
  g_assert_cmpstr (path, ==, TEST_SNAPSHOT_PATH ("vb_2d1_2ex"));
  xml = vb_test_snapshot_xml (f, path, 0);
  g_assert_nonnull (strstr (xml, "<description>made over D-Bus</description>"));
  g_assert_true (vb_test_snapshot_is_current (f, path));

  /* Without a name libvirt makes one up; the path still names it. */
  unnamed = create_snapshot (f, "<domainsnapshot/>", 0);
  g_assert_true (g_str_has_prefix (unnamed, TEST_SNAPSHOT_PATH ("")));
  g_assert_true (vb_test_snapshot_is_current (f, unnamed));
  vb_test_assert_snapshot_parent (f, unnamed, path);

  assert_domain_error (f, "SnapshotCreateXML", g_variant_new ("(su)", "<domainsnapshot", 0),
                       VB_ERROR_LIBVIRT_NAME, "domainsnapshot");
  assert_domain_error (f, "SnapshotCreateXML", g_variant_new ("(su)", "", 0),
                       VB_ERROR_LIBVIRT_NAME, NULL);
  assert_domain_error (f, "SnapshotCreateXML",
                       g_variant_new ("(su)", "<domainsnapshot><name>vb-1.x</name></domainsnapshot>", 0),
                       VB_ERROR_LIBVIRT_NAME, "vb-1.x already exists");
  assert_domain_error (f, "SnapshotCreateXML",
                       g_variant_new ("(su)", "<domainsnapshot/>", 1 << 16),
                       VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS " (0x10000)");
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH "/domain/_00000000_0000_0000_0000_000000000001",
                             DOMAIN_IFACE, "SnapshotCreateXML",
                             g_variant_new ("(su)", "<domainsnapshot/>", 0), UNKNOWN_OBJECT, NULL);
}

static void
test_snapshot_current (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GVariant) current = NULL;
  g_autoptr(GVariant) reverted = NULL;
  g_autoptr(GVariant) current_again = NULL;
  g_autofree char *current_path = NULL;
  g_autofree char *current_again_path = NULL;

  assert_domain_error (f, "SnapshotCurrent", g_variant_new ("(u)", 0),
                       VB_ERROR_LIBVIRT_NAME, "does not have a current snapshot");
  first = create_named_snapshot (f, "first");
  second = create_named_snapshot (f, "second");
  current = domain_call (f, "SnapshotCurrent", g_variant_new ("(u)", 0), "(o)");
  current_path = vb_test_reply_path (current);
  g_assert_cmpstr (current_path, ==, second);

  reverted = vb_test_snapshot_call (f, first, "Revert", 0, "()");
  current_again = domain_call (f, "SnapshotCurrent", g_variant_new ("(u)", 0), "(o)");
  current_again_path = vb_test_reply_path (current_again);
  g_assert_cmpstr (current_again_path, ==, first);

  assert_domain_error (f, "SnapshotCurrent", g_variant_new ("(u)", 1),
                       VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS " (0x1)");
}

static void
test_snapshot_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *created = NULL;
  g_autoptr(GVariant) found = NULL;
  g_autofree char *found_path = NULL;

  created = create_named_snapshot (f, "vb 1/x");
  g_assert_cmpstr (created, ==, TEST_SNAPSHOT_PATH ("vb_201_2fx"));
  found = domain_call (f, "SnapshotLookupByName", g_variant_new ("(su)", "vb 1/x", 0), "(o)");
  found_path = vb_test_reply_path (found);
  g_assert_cmpstr (found_path, ==, created);

  /* As the Connect lookups: libvirt's error, not UnknownObject. */
  assert_domain_error (f, "SnapshotLookupByName", g_variant_new ("(su)", "nope", 0),
                       VB_ERROR_LIBVIRT_NAME, "no domain snapshot with matching name 'nope'");
  assert_domain_error (f, "SnapshotLookupByName", g_variant_new ("(su)", "vb 1/x", 1),
                       VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS " (0x1)");
}

/* The Domain members and the DomainSnapshot methods agree on paths: a
 * tree made, walked, reverted and deleted over the bus. */
static void
test_snapshot_tree_over_the_bus (VbTestFixture *f, gconstpointer data)
{
  const char *const none[] = { NULL };
  g_autofree char *base = NULL;
  g_autofree char *next = NULL;
  g_autofree char *other = NULL;
  g_autoptr(GVariant) reverted = NULL;
  g_autoptr(GVariant) deleted = NULL;

  base = create_named_snapshot (f, "base");
  next = create_named_snapshot (f, "next");
  reverted = vb_test_snapshot_call (f, base, "Revert", 0, "()");
  other = create_named_snapshot (f, "other");
  {
    const char *const children[] = { next, other, NULL };

    vb_test_assert_snapshot_children (f, base, 0, children);
  }
  vb_test_assert_snapshot_parent (f, other, base);
  g_assert_true (vb_test_snapshot_is_current (f, other));

  deleted = vb_test_snapshot_call (f, base, "Delete", VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN, "()");
  assert_domain_snapshots (f, 0, none);
  vb_test_assert_snapshot_gone (f, next);
  assert_domain_error (f, "SnapshotCurrent", g_variant_new ("(u)", 0),
                       VB_ERROR_LIBVIRT_NAME, "does not have a current snapshot");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  write_node_file ();

#define ADD(name, func) \
  g_test_add ("/snapshot/" name, VbTestFixture, NULL, setup_with_snapshots, func, \
              vb_test_teardown)
#define ADD_DEFAULT(name, func) \
  g_test_add ("/snapshot/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("GetXMLDesc", test_get_xml_desc);
  ADD ("GetParent", test_get_parent);
  ADD ("IsCurrent", test_is_current);
  ADD ("ListChildren", test_list_children);
  ADD ("Revert+DomainEvent", test_revert);
  ADD ("Revert/errors", test_revert_errors);
  ADD ("Delete", test_delete);
  ADD ("Delete/current-moves-to-parent", test_delete_current_moves_to_parent);
  ADD ("Delete/children-only", test_delete_children_only);
  ADD ("deleted-meanwhile", test_deleted_meanwhile);
  ADD ("unknown-paths", test_unknown_paths);
  ADD ("malformed-calls", test_malformed_calls);
  ADD_DEFAULT ("Domain.ListDomainSnapshots", test_list_domain_snapshots);
  ADD_DEFAULT ("Domain.SnapshotCreateXML", test_snapshot_create_xml);
  ADD_DEFAULT ("Domain.SnapshotCurrent", test_snapshot_current);
  ADD_DEFAULT ("Domain.SnapshotLookupByName", test_snapshot_lookup_by_name);
  ADD_DEFAULT ("tree-over-the-bus", test_snapshot_tree_over_the_bus);
#undef ADD
#undef ADD_DEFAULT

  status = g_test_run ();
  g_free (node_file);
  return status;
}
