/* org.libvirt.Domain on real QEMU guests (software emulation) through a
 * real libvirtd: lifecycle, save/restore, devices, statistics, the
 * screenshot and console streams, metadata, per-domain signals, and slow
 * calls that do not hold up cheap ones.  Every guest is named
 * vbtest-dom-<pid>-<n> and removed at the end, even after a failure; at
 * the start, leftovers of runs whose process is gone are removed too. */
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define DOMAIN "org.libvirt.Domain"
#define CONNECT "org.libvirt.Connect"
#define QEMU_PATH "/org/libvirt/QEMU"
#define GUEST_PREFIX "vbtest-dom-"

typedef struct {
  VbTestFixture bus;
  char *path;     /* the guest's object path */
  char *name;
} GuestFixture;

/* A guest of this run, or one left by a run that no longer exists (and
 * not one of a suite running beside us on the same libvirtd). */
static gboolean
is_ours_to_remove (const char *name)
{
  gint64 pid;

  if (!g_str_has_prefix (name, GUEST_PREFIX))
    return FALSE;
  pid = g_ascii_strtoll (name + strlen (GUEST_PREFIX), NULL, 10);
  return pid == getpid () || pid <= 0 || kill ((pid_t) pid, 0) != 0;
}

static void
remove_test_guests (void)
{
  vb_libvirtd_remove_guests (is_ours_to_remove);
}

static char *
guest_xml (const char *name)
{
  return g_strdup_printf (
      "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='pc'>hvm</type><bios useserial='yes'/></os>"
      "<devices><controller type='scsi' model='virtio-scsi'/>"
      "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
      "<serial type='pty'/><console type='pty'/>"
      "<graphics type='vnc' port='-1' listen='127.0.0.1'/>"
      "<video><model type='vga'/></video></devices></domain>", name);
}

static GVariant *
guest_call (GuestFixture *f, const char *method, GVariant *args, const char *reply_type)
{
  return vb_test_call (&f->bus, f->path, DOMAIN, method, args, reply_type);
}

static gint32
guest_state (GuestFixture *f)
{
  g_autoptr(GVariant) reply = guest_call (f, "GetState", g_variant_new ("(u)", 0), "((ii))");
  gint32 state, reason;

  g_variant_get (reply, "((ii))", &state, &reason);
  return state;
}

static void
guest_setup (GuestFixture *f, gconstpointer data)
{
  const char *const args[] = { VB_LIBVIRTD_DAEMON_ARGS, NULL };
  g_autofree char *xml = NULL;
  g_autoptr(GVariant) reply = NULL;

  vb_test_setup_with_args (&f->bus, args);
  f->name = g_strdup_printf (GUEST_PREFIX "%d-%u", (int) getpid (), g_random_int_range (0, 1000000));
  xml = guest_xml (f->name);
  reply = vb_test_call (&f->bus, QEMU_PATH, CONNECT, "DomainDefineXML",
                        g_variant_new ("(s)", xml), "(o)");
  f->path = vb_test_reply_path (reply);
}

static void
guest_setup_running (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = NULL;

  guest_setup (f, data);
  reply = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");
  g_assert_cmpint (guest_state (f), ==, 1);
}

static void
guest_teardown (GuestFixture *f, gconstpointer data)
{
  g_free (vb_virsh ((const char *[]) { "destroy", f->name, NULL }, NULL));
  g_free (vb_virsh ((const char *[]) { "undefine", f->name, "--managed-save",
                                       "--snapshots-metadata", NULL }, NULL));
  vb_test_teardown (&f->bus, data);
  g_free (f->path);
  g_free (f->name);
}

/* QEMU reports some changes as two events (a start is also a resume), and
 * other guests on the same libvirtd have events too: waits for the one of
 * @type for @path among the next few. */
static void
assert_domain_event (VbSignalRecorder *events, const char *path, gint32 type)
{
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *signal_path = NULL;
      g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
      const char *domain;
      gint32 event_type, detail;

      g_variant_get (event, "(&oii)", &domain, &event_type, &detail);
      if (g_str_equal (domain, path) && event_type == type)
        return;
    }
  g_error ("no DomainEvent of type %d for %s", type, path);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_lifecycle (GuestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (&f->bus, CONNECT, "DomainEvent");
  g_autoptr(VbSignalRecorder) reboots = vb_signal_recorder_new (&f->bus, DOMAIN, "Reboot");
  g_autoptr(GVariant) r1 = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");
  g_autoptr(GVariant) r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, id = NULL, reboot = NULL;
  g_autofree char *reboot_path = NULL;

  assert_domain_event (events, f->path, 2);   /* started */
  id = vb_test_get_property (&f->bus, f->path, DOMAIN, "Id");
  g_assert_cmpuint (g_variant_get_uint32 (id), >, 0);
  r2 = guest_call (f, "Suspend", NULL, "()");
  assert_domain_event (events, f->path, 3);   /* suspended */
  g_assert_cmpint (guest_state (f), ==, 3);
  r3 = guest_call (f, "Resume", NULL, "()");
  assert_domain_event (events, f->path, 4);   /* resumed */
  g_assert_cmpint (guest_state (f), ==, 1);
  r4 = guest_call (f, "Reset", g_variant_new ("(u)", 0), "()");
  reboot = vb_signal_recorder_wait (reboots, &reboot_path);
  g_assert_cmpstr (reboot_path, ==, f->path);
  r5 = guest_call (f, "Destroy", g_variant_new ("(u)", 0), "()");
  assert_domain_event (events, f->path, 5);   /* stopped */
  g_assert_cmpint (guest_state (f), ==, 5);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "Suspend", NULL, VB_ERROR_LIBVIRT_NAME,
                             "not running");
}

static void
test_save_restore_and_managed_save (GuestFixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-save.img", NULL);
  g_autoptr(GVariant) saved = guest_call (f, "Save", g_variant_new ("(ssu)", image, "", 0), "()");
  g_autoptr(GVariant) restored = NULL, managed = NULL, has_image = NULL, started = NULL;
  g_autoptr(VbSignalRecorder) iterations = NULL, completions = NULL;
  g_autoptr(GVariant) iteration = NULL, completion = NULL, boxed_stats = NULL, job_stats = NULL;
  g_autofree char *iteration_path = NULL;
  g_autofree char *completion_path = NULL;
  gint32 iteration_number = 0, operation = -1;
  gboolean has = FALSE;

  g_assert_cmpint (guest_state (f), ==, 5);
  restored = vb_test_call (&f->bus, QEMU_PATH, CONNECT, "DomainRestore",
                           g_variant_new ("(ssu)", image, "", 0), "()");
  g_assert_cmpint (guest_state (f), ==, 1);

  /* Saving is a migration to a file: MigrationIteration, then JobCompleted
   * with the job's statistics (operation 2: VIR_DOMAIN_JOB_OPERATION_SAVE). */
  iterations = vb_signal_recorder_new (&f->bus, DOMAIN, "MigrationIteration");
  completions = vb_signal_recorder_new (&f->bus, DOMAIN, "JobCompleted");
  managed = guest_call (f, "ManagedSave", g_variant_new ("(u)", 0), "()");
  iteration = vb_signal_recorder_wait (iterations, &iteration_path);
  g_variant_get (iteration, "(i)", &iteration_number);
  g_assert_cmpstr (iteration_path, ==, f->path);
  g_assert_cmpint (iteration_number, >=, 1);
  completion = vb_signal_recorder_wait (completions, &completion_path);
  g_assert_cmpstr (completion_path, ==, f->path);
  g_variant_get (completion, "(@a{sv})", &boxed_stats);
  job_stats = vb_test_unbox_twice (boxed_stats);
  g_assert_true (g_variant_lookup (job_stats, "operation", "i", &operation));
  g_assert_cmpint (operation, ==, 2);
  has_image = guest_call (f, "HasManagedSaveImage", g_variant_new ("(u)", 0), "(b)");
  g_variant_get (has_image, "(b)", &has);
  g_assert_true (has);
  started = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");
  g_assert_cmpint (guest_state (f), ==, 1);
  g_unlink (image);
}

static void
test_statistics (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) stats = guest_call (f, "GetStats", g_variant_new ("(uu)", 0, 0), "(a{sv})");
  g_autoptr(GVariant) boxed = g_variant_get_child_value (stats, 0);
  g_autoptr(GVariant) unboxed = vb_test_unbox_twice (boxed);
  g_autoptr(GVariant) memory = guest_call (f, "MemoryStats", g_variant_new ("(u)", 0), "(a{it})");
  g_autoptr(GVariant) vcpus = guest_call (f, "GetVcpus", g_variant_new ("(u)", 0), "(u)");
  g_autoptr(GVariant) job = guest_call (f, "GetJobInfo", NULL, "((ittttttttttt))");
  g_autoptr(GVariant) set_memory = guest_call (f, "SetMemory", g_variant_new ("(tu)", 32768, 1), "()");
  guint n_vcpus;
  gint32 state = 0, job_type = -1;

  g_assert_true (g_variant_lookup (unboxed, "state.state", "i", &state));
  g_assert_cmpint (state, ==, 1);
  g_assert_true (g_variant_lookup (unboxed, "vcpu.current", "u", NULL));
  g_assert_cmpuint (g_variant_n_children (g_variant_get_child_value (memory, 0)), >, 0);
  g_variant_get (vcpus, "(u)", &n_vcpus);
  g_assert_cmpuint (n_vcpus, ==, 1);
  g_variant_get_child (job, 0, "(ittttttttttt)", &job_type, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL, NULL);
  g_assert_cmpint (job_type, ==, 0);   /* VIR_DOMAIN_JOB_NONE */
}

static void
test_attach_and_detach_disk (GuestFixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-disk.qcow2", NULL);
  g_autofree char *disk = g_strdup_printf (
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
      "<source file='%s'/><target dev='sdb' bus='scsi'/></disk>", image);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) qemu_img = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                                                      "qemu-img", "create", "-q", "-f", "qcow2",
                                                      image, "16M", NULL);
  g_autoptr(VbSignalRecorder) removed = NULL;
  g_autoptr(VbSignalRecorder) added = vb_signal_recorder_new (&f->bus, DOMAIN, "DeviceAdded");
  g_autoptr(GVariant) attached = NULL, detached = NULL, xml = NULL, signal = NULL, added_signal = NULL;
  g_autofree char *signal_path = NULL;
  g_autofree char *added_path = NULL;
  const char *text, *alias;

  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (qemu_img, NULL, &error));
  g_chmod (image, 0666);
  attached = guest_call (f, "AttachDevice", g_variant_new ("(su)", disk, 1), "()");
  added_signal = vb_signal_recorder_wait (added, &added_path);
  g_variant_get (added_signal, "(&s)", &alias);
  g_assert_cmpstr (added_path, ==, f->path);
  g_assert_true (g_str_has_prefix (alias, "scsi"));
  xml = guest_call (f, "GetXMLDesc", g_variant_new ("(u)", 0), "(s)");
  g_variant_get (xml, "(&s)", &text);
  g_assert_nonnull (strstr (text, "dev='sdb'"));

  /* A SCSI disk leaves at once, without the guest's consent. */
  removed = vb_signal_recorder_new (&f->bus, DOMAIN, "DeviceRemoved");
  detached = guest_call (f, "DetachDevice", g_variant_new ("(su)", disk, 1), "()");
  signal = vb_signal_recorder_wait (removed, &signal_path);
  g_variant_get (signal, "(&s)", &alias);
  g_assert_cmpstr (signal_path, ==, f->path);
  g_assert_true (g_str_has_prefix (alias, "scsi"));
  g_clear_pointer (&xml, g_variant_unref);
  xml = guest_call (f, "GetXMLDesc", g_variant_new ("(u)", 0), "(s)");
  g_variant_get (xml, "(&s)", &text);
  g_assert_null (strstr (text, "dev='sdb'"));
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "AttachDevice",
                             g_variant_new ("(su)", "<disk", 1), VB_ERROR_LIBVIRT_NAME, NULL);
  g_unlink (image);
}

static void
qemu_img (const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  g_ptr_array_add (argv, "qemu-img");
  for (const char *const *arg = args; *arg != NULL; arg++)
    g_ptr_array_add (argv, (char *) *arg);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
}

/* A CD-ROM whose image is missing, with startupPolicy='optional', is
 * dropped when the guest starts: DiskChange says so. */
static void
test_disk_change_on_start (GuestFixture *f, gconstpointer data)
{
  const char *cdrom =
      "<disk type='file' device='cdrom'><source file='/nonexistent/vbtest.iso' "
      "startupPolicy='optional'/><target dev='hdd' bus='ide'/><readonly/></disk>";
  g_autoptr(GVariant) attached = guest_call (f, "AttachDevice", g_variant_new ("(su)", cdrom, 2), "()");
  g_autoptr(VbSignalRecorder) changes = vb_signal_recorder_new (&f->bus, DOMAIN, "DiskChange");
  g_autoptr(GVariant) started = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");
  g_autofree char *path = NULL;
  g_autoptr(GVariant) change = vb_signal_recorder_wait (changes, &path);
  const char *old_source, *new_source, *device;
  gint32 reason;

  g_variant_get (change, "(&s&s&si)", &old_source, &new_source, &device, &reason);
  g_assert_cmpstr (path, ==, f->path);
  g_assert_cmpstr (old_source, ==, "/nonexistent/vbtest.iso");
  g_assert_cmpstr (new_source, ==, "");
  g_assert_cmpstr (device, !=, "");
  g_assert_cmpint (reason, ==, 0);   /* VIR_DOMAIN_EVENT_DISK_CHANGE_MISSING_ON_START */
}

/* A disk on a backing file; BlockPull copies the backing data into it and
 * reports completion as a BlockJob signal. */
static void
test_block_pull_and_resize (GuestFixture *f, gconstpointer data)
{
  g_autofree char *base = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-base.qcow2", NULL);
  g_autofree char *top = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-top.qcow2", NULL);
  g_autofree char *disk = g_strdup_printf (
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
      "<source file='%s'/><target dev='vda' bus='virtio'/></disk>", top);
  g_autoptr(VbSignalRecorder) jobs = NULL;
  g_autoptr(GVariant) attached = NULL, started = NULL, pulled = NULL, info = NULL, resized = NULL;
  gboolean completed = FALSE;
  gint32 job_type = -1;

  qemu_img ((const char *[]) { "create", "-q", "-f", "qcow2", base, "16M", NULL });
  qemu_img ((const char *[]) { "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top, NULL });
  g_chmod (base, 0666);
  g_chmod (top, 0666);
  /* VIR_DOMAIN_AFFECT_CONFIG (2) on the guest while it is off */
  attached = guest_call (f, "AttachDevice", g_variant_new ("(su)", disk, 2), "()");
  started = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");

  jobs = vb_signal_recorder_new (&f->bus, DOMAIN, "BlockJob");
  pulled = guest_call (f, "BlockPull", g_variant_new ("(stu)", "vda", (guint64) 0, 0), "()");
  for (int i = 0; i < 4 && !completed; i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GVariant) event = vb_signal_recorder_wait (jobs, &path);
      const char *target;
      gint32 type, status;

      g_variant_get (event, "(&sii)", &target, &type, &status);
      g_assert_cmpstr (path, ==, f->path);
      g_assert_cmpstr (target, ==, "vda");
      g_assert_cmpint (type, ==, 1);   /* VIR_DOMAIN_BLOCK_JOB_TYPE_PULL */
      completed = status == 0;         /* VIR_DOMAIN_BLOCK_JOB_COMPLETED */
    }
  g_assert_true (completed);

  /* no job left: a zeroed record */
  info = guest_call (f, "GetBlockJobInfo", g_variant_new ("(su)", "vda", 0), "((ittt))");
  g_variant_get (info, "((ittt))", &job_type, NULL, NULL, NULL);
  g_assert_cmpint (job_type, ==, 0);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "BlockJobSetSpeed",
                             g_variant_new ("(stu)", "vda", (guint64) 1, 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "BlockJobAbort",
                             g_variant_new ("(su)", "vda", 0), VB_ERROR_LIBVIRT_NAME, NULL);
  /* VIR_DOMAIN_BLOCK_RESIZE_BYTES (1) */
  resized = guest_call (f, "BlockResize", g_variant_new ("(stu)", "vda", (guint64) 32 * 1024 * 1024, 1), "()");
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "BlockPull",
                             g_variant_new ("(stu)", "vdz", (guint64) 0, 0), VB_ERROR_LIBVIRT_NAME, NULL);
  g_unlink (top);
  g_unlink (base);
}

static GBytes *
read_all (int fd)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[65536];
  ssize_t n;

  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_byte_array_append (data, buffer, (guint) n);
  g_assert_cmpint (n, ==, 0);
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static int
reply_fd (GVariant *reply, GUnixFDList *fds)
{
  gint32 handle;
  g_autoptr(GError) error = NULL;
  int fd;

  g_variant_get_child (reply, 0, "h", &handle);
  fd = g_unix_fd_list_get (fds, handle, &error);
  g_assert_no_error (error);
  return fd;
}

static GVariant *
call_returning_fds (GuestFixture *f, const char *method, GVariant *args, GUnixFDList **out_fds)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus.bus, "org.libvirt", f->path, DOMAIN, method, args, NULL, G_DBUS_CALL_FLAGS_NONE,
      30000, NULL, out_fds, NULL, &error);

  g_assert_no_error (error);
  return reply;
}

static void
test_screenshot (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = call_returning_fds (f, "Screenshot", g_variant_new ("(uu)", 0, 0), &fds);
  const char *mime_type;
  int fd = reply_fd (reply, fds);
  g_autoptr(GBytes) image = read_all (fd);
  gsize size;
  const char *bytes = g_bytes_get_data (image, &size);

  close (fd);
  g_variant_get_child (reply, 1, "&s", &mime_type);
  g_assert_cmpuint (size, >, 100);
  /* The image is what its MIME type says: QEMU sends PNG where it can,
   * binary PPM ("P6") otherwise. */
  if (g_str_equal (mime_type, "image/png"))
    g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  else if (g_str_equal (mime_type, "image/x-portable-pixmap"))
    g_assert_cmpmem (bytes, 3, "P6\n", 3);
  else
    g_error ("unexpected screenshot type %s", mime_type);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "Screenshot", g_variant_new ("(uu)", 7, 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
}

/* Media put into the CD-ROM's configuration while the guest is off, then
 * ejected from the running guest through UpdateDevice: the tray opens,
 * which QEMU reports as TrayChange.  (Inserting into a running guest's
 * closed tray races with QEMU opening it, so the test does not.) */
static void
test_update_device_tray_change (GuestFixture *f, gconstpointer data)
{
  g_autofree char *iso = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-media.iso", NULL);
  g_autofree char *inserted_xml = g_strdup_printf (
      "<disk type='file' device='cdrom'><source file='%s'/><target dev='hdc' bus='ide'/>"
      "<readonly/></disk>", iso);
  const char *ejected_xml =
      "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>";
  g_autoptr(VbSignalRecorder) trays = NULL;
  g_autoptr(GVariant) inserted = NULL, started = NULL, ejected = NULL;
  g_autoptr(GError) error = NULL;
  char *zeros = g_malloc0 (1024 * 1024);
  gboolean opened = FALSE;

  g_file_set_contents (iso, zeros, 1024 * 1024, &error);
  g_free (zeros);
  g_assert_no_error (error);
  g_chmod (iso, 0644);
  /* VIR_DOMAIN_AFFECT_CONFIG (2), then VIR_DOMAIN_AFFECT_LIVE (1) */
  inserted = guest_call (f, "UpdateDevice", g_variant_new ("(su)", inserted_xml, 2), "()");
  started = guest_call (f, "Create", g_variant_new ("(u)", 0), "()");
  trays = vb_signal_recorder_new (&f->bus, DOMAIN, "TrayChange");
  ejected = guest_call (f, "UpdateDevice", g_variant_new ("(su)", ejected_xml, 1), "()");
  for (int i = 0; i < 3 && !opened; i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GVariant) event = vb_signal_recorder_wait (trays, &path);
      const char *device;
      gint32 reason;

      g_variant_get (event, "(&si)", &device, &reason);
      g_assert_cmpstr (path, ==, f->path);
      opened = reason == 0;   /* VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN */
    }
  g_assert_true (opened);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "UpdateDevice",
                             g_variant_new ("(su)", "<disk", 1), VB_ERROR_LIBVIRT_NAME, NULL);
  g_unlink (iso);
}

/* The VNC server answers on the descriptor with its protocol version, and
 * the connection is reported as a Graphics signal. */
static void
test_open_graphics_fd (GuestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) graphics = vb_signal_recorder_new (&f->bus, DOMAIN, "Graphics");
  g_autoptr(GVariant) event = NULL;
  g_autofree char *event_path = NULL;
  gint32 phase;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = call_returning_fds (f, "OpenGraphicsFD", g_variant_new ("(uu)", 0, 0), &fds);
  int fd = reply_fd (reply, fds);
  char greeting[12] = { 0 };
  gsize got = 0;

  while (got < sizeof greeting)
    {
      ssize_t n = read (fd, greeting + got, sizeof greeting - got);

      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }
  g_assert_cmpmem (greeting, 4, "RFB ", 4);
  event = vb_signal_recorder_wait (graphics, &event_path);
  g_variant_get (event, "(i@(iss)@(iss)s@a(ss))", &phase, NULL, NULL, NULL, NULL);
  g_assert_cmpstr (event_path, ==, f->path);
  g_assert_cmpint (phase, ==, 0);   /* VIR_DOMAIN_EVENT_GRAPHICS_CONNECT */
  close (fd);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "OpenGraphicsFD", g_variant_new ("(uu)", 5, 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_console_open_write_close_reopen (GuestFixture *f, gconstpointer data)
{
  for (int round = 0; round < 2; round++)
    {
      g_autoptr(GUnixFDList) fds = NULL;
      g_autoptr(GVariant) reply = call_returning_fds (f, "OpenConsole",
                                                      g_variant_new ("(su)", "", 0), &fds);
      int fd = reply_fd (reply, fds);
      const char text[] = "hello console\r\n";

      g_assert_cmpint (write (fd, text, sizeof text - 1), ==, sizeof text - 1);
      /* closing our end ends the session; the next round must open again */
      close (fd);
      g_usleep (200000);
    }
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "OpenConsole",
                             g_variant_new ("(su)", "nope0", 0), VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "OpenChannel",
                             g_variant_new ("(su)", "org.qemu.guest_agent.0", 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  g_assert_cmpint (guest_state (f), ==, 1);
}

/* The firmware writes its banner to the serial console (useserial): start
 * the guest paused, attach, resume, and read the banner from the fd. */
static void
test_console_reads_guest_output (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) created = guest_call (f, "Create", g_variant_new ("(u)", 1), "()");
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = call_returning_fds (f, "OpenConsole", g_variant_new ("(su)", "", 0), &fds);
  int fd = reply_fd (reply, fds);
  g_autoptr(GVariant) resumed = guest_call (f, "Resume", NULL, "()");
  g_autoptr(GString) seen = g_string_new ("");
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (strstr (seen->str, "SeaBIOS") == NULL && g_get_monotonic_time () < deadline)
    {
      char buffer[4096];
      GPollFD poll_fd = { fd, G_IO_IN, 0 };
      ssize_t n;

      if (g_poll (&poll_fd, 1, 1000) <= 0)
        continue;
      n = read (fd, buffer, sizeof buffer);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (seen, buffer, n);
    }
  close (fd);
  g_assert_nonnull (strstr (seen->str, "SeaBIOS"));
}

static void
test_console_ends_when_guest_stops (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = call_returning_fds (f, "OpenConsole", g_variant_new ("(su)", "serial0", 0), &fds);
  int fd = reply_fd (reply, fds);
  g_autoptr(GVariant) destroyed = guest_call (f, "Destroy", g_variant_new ("(u)", 0), "()");
  g_autoptr(GBytes) rest = read_all (fd);   /* returns at end of file */

  close (fd);
  g_assert_nonnull (rest);
}

static void
test_metadata_and_tunable_signals (GuestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) metadata = vb_signal_recorder_new (&f->bus, DOMAIN, "MetadataChange");
  g_autoptr(VbSignalRecorder) tunables = vb_signal_recorder_new (&f->bus, DOMAIN, "Tunable");
  g_autoptr(GVariant) set = guest_call (f, "SetMetadata",
                                        g_variant_new ("(isssu)", 1, "a title", "", "", 1), "()");
  g_autoptr(GVariant) got = guest_call (f, "GetMetadata", g_variant_new ("(isu)", 1, "", 1), "(s)");
  g_autoptr(GVariant) change = NULL, tunable = NULL, pinned = NULL, params = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tunable_path = NULL;
  const char *title;
  gint32 type;

  g_variant_get (got, "(&s)", &title);
  g_assert_cmpstr (title, ==, "a title");
  change = vb_signal_recorder_wait (metadata, &path);
  g_variant_get (change, "(i&s)", &type, NULL);
  g_assert_cmpstr (path, ==, f->path);
  g_assert_cmpint (type, ==, 1);   /* VIR_DOMAIN_METADATA_TITLE */

  pinned = guest_call (f, "PinVcpu", g_variant_new_parsed ("(uint32 0, [true], uint32 1)"), "()");
  tunable = vb_signal_recorder_wait (tunables, &tunable_path);
  g_variant_get (tunable, "(@a{sv})", &params);
  g_assert_cmpstr (tunable_path, ==, f->path);
  {
    g_autoptr(GVariant) unboxed = vb_test_unbox_twice (params);

    g_assert_true (g_variant_lookup (unboxed, "cputune.vcpupin0", "&s", NULL));
  }
}

typedef struct {
  gboolean slow_done;
  guint cheap_done_before_slow;
  guint cheap_pending;
} RaceState;

static void
on_slow_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RaceState *race = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  g_assert_no_error (error);
  race->slow_done = TRUE;
}

static void
on_cheap_done (GObject *source, GAsyncResult *result, gpointer data)
{
  RaceState *race = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  g_assert_no_error (error);
  if (!race->slow_done)
    race->cheap_done_before_slow++;
  race->cheap_pending--;
}

/* While a slow call (saving a running guest to disk) occupies libvirt,
 * cheap calls on other worker threads are answered first. */
static void
test_slow_call_does_not_hold_up_cheap_ones (GuestFixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-race.img", NULL);
  RaceState race = { 0 };

  g_dbus_connection_call (f->bus.bus, "org.libvirt", f->path, DOMAIN, "ManagedSave",
                          g_variant_new ("(u)", 0), NULL, G_DBUS_CALL_FLAGS_NONE, 60000, NULL,
                          on_slow_done, &race);
  for (int i = 0; i < 5; i++)
    {
      race.cheap_pending++;
      g_dbus_connection_call (f->bus.bus, "org.libvirt", QEMU_PATH, CONNECT, "ListDomains",
                              g_variant_new ("(u)", 0), NULL, G_DBUS_CALL_FLAGS_NONE, 60000,
                              NULL, on_cheap_done, &race);
    }
  while (!race.slow_done || race.cheap_pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (race.cheap_done_before_slow, ==, 5);
  g_unlink (image);
}

static void
test_undefine_leaves_no_stale_object (GuestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) undefined = guest_call (f, "Undefine", g_variant_new ("(u)", 0), "()");

  vb_test_assert_call_error (&f->bus, f->path, DOMAIN, "GetXMLDesc", g_variant_new ("(u)", 0),
                             "org.freedesktop.DBus.Error.UnknownObject", NULL);
}

/* ---- idle exit ------------------------------------------------------------ */

static gboolean
org_libvirt_is_owned (GDBusConnection *bus)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", "org.libvirt"), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = FALSE;

  g_variant_get (reply, "(b)", &owned);
  return owned;
}

/* A console outlives the call that opened it: with --timeout 1 and its
 * caller gone from the bus, virtbusd stays while the console is open, and
 * leaves once it is closed.  The fixture's own connection never calls
 * virtbusd (it would count as a client). */
static void
test_console_keeps_idle_daemon (void)
{
  const char *const args[] = { VB_LIBVIRTD_DAEMON_ARGS, "--timeout", "1", NULL };
  VbTestFixture f = { 0 };
  g_autofree char *name = g_strdup_printf (GUEST_PREFIX "%d-idle", (int) getpid ());
  g_autofree char *xml = guest_xml (name);
  g_autoptr(GDBusConnection) caller = NULL;
  g_autoptr(GVariant) defined = NULL, created = NULL, console = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gint64 deadline;
  int fd;

  vb_test_setup_with_args (&f, args);
  caller = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (f.test_bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  g_assert_no_error (error);
  defined = g_dbus_connection_call_sync (caller, "org.libvirt", QEMU_PATH, CONNECT,
                                         "DomainDefineXML", g_variant_new ("(s)", xml),
                                         NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
  path = vb_test_reply_path (defined);
  created = g_dbus_connection_call_sync (caller, "org.libvirt", path, DOMAIN, "Create",
                                         g_variant_new ("(u)", 0), NULL,
                                         G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
  g_assert_no_error (error);
  console = g_dbus_connection_call_with_unix_fd_list_sync (
      caller, "org.libvirt", path, DOMAIN, "OpenConsole", g_variant_new ("(su)", "", 0),
      NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &fds, NULL, &error);
  g_assert_no_error (error);
  fd = reply_fd (console, fds);
  g_dbus_connection_close_sync (caller, NULL, NULL);

  g_usleep (3 * G_USEC_PER_SEC);
  g_assert_true (org_libvirt_is_owned (f.bus));

  /* Our end closed (the list holds a copy of its own). */
  close (fd);
  g_clear_object (&fds);
  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (org_libvirt_is_owned (f.bus) && g_get_monotonic_time () < deadline)
    g_usleep (100000);
  g_assert_false (org_libvirt_is_owned (f.bus));

  g_free (vb_virsh ((const char *[]) { "destroy", name, NULL }, NULL));
  g_free (vb_virsh ((const char *[]) { "undefine", name, NULL }, NULL));
  /* Exited by itself by now: asserts status 0. */
  vb_test_teardown (&f, NULL);
}

int
main (int argc, char **argv)
{
  g_autofree char *skip_reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!vb_libvirtd_ensure (&skip_reason))
    {
      g_test_skip (skip_reason);
      return 77;
    }
  remove_test_guests ();

#define ADD(name, setup, func) \
  g_test_add ("/qemu-domain/" name, GuestFixture, NULL, setup, func, guest_teardown)
  ADD ("lifecycle", guest_setup, test_lifecycle);
  ADD ("save-restore-managed-save", guest_setup_running, test_save_restore_and_managed_save);
  ADD ("statistics", guest_setup_running, test_statistics);
  ADD ("attach-detach-disk", guest_setup_running, test_attach_and_detach_disk);
  ADD ("screenshot", guest_setup_running, test_screenshot);
  ADD ("update-device-tray-change", guest_setup, test_update_device_tray_change);
  ADD ("block-pull-and-resize", guest_setup, test_block_pull_and_resize);
  ADD ("disk-change-on-start", guest_setup, test_disk_change_on_start);
  ADD ("open-graphics-fd", guest_setup_running, test_open_graphics_fd);
  ADD ("console", guest_setup_running, test_console_open_write_close_reopen);
  ADD ("console-reads-guest-output", guest_setup, test_console_reads_guest_output);
  ADD ("console-ends-with-guest", guest_setup_running, test_console_ends_when_guest_stops);
  ADD ("metadata-and-tunable-signals", guest_setup_running, test_metadata_and_tunable_signals);
  ADD ("slow-call-does-not-hold-up-cheap-ones", guest_setup_running,
       test_slow_call_does_not_hold_up_cheap_ones);
  ADD ("undefine", guest_setup, test_undefine_leaves_no_stale_object);
  g_test_add_func ("/qemu-domain/console-keeps-idle-daemon", test_console_keeps_idle_daemon);
#undef ADD

  status = g_test_run ();
  remove_test_guests ();
  vb_libvirtd_release ();
  return status;
}
