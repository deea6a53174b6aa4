/* org.libvirt.DomainSnapshot and the Domain snapshot members against a
 * real libvirtd (qemu:///system): a 64 MiB QEMU guest on a small qcow2
 * disk, snapshotted shut off (internal), running (internal, with memory)
 * and disk-only (external); listed, reverted (with the DomainEvent signals
 * that go with it), deleted, and changed behind virtbus's back.
 *
 * Every case runs in a child process (g_test_trap_subprocess) so that the
 * parent removes the case's guest and files whatever happened in it: a
 * failed assertion aborts the child, never the clean-up.  Guests are named
 * vbtest-snap-<pid of the parent>-<case>; a pass at start and end removes
 * ours and those of runs that died.
 *
 * Snapshots for the DomainSnapshot cases are made with virsh, as another
 * client would; the Domain members' case makes its own over the bus. */
#include <errno.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define QEMU_PATH "/org/libvirt/QEMU"
#define DOMAIN_IFACE "org.libvirt.Domain"

#define GUEST_PREFIX "vbtest-snap-"
/* The parent's scratch directory, for its children's files. */
#define SCRATCH_ENV "VBTEST_SNAPSHOT_SCRATCH"
#define CASE_TIMEOUT_US (300 * G_USEC_PER_SEC)

typedef struct {
  VbTestFixture bus;
  char *name;           /* the guest's */
  char *disk;           /* its qcow2 image */
  char *domain_path;
} QemuFixture;

typedef struct {
  const char *name;     /* test path element and guest name suffix */
  void (*body) (QemuFixture *f);
  gboolean running;     /* start the guest before the body */
} QemuCase;

static gboolean libvirtd_ready;
static char *skip_reason;

/* ---- guests and their files ---------------------------------------------- */

static char *
guest_name (pid_t owner, const char *case_name)
{
  return g_strdup_printf (GUEST_PREFIX "%d-%s", (int) owner, case_name);
}

static char *
virsh (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  char *out = vb_virsh (args, &error);

  if (out == NULL)
    g_error ("virsh %s failed: %s", args[0], error->message);
  return out;
}

/* For clean-up: failures are expected (the guest may be gone already). */
static void
virsh_quietly (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh (args, &error);
}

/* The directory of the guest's first disk, or NULL. */
static char *
guest_disk_dir (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "domblklist", name, NULL }, &error);
  g_auto(GStrv) fields = NULL;

  if (out == NULL)
    return NULL;
  fields = g_strsplit_set (g_strstrip (out), " \t\n", -1);
  for (char **field = fields; *field != NULL; field++)
    {
      if (g_path_is_absolute (*field))
        return g_path_get_dirname (*field);
    }
  return NULL;
}

/* Files of a guest are all named after it: its disk, its overlays. */
static void
remove_guest_files (const char *dir, const char *name)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *file;

  while (listing != NULL && (file = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, file, NULL);

      if (g_str_has_prefix (file, name))
        g_unlink (path);
    }
}

static void
remove_guest (const char *name, const char *files_dir)
{
  g_autofree char *disk_dir = guest_disk_dir (name);

  virsh_quietly ((const char *[]) { "destroy", name, NULL });
  virsh_quietly ((const char *[]) { "undefine", name, "--snapshots-metadata", NULL });
  if (files_dir != NULL)
    remove_guest_files (files_dir, name);
  /* A dead run's guest: its files sit in that run's scratch directory. */
  if (disk_dir != NULL && g_strcmp0 (disk_dir, files_dir) != 0)
    {
      remove_guest_files (disk_dir, name);
      g_rmdir (disk_dir);
    }
}

static gboolean
owner_is_gone_or_us (const char *name)
{
  gint64 owner = g_ascii_strtoll (name + strlen (GUEST_PREFIX), NULL, 10);

  return owner <= 0 || owner == getpid () || (kill ((pid_t) owner, 0) < 0 && errno == ESRCH);
}

/* Removes our guests and those of runs that died; leaves guests of runs
 * still going (another build directory's) alone. */
static void
remove_stale_guests (void)
{
  g_autofree char *names = virsh ((const char *[]) { "list", "--all", "--name", NULL });
  g_auto(GStrv) lines = g_strsplit (names, "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      const char *name = g_strstrip (*line);

      if (g_str_has_prefix (name, GUEST_PREFIX) && owner_is_gone_or_us (name))
        remove_guest (name, vb_libvirtd_scratch_dir ());
    }
}

/* ---- the fixture (in the child) ----------------------------------------- */

static void
run_program (const char *const *argv, char **out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s", argv[0], err);
}

static char *
guest_xml (QemuFixture *f)
{
  return g_markup_printf_escaped (
      "<domain type='qemu'>"
      "<name>%s</name>"
      "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
      "<devices>"
      "<disk type='file' device='disk'>"
      "<driver name='qemu' type='qcow2'/><source file='%s'/>"
      "<target dev='vda' bus='virtio'/>"
      "</disk>"
      "<memballoon model='none'/>"
      "</devices>"
      "</domain>", f->name, f->disk);
}

static void
qemu_setup (QemuFixture *f, const QemuCase *qcase)
{
  const char *const daemon_args[] = { VB_LIBVIRTD_DAEMON_ARGS, NULL };
  const char *scratch = g_getenv (SCRATCH_ENV);
  g_autofree char *xml = NULL;
  g_autoptr(GVariant) defined = NULL;

  g_assert_nonnull (scratch);
  f->name = guest_name (getppid (), qcase->name);
  f->disk = g_strdup_printf ("%s/%s.qcow2", scratch, f->name);
  run_program ((const char *[]) { "qemu-img", "create", "-q", "-f", "qcow2", f->disk, "16M", NULL },
               NULL);

  vb_test_setup_with_args (&f->bus, daemon_args);
  xml = guest_xml (f);
  defined = vb_test_call (&f->bus, QEMU_PATH, "org.libvirt.Connect", "DomainDefineXML",
                          g_variant_new ("(s)", xml), "(o)");
  f->domain_path = vb_test_reply_path (defined);
  if (qcase->running)
    g_free (virsh ((const char *[]) { "start", f->name, NULL }));
}

static void
qemu_teardown (QemuFixture *f)
{
  /* The guest and files go in the parent; the daemon must stop cleanly. */
  vb_test_teardown (&f->bus, NULL);
  g_free (f->name);
  g_free (f->disk);
  g_free (f->domain_path);
}

/* ---- helpers for the cases ------------------------------------------------ */

/* The path of snapshot @name (letters and digits only) of the guest. */
static char *
snapshot_path (QemuFixture *f, const char *name)
{
  for (const char *c = name; *c != '\0'; c++)
    g_assert_true (g_ascii_isalnum (*c));
  return g_strdup_printf (QEMU_PATH "/domainsnapshot/%s_%s",
                          strrchr (f->domain_path, '/') + 1, name);
}

/* Made behind virtbus's back, as another client would. */
static char *
virsh_snapshot (QemuFixture *f, const char *name, const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, "snapshot-create-as");
  g_ptr_array_add (args, f->name);
  g_ptr_array_add (args, (char *) name);
  for (const char *const *arg = extra; arg != NULL && *arg != NULL; arg++)
    g_ptr_array_add (args, (char *) *arg);
  g_ptr_array_add (args, NULL);
  g_free (virsh ((const char *const *) args->pdata));
  return snapshot_path (f, name);
}

static void
assert_xml_has (const char *xml, const char *part)
{
  if (strstr (xml, part) == NULL)
    g_error ("snapshot XML lacks %s:\n%s", part, xml);
}

/* libvirt's own view: the guest's snapshot names, one a line. */
static char *
virsh_snapshot_names (QemuFixture *f)
{
  return virsh ((const char *[]) { "snapshot-list", f->name, "--name", NULL });
}

/* The internal snapshots stored in the qcow2 image, as qemu-img lists
 * them (-U: the guest may be running). */
static char *
image_snapshots (QemuFixture *f)
{
  char *out = NULL;

  run_program ((const char *[]) { "qemu-img", "snapshot", "-l", "-U", f->disk, NULL }, &out);
  return out;
}

static gboolean
image_has_snapshot (QemuFixture *f, const char *name)
{
  g_autofree char *listing = image_snapshots (f);
  g_autofree char *column = g_strdup_printf (" %s ", name);

  return strstr (listing, column) != NULL;
}

/* @reason < 0: any reason. */
static void
assert_state (QemuFixture *f, int state, int reason)
{
  g_autoptr(GVariant) reply = vb_test_call (&f->bus, f->domain_path, DOMAIN_IFACE, "GetState",
                                            g_variant_new ("(u)", 0), "((ii))");
  int got_state, got_reason;

  g_variant_get (reply, "((ii))", &got_state, &got_reason);
  g_assert_cmpint (got_state, ==, state);
  if (reason >= 0)
    g_assert_cmpint (got_reason, ==, reason);
}

/* Waits for each (event, detail) pair of @expected (ended by -1), in that
 * order, among the guest's DomainEvent signals; others in between (such
 * as Defined) and other guests' are passed over. */
static void
expect_domain_events (QemuFixture *f, VbSignalRecorder *events, const int *expected)
{
  for (const int *pair = expected; pair[0] >= 0; pair += 2)
    {
      gboolean seen = FALSE;

      while (!seen)
        {
          g_autofree char *emitter = NULL;
          g_autoptr(GVariant) args = vb_signal_recorder_wait (events, &emitter);
          const char *path;
          int event, detail;

          g_variant_get (args, "(&oii)", &path, &event, &detail);
          seen = g_str_equal (path, f->domain_path) && event == pair[0] && detail == pair[1];
        }
    }
}

/* Revert over the bus; returns how long it took, in seconds. */
static double
revert (QemuFixture *f, const char *path, guint flags)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GVariant) reply = vb_test_snapshot_call (&f->bus, path, "Revert", flags, "()");

  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static void
delete_snapshot (QemuFixture *f, const char *path, guint flags)
{
  g_autoptr(GVariant) reply = vb_test_snapshot_call (&f->bus, path, "Delete", flags, "()");
}

/* Figures for the record, on stderr (the child's stdout is not shown). */
static void
report_seconds (const char *what, double seconds)
{
  g_printerr ("# timing: %s: %.3f s\n", what, seconds);
}

/* ---- cases: DomainSnapshot methods ------------------------------------------ */

/* Shut off: internal disk snapshots, stored in the qcow2 image itself. */
static void
case_shut_off_internal (QemuFixture *f)
{
  const char *const none[] = { NULL };
  g_autofree char *first = virsh_snapshot (f, "off1", NULL);
  g_autofree char *second = virsh_snapshot (f, "off2", NULL);
  g_autofree char *xml = vb_test_snapshot_xml (&f->bus, first, 0);
  g_autofree char *names = NULL;
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (&f->bus, "org.libvirt.Connect",
                                                               "DomainEvent");
  const int started[] = { VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT, -1 };

  assert_xml_has (xml, "<name>off1</name>");
  assert_xml_has (xml, "<state>shutoff</state>");
  assert_xml_has (xml, "<disk name='vda' snapshot='internal'/>");
  g_assert_true (image_has_snapshot (f, "off1"));
  g_assert_true (image_has_snapshot (f, "off2"));

  vb_test_assert_snapshot_parent (&f->bus, second, first);
  vb_test_assert_snapshot_error (&f->bus, first, "GetParent", 0, VB_ERROR_LIBVIRT_NAME, "does not have a parent");
  {
    const char *const children[] = { second, NULL };

    vb_test_assert_snapshot_children (&f->bus, first, 0, children);
    vb_test_assert_snapshot_children (&f->bus, first, VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE, children);
    vb_test_assert_snapshot_children (&f->bus, first, VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE, none);
    vb_test_assert_snapshot_children (&f->bus, second, 0, none);
  }
  g_assert_true (vb_test_snapshot_is_current (&f->bus, second));
  g_assert_false (vb_test_snapshot_is_current (&f->bus, first));

  report_seconds ("Revert, shut-off internal snapshot", revert (f, first, 0));
  g_assert_true (vb_test_snapshot_is_current (&f->bus, first));
  /* It was off and stays off: libvirt gives no new reason. */
  assert_state (f, VIR_DOMAIN_SHUTOFF, -1);

  /* RUNNING: start the guest from the shut-off snapshot. */
  report_seconds ("Revert RUNNING, shut-off internal snapshot",
                  revert (f, second, VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING));
  expect_domain_events (f, events, started);
  /* A shut-off snapshot has no memory to resume from: a fresh boot. */
  assert_state (f, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);

  delete_snapshot (f, second, 0);
  vb_test_assert_snapshot_gone (&f->bus, second);
  g_assert_false (image_has_snapshot (f, "off2"));
  vb_test_assert_snapshot_children (&f->bus, first, 0, none);
  delete_snapshot (f, first, 0);
  vb_test_assert_snapshot_gone (&f->bus, first);
  g_assert_false (image_has_snapshot (f, "off1"));
  names = virsh_snapshot_names (f);
  g_assert_cmpstr (g_strstrip (names), ==, "");
}

/* Running: internal snapshots with the memory state; reverting restarts
 * QEMU from the snapshot and says so in DomainEvent. */
static void
case_running_with_memory (QemuFixture *f)
{
  g_autofree char *first = virsh_snapshot (f, "run1", NULL);
  g_autofree char *second = virsh_snapshot (f, "run2", NULL);
  g_autofree char *xml = vb_test_snapshot_xml (&f->bus, first, 0);
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (&f->bus, "org.libvirt.Connect",
                                                               "DomainEvent");
  const int running_again[] = {
    VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT,
    VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT,
    VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT,
    -1
  };
  const int paused[] = {
    VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT,
    VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT,
    VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT,
    -1
  };

  assert_xml_has (xml, "<state>running</state>");
  assert_xml_has (xml, "<memory snapshot='internal'/>");
  g_assert_true (image_has_snapshot (f, "run1"));
  vb_test_assert_snapshot_parent (&f->bus, second, first);
  {
    const char *const children[] = { second, NULL };

    vb_test_assert_snapshot_children (&f->bus, first, VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE, children);
    vb_test_assert_snapshot_children (&f->bus, first, VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL, children);
  }

  report_seconds ("Revert, running internal snapshot with memory", revert (f, first, 0));
  expect_domain_events (f, events, running_again);
  assert_state (f, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_FROM_SNAPSHOT);
  g_assert_true (vb_test_snapshot_is_current (&f->bus, first));

  report_seconds ("Revert PAUSED, running internal snapshot with memory",
                  revert (f, second, VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED));
  expect_domain_events (f, events, paused);
  assert_state (f, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_FROM_SNAPSHOT);
  g_assert_true (vb_test_snapshot_is_current (&f->bus, second));

  vb_test_assert_snapshot_error (&f->bus, first, "Revert",
                         VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING | VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED,
                         VB_ERROR_LIBVIRT_NAME, "mutually exclusive");

  delete_snapshot (f, first, VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN);
  vb_test_assert_snapshot_gone (&f->bus, first);
  vb_test_assert_snapshot_gone (&f->bus, second);
  g_assert_false (image_has_snapshot (f, "run1"));
  g_assert_false (image_has_snapshot (f, "run2"));
}

/* Running, disks only, into an external overlay file. */
static void
case_disk_only_external (QemuFixture *f)
{
  g_autofree char *overlay = g_strdup_printf ("%s/%s-ext1.qcow2",
                                              g_getenv (SCRATCH_ENV), f->name);
  g_autofree char *diskspec = g_strdup_printf ("vda,snapshot=external,file=%s", overlay);
  const char *const extra[] = { "--disk-only", "--atomic", "--diskspec", diskspec, NULL };
  g_autofree char *snapshot = virsh_snapshot (f, "ext1", extra);
  g_autofree char *xml = vb_test_snapshot_xml (&f->bus, snapshot, 0);
  g_autofree char *source = g_markup_printf_escaped ("<source file='%s'/>", overlay);
  g_autoptr(GVariant) lib_version = vb_test_get_property (&f->bus, QEMU_PATH,
                                                          "org.libvirt.Connect", "LibVersion");
  g_autofree char *disks = NULL;

  assert_xml_has (xml, "<state>disk-snapshot</state>");
  assert_xml_has (xml, "snapshot='external'");
  assert_xml_has (xml, source);
  g_assert_true (g_file_test (overlay, G_FILE_TEST_EXISTS));
  g_assert_true (vb_test_snapshot_is_current (&f->bus, snapshot));
  vb_test_assert_snapshot_error (&f->bus, snapshot, "GetParent", 0, VB_ERROR_LIBVIRT_NAME, "does not have a parent");

  /* libvirt reverts to external snapshots only from 9.9 on. */
  if (g_variant_get_uint64 (lib_version) < 9009000)
    vb_test_assert_snapshot_error (&f->bus, snapshot, "Revert", 0, VB_ERROR_LIBVIRT_NAME,
                           "revert to external snapshot not supported");

  /* Deleting merges the overlay back into the disk and removes it. */
  delete_snapshot (f, snapshot, 0);
  vb_test_assert_snapshot_gone (&f->bus, snapshot);
  disks = virsh ((const char *[]) { "domblklist", f->name, NULL });
  g_assert_nonnull (strstr (disks, f->disk));
  g_assert_false (g_file_test (overlay, G_FILE_TEST_EXISTS));
}

/* Snapshots and guests removed by another client: their paths answer
 * UnknownObject, nothing stale. */
static void
case_changed_behind_virtbus (QemuFixture *f)
{
  g_autofree char *kept = virsh_snapshot (f, "kept", NULL);
  g_autofree char *gone = virsh_snapshot (f, "gone", NULL);
  g_autofree char *never = snapshot_path (f, "never");

  g_assert_true (vb_test_snapshot_is_current (&f->bus, gone));
  g_free (virsh ((const char *[]) { "snapshot-delete", f->name, "gone", NULL }));
  vb_test_assert_snapshot_gone (&f->bus, gone);
  vb_test_assert_snapshot_gone (&f->bus, never);
  g_assert_true (vb_test_snapshot_is_current (&f->bus, kept));

  g_free (virsh ((const char *[]) { "undefine", f->name, "--snapshots-metadata", NULL }));
  vb_test_assert_snapshot_gone (&f->bus, kept);
}

/* ---- case: Domain members --------------------------------------------------- */

static GVariant *
domain_call (QemuFixture *f, const char *method, GVariant *args, const char *reply_type)
{
  return vb_test_call (&f->bus, f->domain_path, DOMAIN_IFACE, method, args, reply_type);
}

static char *
create_snapshot (QemuFixture *f, const char *name, guint flags, double *seconds)
{
  g_autofree char *xml = g_strdup_printf (
      "<domainsnapshot><name>%s</name><description>by virtbus</description></domainsnapshot>",
      name);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GVariant) reply = domain_call (f, "SnapshotCreateXML",
                                           g_variant_new ("(su)", xml, flags), "(o)");

  *seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  return vb_test_reply_path (reply);
}

static void
assert_domain_snapshots (QemuFixture *f, guint flags, const char *const *expected)
{
  g_autoptr(GVariant) reply = domain_call (f, "ListDomainSnapshots",
                                           g_variant_new ("(u)", flags), "(ao)");

  vb_test_assert_paths (reply, expected);
}

static char *
current_snapshot (QemuFixture *f)
{
  g_autoptr(GVariant) reply = domain_call (f, "SnapshotCurrent", g_variant_new ("(u)", 0), "(o)");

  return vb_test_reply_path (reply);
}

static void
case_domain_members (QemuFixture *f)
{
  const char *const none[] = { NULL };
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (&f->bus, "org.libvirt.Connect",
                                                               "DomainEvent");
  const int halted[] = { VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT, -1 };
  double seconds;
  g_autofree char *expected_first = snapshot_path (f, "bus1");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *shut_off = NULL;
  g_autofree char *current = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(GVariant) found = NULL;
  g_autofree char *found_path = NULL;

  vb_test_assert_call_error (&f->bus, f->domain_path, DOMAIN_IFACE, "SnapshotCurrent",
                             g_variant_new ("(u)", 0), VB_ERROR_LIBVIRT_NAME,
                             "does not have a current snapshot");
  assert_domain_snapshots (f, 0, none);

  first = create_snapshot (f, "bus1", 0, &seconds);
  report_seconds ("SnapshotCreateXML, running guest, internal with memory", seconds);
  g_assert_cmpstr (first, ==, expected_first);
  xml = vb_test_snapshot_xml (&f->bus, first, 0);
  assert_xml_has (xml, "<description>by virtbus</description>");
  assert_xml_has (xml, "<state>running</state>");
  g_assert_true (image_has_snapshot (f, "bus1"));

  /* HALT: the guest stops once the snapshot is taken. */
  second = create_snapshot (f, "bus2", VIR_DOMAIN_SNAPSHOT_CREATE_HALT, &seconds);
  report_seconds ("SnapshotCreateXML HALT, running guest", seconds);
  expect_domain_events (f, events, halted);
  assert_state (f, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT);

  shut_off = create_snapshot (f, "bus3", 0, &seconds);
  report_seconds ("SnapshotCreateXML, shut-off guest, internal", seconds);
  {
    const char *const all[] = { first, second, shut_off, NULL };
    const char *const with_memory[] = { first, second, NULL };
    const char *const roots[] = { first, NULL };
    const char *const inactive[] = { shut_off, NULL };

    assert_domain_snapshots (f, 0, all);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL, all);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL, none);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE, with_memory);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE, inactive);
    assert_domain_snapshots (f, VIR_DOMAIN_SNAPSHOT_LIST_ROOTS, roots);
  }
  current = current_snapshot (f);
  g_assert_cmpstr (current, ==, shut_off);

  found = domain_call (f, "SnapshotLookupByName", g_variant_new ("(su)", "bus1", 0), "(o)");
  found_path = vb_test_reply_path (found);
  g_assert_cmpstr (found_path, ==, first);
  vb_test_assert_call_error (&f->bus, f->domain_path, DOMAIN_IFACE, "SnapshotLookupByName",
                             g_variant_new ("(su)", "nope", 0), VB_ERROR_LIBVIRT_NAME,
                             "nope");
  vb_test_assert_call_error (&f->bus, f->domain_path, DOMAIN_IFACE, "SnapshotCreateXML",
                             g_variant_new ("(su)", "<domainsnapshot>", 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (&f->bus, f->domain_path, DOMAIN_IFACE, "SnapshotCreateXML",
                             g_variant_new ("(su)", "<domainsnapshot/>",
                                            VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE),
                             VB_ERROR_LIBVIRT_NAME, NULL);

  report_seconds ("Revert (after SnapshotCreateXML), running internal snapshot",
                  revert (f, first, 0));
  assert_state (f, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_FROM_SNAPSHOT);
  g_free (current);
  current = current_snapshot (f);
  g_assert_cmpstr (current, ==, first);

  delete_snapshot (f, first, VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN);
  assert_domain_snapshots (f, 0, none);
}

/* ---- running the cases ---------------------------------------------------- */

static void
run_in_child (const QemuCase *qcase)
{
  QemuFixture f = { 0 };

  qemu_setup (&f, qcase);
  qcase->body (&f);
  qemu_teardown (&f);
}

static void
run_case (gconstpointer data)
{
  const QemuCase *qcase = data;
  g_autofree char *name = NULL;

  if (g_test_subprocess ())
    {
      run_in_child (qcase);
      return;
    }
  if (!libvirtd_ready)
    {
      g_test_skip (skip_reason);
      return;
    }

  g_test_trap_subprocess (NULL, CASE_TIMEOUT_US, G_TEST_SUBPROCESS_INHERIT_STDERR);
  name = guest_name (getpid (), qcase->name);
  remove_guest (name, vb_libvirtd_scratch_dir ());
  g_test_trap_assert_passed ();
}

static const QemuCase cases[] = {
  { "shut-off-internal", case_shut_off_internal, FALSE },
  { "running-with-memory+DomainEvent", case_running_with_memory, TRUE },
  { "disk-only-external", case_disk_only_external, TRUE },
  { "changed-behind-virtbus", case_changed_behind_virtbus, FALSE },
  { "Domain-members", case_domain_members, TRUE },
};

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!g_test_subprocess ())
    {
      /* A failed case must not stop the parent: it cleans up after the
       * rest and at the end.  Children keep fatal assertions. */
      g_test_set_nonfatal_assertions ();
      libvirtd_ready = vb_libvirtd_ensure (&skip_reason);
      if (libvirtd_ready)
        {
          g_setenv (SCRATCH_ENV, vb_libvirtd_scratch_dir (), TRUE);
          remove_stale_guests ();
        }
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/qemu-snapshot/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], run_case);
    }

  status = g_test_run ();

  if (!g_test_subprocess ())
    {
      if (libvirtd_ready)
        remove_stale_guests ();
      vb_libvirtd_release ();
    }
  g_free (skip_reason);
  return status;
}
