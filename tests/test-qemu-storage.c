/* org.libvirt.StoragePool and org.libvirt.StorageVol against a real
 * libvirtd (qemu:///system): a dir pool in a scratch directory with real
 * volumes (create, clone, resize, wipe, delete), 64 MiB uploaded and
 * downloaded with a checksum through regular files and pipes, with the
 * daemon's memory watched, and the transfer error paths.  Every pool is
 * named vbtest-<pid>-* and removed at the end even after a failure; at
 * the start, leftovers of runs whose process is gone are removed too. */
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define CONNECT_PATH "/org/libvirt/QEMU"
#define CONNECT "org.libvirt.Connect"
#define POOL "org.libvirt.StoragePool"
#define VOL "org.libvirt.StorageVol"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define IO_ERROR "org.freedesktop.DBus.Error.IOError"

#define MIB (1024 * 1024)
#define DATA_SIZE (64 * MIB)
#define TRANSFER_TIMEOUT_MS (120 * 1000)
/* What the daemon's RSS may grow by while it moves DATA_SIZE bytes: its
 * 256 KiB buffer, one 8 MiB piece of a download that libvirt's client
 * library may queue, the allocator's slack.  Holding the data would take
 * 64 MiB. */
#define RSS_GROWTH_LIMIT_KIB (24 * 1024)

/* virStoragePoolEventLifecycleType */
enum { DEFINED = 0, UNDEFINED = 1, STARTED = 2, STOPPED = 3, CREATED = 4, DELETED = 5 };

/* ---- set-up and clean-up ----------------------------------------------- */

/* vbtest-<pid>-pool, made by main() */
static char *pool_name;

static void
virsh_quietly (const char *command, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { command, name, NULL }, &error);
}

/* Pools live in the scratch directory, one flat directory each. */
static void
remove_pool_dir (const char *name)
{
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), name, NULL);

  vb_test_remove_flat_dir (dir);
}

/* Removes the pools of this run (and of runs that are gone) with their
 * volumes, whatever state a failed run left them in. */
static void
remove_test_pools (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = vb_virsh ((const char *[]) { "pool-list", "--all", "--name", NULL },
                                     &error);
  g_auto(GStrv) lines = g_strsplit (names != NULL ? names : "", "\n", -1);

  for (char **name = lines; *name != NULL; name++)
    {
      g_strstrip (*name);
      if (!vb_test_run_name_is_removable (*name))
        continue;
      virsh_quietly ("pool-destroy", *name);
      virsh_quietly ("pool-undefine", *name);
      remove_pool_dir (*name);
    }
}

static void
teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_teardown (f, data);
  remove_test_pools ();
}

/* ---- helpers ----------------------------------------------------------- */

static char *
pool_xml (const char *name)
{
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), name, NULL);

  return g_strdup_printf ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>",
                          name, dir);
}

/* Waits for the StoragePoolEvent of @path (others' pools may change
 * meanwhile on a shared libvirtd). */
static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  for (;;)
    {
      g_autofree char *signal_path = NULL;
      g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
      const char *pool;
      gint32 type, detail;

      g_variant_get (event, "(&oii)", &pool, &type, &detail);
      if (!g_str_equal (pool, path))
        continue;
      g_assert_cmpstr (signal_path, ==, CONNECT_PATH);
      g_assert_cmpint (type, ==, expected);
      return;
    }
}

static char *
path_reply (VbTestFixture *f, const char *path, const char *iface, const char *method,
            GVariant *args)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, iface, method, args, "(o)");

  return vb_test_reply_path (reply);
}

static void
call_unit (VbTestFixture *f, const char *path, const char *iface, const char *method,
           GVariant *args)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, iface, method, args, "()");
}

/* A started dir pool named pool_name. */
static char *
start_pool (VbTestFixture *f)
{
  g_autofree char *xml = pool_xml (pool_name);

  return path_reply (f, CONNECT_PATH, CONNECT, "StoragePoolCreateXML",
                     g_variant_new ("(su)", xml, 1));   /* VIR_STORAGE_POOL_CREATE_WITH_BUILD */
}

static char *
create_volume (VbTestFixture *f, const char *pool, const char *name, guint64 capacity)
{
  g_autofree char *xml = g_strdup_printf (
      "<volume><name>%s</name><capacity>%" G_GUINT64_FORMAT "</capacity>"
      "<target><format type='raw'/></target></volume>", name, capacity);

  return path_reply (f, pool, POOL, "StorageVolCreateXML", g_variant_new ("(su)", xml, 0));
}

static void
vol_info (VbTestFixture *f, const char *vol, gint32 *type, guint64 *capacity,
          guint64 *allocation)
{
  g_autoptr(GVariant) reply = vb_test_call (f, vol, VOL, "GetInfo", g_variant_new ("(u)", 0),
                                            "((itt))");

  g_variant_get (reply, "((itt))", type, capacity, allocation);
}

static guint64
vol_capacity (VbTestFixture *f, const char *vol)
{
  gint32 type;
  guint64 capacity, allocation;

  vol_info (f, vol, &type, &capacity, &allocation);
  return capacity;
}

static char *
vol_file (VbTestFixture *f, const char *vol)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, vol, VOL, "Path");

  return g_variant_dup_string (value, NULL);
}

static gboolean
path_list_contains (VbTestFixture *f, const char *pool, const char *vol)
{
  g_autoptr(GVariant) reply = vb_test_call (f, pool, POOL, "ListStorageVolumes",
                                            g_variant_new ("(u)", 0), "(ao)");
  g_autofree const char **paths = NULL;

  g_variant_get (reply, "(^a&o)", &paths);
  return g_strv_contains (paths, vol);
}

/* ---- data, checksums, transfers ---------------------------------------- */

static char *
checksum_of (const guchar *data, gsize size)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
}

static char *
checksum_of_bytes (GBytes *bytes)
{
  gsize size;
  const guchar *data = g_bytes_get_data (bytes, &size);

  return checksum_of (data, size);
}

static char *
write_temp_file (GBytes *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-data-XXXXXX", NULL);
  int fd = g_mkstemp (path);
  gsize size;
  const char *data = g_bytes_get_data (contents, &size);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (gssize) size);
  g_assert_no_errno (close (fd));
  return g_steal_pointer (&path);
}

/* Calls Upload or Download passing @fd; returns the byte count, or 0
 * with @error set. */
static guint64
transfer (VbTestFixture *f, const char *vol, const char *method, int fd, guint64 offset,
          guint64 length, guint flags, GError **error)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new_from_array (&fd, 1);
  g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, "org.libvirt", vol, VOL, method,
      g_variant_new ("(httu)", 0, offset, length, flags), G_VARIANT_TYPE ("(t)"),
      G_DBUS_CALL_FLAGS_NONE, TRANSFER_TIMEOUT_MS, fds, NULL, NULL, error);
  guint64 bytes = 0;

  if (reply != NULL)
    g_variant_get (reply, "(t)", &bytes);
  return bytes;
}

static guint64
transfer_ok (VbTestFixture *f, const char *vol, const char *method, int fd, guint64 offset,
             guint64 length)
{
  g_autoptr(GError) error = NULL;
  guint64 bytes = transfer (f, vol, method, fd, offset, length, 0, &error);

  g_assert_no_error (error);
  return bytes;
}

static void
assert_transfer_error (VbTestFixture *f, const char *vol, const char *method, int fd,
                       guint64 offset, guint64 length, guint flags, const char *error_name,
                       const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  if (transfer (f, vol, method, fd, offset, length, flags, &error) > 0 || error == NULL)
    g_error ("%s at %" G_GUINT64_FORMAT " succeeded, expected %s", method, offset, error_name);
  name = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (name, ==, error_name);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("%s: error '%s' lacks '%s'", method, error->message, message_part);
}

static int
open_file (const char *path, int flags)
{
  int fd = g_open (path, flags | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize size = 0;

  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, size);
}

/* The other end of a pipe, served on a thread while the main thread waits
 * for the call: it writes @data into the pipe, or reads everything it
 * gets, hashing it. */
typedef struct {
  int fd;
  GBytes *data;            /* to write; NULL to read */
  gulong pause_us;         /* after each read: a slow reader */
  GChecksum *checksum;     /* of what was read */
  guint64 size;            /* bytes read */
} PipeEnd;

static gpointer
serve_pipe_end (gpointer data)
{
  PipeEnd *end = data;
  g_autofree guchar *buffer = g_malloc (MIB);
  gsize size;
  const guchar *bytes = end->data != NULL ? g_bytes_get_data (end->data, &size) : NULL;
  gssize n;

  if (bytes != NULL)
    {
      for (gsize done = 0; done < size; done += (gsize) n)
        {
          n = write (end->fd, bytes + done, MIN (size - done, MIB));
          g_assert_cmpint (n, >, 0);
        }
    }
  else
    {
      while ((n = read (end->fd, buffer, MIB)) > 0)
        {
          g_checksum_update (end->checksum, buffer, (gsize) n);
          end->size += (guint64) n;
          g_usleep (end->pause_us);
        }
      g_assert_cmpint (n, ==, 0);
    }
  close (end->fd);
  return NULL;
}

/* Starts serving our end of a new pipe; returns the daemon's end. */
static int
pipe_with_thread (PipeEnd *end, GBytes *to_write, GThread **thread)
{
  int fds[2];

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  end->data = to_write;
  end->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  end->fd = to_write != NULL ? fds[1] : fds[0];
  *thread = g_thread_new ("pipe-end", serve_pipe_end, end);
  return to_write != NULL ? fds[0] : fds[1];
}

/* ---- the daemon's memory ------------------------------------------------ */

static guint64
status_kib (const char *pid, const char *field)
{
  g_autofree char *status_path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (status_path, &status, NULL, NULL))
    return 0;
  line = strstr (status, field);
  return line != NULL ? g_ascii_strtoull (line + strlen (field) + 1, NULL, 10) : 0;
}

typedef struct {
  const char *pid;
  gint stop;
  guint64 before_kib;
  guint64 peak_kib;
  GThread *thread;
} RssWatch;

static gpointer
watch_rss (gpointer data)
{
  RssWatch *watch = data;

  while (!g_atomic_int_get (&watch->stop))
    {
      watch->peak_kib = MAX (watch->peak_kib, status_kib (watch->pid, "VmRSS:"));
      g_usleep (10000);
    }
  return NULL;
}

/* Samples the daemon's resident memory every 10 ms until stopped. */
static void
rss_watch_start (RssWatch *watch, VbTestFixture *f)
{
  watch->pid = g_subprocess_get_identifier (f->daemon);
  watch->before_kib = status_kib (watch->pid, "VmRSS:");
  watch->thread = g_thread_new ("rss", watch_rss, watch);
}

/* How far above its start the RSS went, in KiB. */
static guint64
rss_watch_stop (RssWatch *watch)
{
  g_atomic_int_set (&watch->stop, TRUE);
  g_thread_join (watch->thread);
  return watch->peak_kib > watch->before_kib ? watch->peak_kib - watch->before_kib : 0;
}

/* A sanitizer build keeps freed memory in quarantine: its RSS says nothing
 * about what the daemon holds. */
static gboolean
daemon_is_sanitized (const char *pid)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%s/maps", pid);
  g_autofree char *maps = NULL;

  return g_file_get_contents (maps_path, &maps, NULL, NULL) && strstr (maps, "libasan") != NULL;
}

/* ---- pools ------------------------------------------------------------- */

static void
test_pool_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autoptr(VbSignalRecorder) refreshes = vb_signal_recorder_new (f, POOL, "Refresh");
  g_autofree char *xml = pool_xml (pool_name);
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), pool_name, NULL);
  g_autofree char *path = path_reply (f, CONNECT_PATH, CONNECT, "StoragePoolDefineXML",
                                      g_variant_new ("(su)", xml, 0));
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GVariant) config = NULL;
  g_autoptr(GVariant) refresh = NULL;
  const char *config_xml;
  g_autofree char *refresh_path = NULL;
  gint32 state;
  guint64 capacity, allocation, available;

  assert_event (events, path, DEFINED);
  call_unit (f, path, POOL, "Build", g_variant_new ("(u)", 0));
  assert_event (events, path, CREATED);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  call_unit (f, path, POOL, "Create", g_variant_new ("(u)", 0));
  assert_event (events, path, STARTED);
  vb_test_assert_call_error (f, path, POOL, "Create", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "already active");

  info = vb_test_call (f, path, POOL, "GetInfo", NULL, "((ittt))");
  g_variant_get (info, "((ittt))", &state, &capacity, &allocation, &available);
  g_assert_cmpint (state, ==, 2);   /* VIR_STORAGE_POOL_RUNNING */
  g_assert_cmpuint (capacity, >, 0);
  g_assert_cmpuint (allocation + available, <=, capacity);
  config = vb_test_call (f, path, POOL, "GetXMLDesc", g_variant_new ("(u)", 1), "(s)");
  g_variant_get (config, "(&s)", &config_xml);   /* VIR_STORAGE_XML_INACTIVE */
  g_assert_nonnull (strstr (config_xml, dir));

  call_unit (f, path, POOL, "Refresh", g_variant_new ("(u)", 0));
  refresh = vb_signal_recorder_wait (refreshes, &refresh_path);
  g_assert_cmpstr (refresh_path, ==, path);

  call_unit (f, path, POOL, "Destroy", NULL);
  assert_event (events, path, STOPPED);
  call_unit (f, path, POOL, "Delete", g_variant_new ("(u)", 0));
  assert_event (events, path, DELETED);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  call_unit (f, path, POOL, "Undefine", NULL);
  assert_event (events, path, UNDEFINED);
  vb_test_assert_object_gone (f, path, POOL);
}

static void
set_autostart (VbTestFixture *f, const char *path, gboolean autostart)
{
  call_unit (f, path, "org.freedesktop.DBus.Properties", "Set",
             g_variant_new ("(ssv)", POOL, "Autostart", g_variant_new_boolean (autostart)));
}

static gboolean
get_autostart (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, POOL, "Autostart");

  return g_variant_get_boolean (value);
}

static void
test_pool_autostart (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *xml = pool_xml (pool_name);
  g_autofree char *path = path_reply (f, CONNECT_PATH, CONNECT, "StoragePoolDefineXML",
                                      g_variant_new ("(su)", xml, 0));
  g_autofree char *transient = NULL;

  set_autostart (f, path, TRUE);
  g_assert_true (get_autostart (f, path));
  set_autostart (f, path, FALSE);
  g_assert_false (get_autostart (f, path));
  call_unit (f, path, POOL, "Undefine", NULL);

  transient = start_pool (f);
  vb_test_assert_call_error (f, transient, "org.freedesktop.DBus.Properties", "Set",
                             g_variant_new ("(ssv)", POOL, "Autostart", g_variant_new_boolean (TRUE)),
                             VB_ERROR_LIBVIRT_NAME, "pool has no config file");
}

/* ---- volumes ------------------------------------------------------------ */

static void
test_volumes (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);
  g_autofree char *found = path_reply (f, pool, POOL, "StorageVolLookupByName",
                                       g_variant_new ("(s)", "vbtest-a.img"));
  g_autoptr(GVariant) key = vb_test_get_property (f, vol, VOL, "Key");
  g_autofree char *file = vol_file (f, vol);
  g_autoptr(GVariant) xml = vb_test_call (f, vol, VOL, "GetXMLDesc", g_variant_new ("(u)", 0), "(s)");
  g_autofree char *clone_xml = g_strdup_printf (
      "<volume><name>vbtest-b.img</name><capacity>%d</capacity></volume>", MIB);
  g_autofree char *clone = NULL;
  const char *desc;
  gint32 type;
  guint64 capacity, allocation;

  g_assert_cmpstr (found, ==, vol);
  g_assert_cmpstr (g_variant_get_string (key, NULL), ==, file);
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_variant_get (xml, "(&s)", &desc);
  g_assert_nonnull (strstr (desc, "<name>vbtest-a.img</name>"));
  vol_info (f, vol, &type, &capacity, &allocation);
  g_assert_cmpint (type, ==, 0);   /* VIR_STORAGE_VOL_FILE */
  g_assert_cmpuint (capacity, ==, MIB);
  vb_test_assert_call_error (f, vol, VOL, "GetInfo", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");

  clone = path_reply (f, pool, POOL, "StorageVolCreateXMLFrom",
                      g_variant_new ("(ssu)", clone_xml, g_variant_get_string (key, NULL), 0));
  g_assert_true (path_list_contains (f, pool, vol));
  g_assert_true (path_list_contains (f, pool, clone));
  g_assert_cmpuint (vol_capacity (f, clone), ==, MIB);
  vb_test_assert_call_error (f, pool, POOL, "StorageVolCreateXMLFrom",
                             g_variant_new ("(ssu)", clone_xml, "/nope", 0),
                             VB_ERROR_LIBVIRT_NAME, "no storage vol with matching key");

  call_unit (f, clone, VOL, "Delete", g_variant_new ("(u)", 0));
  vb_test_assert_object_gone (f, clone, VOL);
  g_assert_false (path_list_contains (f, pool, clone));
}

static void
test_resize (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);

  call_unit (f, vol, VOL, "Resize", g_variant_new ("(tu)", (guint64) 4 * MIB, 0));
  g_assert_cmpuint (vol_capacity (f, vol), ==, 4 * MIB);
  /* VIR_STORAGE_VOL_RESIZE_DELTA */
  call_unit (f, vol, VOL, "Resize", g_variant_new ("(tu)", (guint64) MIB, 2));
  g_assert_cmpuint (vol_capacity (f, vol), ==, 5 * MIB);
  vb_test_assert_call_error (f, vol, VOL, "Resize", g_variant_new ("(tu)", (guint64) MIB, 0),
                             VB_ERROR_LIBVIRT_NAME, "shrink");
  /* VIR_STORAGE_VOL_RESIZE_SHRINK */
  call_unit (f, vol, VOL, "Resize", g_variant_new ("(tu)", (guint64) 2 * MIB, 4));
  g_assert_cmpuint (vol_capacity (f, vol), ==, 2 * MIB);
  vb_test_assert_call_error (f, vol, VOL, "Resize", g_variant_new ("(tu)", (guint64) MIB, 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
}

static void
test_wipe (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);
  g_autofree char *file = vol_file (f, vol);
  g_autoptr(GBytes) data_in = vb_test_random_bytes (MIB, 7);
  g_autofree char *source = write_temp_file (data_in);
  g_autoptr(GBytes) uploaded = NULL;
  g_autoptr(GBytes) wiped = NULL;
  g_autofree guchar *zeros = g_malloc0 (MIB);

  g_assert_cmpuint (transfer_ok (f, vol, "Upload", open_file (source, O_RDONLY), 0, 0), ==, MIB);
  uploaded = read_file (file);
  g_assert_true (g_bytes_equal (uploaded, data_in));

  call_unit (f, vol, VOL, "Wipe", g_variant_new ("(uu)", 0, 0));   /* VIR_STORAGE_VOL_WIPE_ALG_ZERO */
  wiped = read_file (file);
  g_assert_cmpuint (g_bytes_get_size (wiped), ==, MIB);
  g_assert_cmpmem (g_bytes_get_data (wiped, NULL), MIB, zeros, MIB);
  vb_test_assert_call_error (f, vol, VOL, "Wipe", g_variant_new ("(uu)", 99, 0),
                             VB_ERROR_LIBVIRT_NAME, "wiping algorithm");
  vb_test_assert_call_error (f, vol, VOL, "Wipe", g_variant_new ("(uu)", 0, 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  g_unlink (source);
}

/* ---- data transfer ----------------------------------------------------- */

static void
test_upload_download_64_mib (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-data.img", DATA_SIZE);
  g_autofree char *file = vol_file (f, vol);
  g_autoptr(GBytes) data_in = vb_test_random_bytes (DATA_SIZE, 42);
  g_autofree char *expected = checksum_of_bytes (data_in);
  g_autofree char *source = write_temp_file (data_in);
  g_autofree char *target = g_strconcat (source, ".out", NULL);
  g_autoptr(GBytes) volume = NULL;
  g_autoptr(GBytes) downloaded = NULL;
  g_autofree char *volume_sum = NULL;
  g_autofree char *downloaded_sum = NULL;
  RssWatch watch = { 0 };
  gint64 start, upload_us, download_us;
  guint64 growth_kib;

  rss_watch_start (&watch, f);
  /* regular file -> volume */
  start = g_get_monotonic_time ();
  g_assert_cmpuint (transfer_ok (f, vol, "Upload", open_file (source, O_RDONLY), 0, 0), ==, DATA_SIZE);
  upload_us = g_get_monotonic_time () - start;
  volume = read_file (file);
  volume_sum = checksum_of_bytes (volume);
  g_assert_cmpstr (volume_sum, ==, expected);

  /* volume -> regular file */
  start = g_get_monotonic_time ();
  g_assert_cmpuint (transfer_ok (f, vol, "Download", open_file (target, O_WRONLY | O_CREAT | O_TRUNC),
                                 0, 0), ==, DATA_SIZE);
  download_us = g_get_monotonic_time () - start;
  downloaded = read_file (target);
  downloaded_sum = checksum_of_bytes (downloaded);
  g_assert_cmpstr (downloaded_sum, ==, expected);

  growth_kib = rss_watch_stop (&watch);
  g_test_message ("64 MiB upload: %.0f MiB/s, download: %.0f MiB/s; daemon RSS %" G_GUINT64_FORMAT
                  " KiB before, peak %" G_GUINT64_FORMAT " KiB during the transfers",
                  64.0 * G_USEC_PER_SEC / (double) upload_us,
                  64.0 * G_USEC_PER_SEC / (double) download_us, watch.before_kib, watch.peak_kib);
  if (!daemon_is_sanitized (watch.pid))
    g_assert_cmpuint (growth_kib, <, RSS_GROWTH_LIMIT_KIB);
  g_unlink (source);
  g_unlink (target);
}

/* Pipes, the reader of the download slow (about 30 MiB/s): the volume
 * must not pile up in the daemon meanwhile. */
static void
test_transfer_through_pipes (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-data.img", DATA_SIZE);
  g_autoptr(GBytes) data_in = vb_test_random_bytes (DATA_SIZE, 43);
  g_autofree char *expected = checksum_of_bytes (data_in);
  PipeEnd writer = { 0 }, reader = { .pause_us = 2000 };
  RssWatch watch = { 0 };
  GThread *thread;
  guint64 growth_kib;
  int fd;

  fd = pipe_with_thread (&writer, data_in, &thread);
  g_assert_cmpuint (transfer_ok (f, vol, "Upload", fd, 0, 0), ==, DATA_SIZE);
  g_thread_join (thread);

  rss_watch_start (&watch, f);
  fd = pipe_with_thread (&reader, NULL, &thread);
  g_assert_cmpuint (transfer_ok (f, vol, "Download", fd, 0, 0), ==, DATA_SIZE);
  g_thread_join (thread);
  growth_kib = rss_watch_stop (&watch);
  g_assert_cmpuint (reader.size, ==, DATA_SIZE);
  g_assert_cmpstr (g_checksum_get_string (reader.checksum), ==, expected);
  g_test_message ("64 MiB download to a slow pipe: daemon RSS %" G_GUINT64_FORMAT
                  " KiB before, peak %" G_GUINT64_FORMAT " KiB", watch.before_kib, watch.peak_kib);
  if (!daemon_is_sanitized (watch.pid))
    g_assert_cmpuint (growth_kib, <, RSS_GROWTH_LIMIT_KIB);
  g_checksum_free (writer.checksum);
  g_checksum_free (reader.checksum);
}

static void
test_transfer_offset_and_length (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", 4 * MIB);
  g_autofree char *file = vol_file (f, vol);
  g_autoptr(GBytes) data_in = vb_test_random_bytes (2 * MIB, 44);
  g_autofree char *source = write_temp_file (data_in);
  g_autofree char *target = g_strconcat (source, ".out", NULL);
  g_autoptr(GBytes) volume = NULL;
  g_autoptr(GBytes) piece = NULL;
  g_autofree guchar *zeros = g_malloc0 (MIB);
  const guchar *contents;

  /* Only the first MiB of the 2 MiB file, written at 1 MiB. */
  g_assert_cmpuint (transfer_ok (f, vol, "Upload", open_file (source, O_RDONLY), MIB, MIB), ==, MIB);
  volume = read_file (file);
  contents = g_bytes_get_data (volume, NULL);
  g_assert_cmpmem (contents, MIB, zeros, MIB);
  g_assert_cmpmem (contents + MIB, MIB, g_bytes_get_data (data_in, NULL), MIB);
  g_assert_cmpmem (contents + 2 * MIB, MIB, zeros, MIB);

  /* 1 MiB from 1.5 MiB: the second half of what was written, then zeros */
  g_assert_cmpuint (transfer_ok (f, vol, "Download", open_file (target, O_WRONLY | O_CREAT | O_TRUNC),
                                 MIB + MIB / 2, MIB), ==, MIB);
  piece = read_file (target);
  g_assert_cmpuint (g_bytes_get_size (piece), ==, MIB);
  g_assert_cmpmem (g_bytes_get_data (piece, NULL), MIB / 2,
                   (const guchar *) g_bytes_get_data (data_in, NULL) + MIB / 2, MIB / 2);
  g_assert_cmpmem ((const guchar *) g_bytes_get_data (piece, NULL) + MIB / 2, MIB / 2, zeros, MIB / 2);
  g_unlink (source);
  g_unlink (target);
}

static void
test_transfer_errors (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);
  g_autoptr(GBytes) data_in = vb_test_random_bytes (MIB, 45);
  g_autofree char *source = write_temp_file (data_in);
  int fds[2];

  /* The descriptor cannot be used that way. */
  assert_transfer_error (f, vol, "Download", open_file (source, O_RDONLY), 0, 0, 0,
                         IO_ERROR, "Cannot write to the file descriptor");
  assert_transfer_error (f, vol, "Upload", open_file (source, O_WRONLY), 0, 0, 0,
                         IO_ERROR, "Cannot read from the file descriptor");
  /* The reader went away: an error, and the daemon survives SIGPIPE. */
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  close (fds[0]);
  assert_transfer_error (f, vol, "Download", fds[1], 0, 0, 0, IO_ERROR, "Broken pipe");
  /* libvirt refuses. */
  assert_transfer_error (f, vol, "Download", open_file (source, O_WRONLY), 0, 0, 0x80000000,
                         VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  assert_transfer_error (f, vol, "Upload", open_file (source, O_RDONLY), 0, 0, 0x80000000,
                         VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  /* Past the end there is nothing to read. */
  g_assert_cmpuint (transfer_ok (f, vol, "Download", open_file (source, O_WRONLY), 4 * MIB, 0),
                    ==, 0);
  /* No descriptor in the message */
  vb_test_assert_call_error (f, vol, VOL, "Upload",
                             g_variant_new ("(httu)", 0, (guint64) 0, (guint64) 0, 0),
                             INVALID_ARGS, "handle 0 is not in the message");
  /* Still fine afterwards */
  g_assert_cmpuint (transfer_ok (f, vol, "Upload", open_file (source, O_RDONLY), 0, 0), ==, MIB);
  g_unlink (source);
}

/* ---- removed meanwhile, bad input -------------------------------------- */

static void
test_removed_behind_our_back (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "vol-delete", "--pool", pool_name,
                                                      "vbtest-a.img", NULL }, &error);

  g_assert_no_error (error);
  vb_test_assert_object_gone (f, vol, VOL);
  g_free (out);
  out = vb_virsh ((const char *[]) { "pool-destroy", pool_name, NULL }, &error);
  g_assert_no_error (error);
  vb_test_assert_object_gone (f, pool, POOL);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *pool = start_pool (f);
  g_autofree char *vol = create_volume (f, pool, "vbtest-a.img", MIB);

  vb_test_sweep_object (f, pool, POOL, "<pool><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, vol, VOL, "", 0x80000000, NULL);
  g_assert_true (path_list_contains (f, pool, vol));
  g_assert_cmpuint (vol_capacity (f, vol), ==, MIB);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  pool_name = vb_test_run_name ("pool");

#define ADD(name, func) \
  g_test_add ("/qemu-storage/" name, VbTestFixture, NULL, vb_test_setup_libvirtd, func, \
              teardown)

  ADD ("pool/Define+Build+Create+GetInfo+Refresh+Destroy+Delete+Undefine", test_pool_lifecycle);
  ADD ("pool/Autostart", test_pool_autostart);
  ADD ("vol/Create+Lookup+GetInfo+CreateXMLFrom+Delete", test_volumes);
  ADD ("vol/Resize", test_resize);
  ADD ("vol/Wipe", test_wipe);
  ADD ("vol/Upload+Download-64MiB-files", test_upload_download_64_mib);
  ADD ("vol/Upload+Download-64MiB-pipes", test_transfer_through_pipes);
  ADD ("vol/Upload+Download-offset-length", test_transfer_offset_and_length);
  ADD ("vol/Upload+Download-errors", test_transfer_errors);
  ADD ("removed-behind-our-back", test_removed_behind_our_back);
  ADD ("sweep", test_sweep);
#undef ADD

  return vb_test_run_with_libvirtd (remove_test_pools);
}
