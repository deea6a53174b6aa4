/* org.libvirt.StoragePool and org.libvirt.StorageVol over the bus against
 * test:///default: every method with its answers and errors, the
 * StoragePoolEvent and Refresh signals, and paths of removed pools and
 * volumes.  What the test driver lacks (volume sizes, resize, wipe, data
 * transfer) answers libvirt's error here and is exercised for real in
 * test-qemu-storage. */
#include <gio/gunixfdlist.h>
#include <string.h>
#include <unistd.h>

#include "vb-test.h"

#define CONNECT "org.libvirt.Connect"
#define POOL "org.libvirt.StoragePool"
#define VOL "org.libvirt.StorageVol"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

#define POOL_XML \
  "<pool type='dir'><name>vbpool</name><target><path>/vbpool</path></target></pool>"
#define VOL_XML "<volume><name>a.img</name><capacity>1048576</capacity></volume>"
#define CLONE_XML "<volume><name>b.img</name><capacity>1048576</capacity></volume>"
#define VOL_KEY "/default-pool/a.img"
#define VOL_PATH "/org/libvirt/Test/storagevol/_2fdefault_2dpool_2fa_2eimg"
#define CLONE_PATH "/org/libvirt/Test/storagevol/_2fdefault_2dpool_2fb_2eimg"

/* virStoragePoolEventLifecycleType */
enum { DEFINED = 0, UNDEFINED = 1, STARTED = 2, STOPPED = 3, CREATED = 4, DELETED = 5 };

/* ---- helpers ---------------------------------------------------------- */

static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *pool;
  gint32 type, detail;

  g_variant_get (event, "(&oii)", &pool, &type, &detail);
  g_assert_cmpstr (signal_path, ==, VB_TEST_CONNECT_PATH);
  g_assert_cmpstr (pool, ==, path);
  g_assert_cmpint (type, ==, expected);
  g_assert_cmpint (detail, ==, 0);
}

static char *
define_pool (VbTestFixture *f, VbSignalRecorder *events)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "StoragePoolDefineXML",
                                                    g_variant_new ("(su)", POOL_XML, 0), "(o)");
  char *path = vb_test_reply_path (reply);

  assert_event (events, path, DEFINED);
  return path;
}

/* Calls a pool method that takes only flags (or nothing, when @flags is
 * negative); it must succeed and, unless @event is negative, signal it. */
static void
change_pool (VbTestFixture *f, VbSignalRecorder *events, const char *path,
             const char *method, gint64 flags, gint32 event)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, POOL, method,
                                            flags >= 0 ? g_variant_new ("(u)", (guint) flags) : NULL,
                                            "()");

  if (event >= 0)
    assert_event (events, path, event);
}

static gboolean
boolean_property (VbTestFixture *f, const char *path, const char *name)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, POOL, name);

  return g_variant_get_boolean (value);
}

static char *
string_reply (VbTestFixture *f, const char *path, const char *iface,
              const char *method, GVariant *args)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, iface, method, args, "(s)");
  char *text;

  g_variant_get (reply, "(s)", &text);
  return text;
}

static char *
path_reply (VbTestFixture *f, const char *path, const char *iface,
            const char *method, GVariant *args)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, iface, method, args, "(o)");

  return vb_test_reply_path (reply);
}

static char *
create_volume (VbTestFixture *f)
{
  return path_reply (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXML",
                     g_variant_new ("(su)", VOL_XML, 0));
}

static GVariant *
list_volumes (VbTestFixture *f, const char *pool)
{
  return vb_test_call (f, pool, POOL, "ListStorageVolumes", g_variant_new ("(u)", 0), "(ao)");
}

static gboolean
list_contains (GVariant *reply, const char *expected)
{
  g_autofree const char **paths = NULL;

  g_variant_get (reply, "(^a&o)", &paths);
  return g_strv_contains (paths, expected);
}

/* ---- pool: read-only methods ------------------------------------------ */

static void
test_pool_get_info (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autoptr(GVariant) info = vb_test_call (f, VB_TEST_POOL_PATH, POOL, "GetInfo", NULL, "((ittt))");
  g_autofree char *path = define_pool (f, events);
  g_autoptr(GVariant) inactive = vb_test_call (f, path, POOL, "GetInfo", NULL, "((ittt))");
  gint32 state;
  guint64 capacity, allocation, available;

  /* What the reference daemon answers for the test driver's pool. */
  g_variant_get (info, "((ittt))", &state, &capacity, &allocation, &available);
  g_assert_cmpint (state, ==, 2);   /* VIR_STORAGE_POOL_RUNNING */
  g_assert_cmpuint (capacity, ==, 107374182400);
  g_assert_cmpuint (allocation, ==, 0);
  g_assert_cmpuint (available, ==, 107374182400);

  g_variant_get (inactive, "((ittt))", &state, &capacity, &allocation, &available);
  g_assert_cmpint (state, ==, 0);   /* VIR_STORAGE_POOL_INACTIVE */
  vb_test_assert_call_error (f, path, POOL, "GetInfo", g_variant_new ("(u)", 0),
                             INVALID_ARGS, NULL);
}

static void
test_pool_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *xml = string_reply (f, VB_TEST_POOL_PATH, POOL, "GetXMLDesc",
                                       g_variant_new ("(u)", 0));

  g_assert_nonnull (strstr (xml, "<name>default-pool</name>"));
  g_assert_nonnull (strstr (xml, "<uuid>" VB_TEST_POOL_UUID "</uuid>"));
  /* No VIR_STORAGE_XML_INACTIVE in the test driver (test-qemu-storage
   * reads it from libvirtd). */
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "GetXMLDesc",
                             g_variant_new ("(u)", 1), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags (0x1)");
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "GetXMLDesc",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
}

static void
test_pool_list_storage_volumes (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) empty = list_volumes (f, VB_TEST_POOL_PATH);
  g_autofree char *vol = create_volume (f);
  g_autoptr(GVariant) one = list_volumes (f, VB_TEST_POOL_PATH);
  g_autoptr(GVariant) empty_list = g_variant_get_child_value (empty, 0);

  g_assert_cmpuint (g_variant_n_children (empty_list), ==, 0);
  g_assert_true (list_contains (one, VOL_PATH));
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "ListStorageVolumes",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
}

/* ---- pool: lifecycle --------------------------------------------------- */

static void
test_pool_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autofree char *path = define_pool (f, events);

  g_assert_false (boolean_property (f, path, "Active"));
  g_assert_true (boolean_property (f, path, "Persistent"));
  change_pool (f, events, path, "Build", 0, CREATED);
  change_pool (f, events, path, "Create", 0, STARTED);
  g_assert_true (boolean_property (f, path, "Active"));
  vb_test_assert_call_error (f, path, POOL, "Create", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "is active");
  vb_test_assert_call_error (f, path, POOL, "Build", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "is active");
  vb_test_assert_call_error (f, path, POOL, "Delete", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "is active");
  vb_test_assert_call_error (f, path, POOL, "Undefine", NULL,
                             VB_ERROR_LIBVIRT_NAME, "is active");

  change_pool (f, events, path, "Destroy", -1, STOPPED);
  g_assert_false (boolean_property (f, path, "Active"));
  vb_test_assert_call_error (f, path, POOL, "Destroy", NULL,
                             VB_ERROR_LIBVIRT_NAME, "is not active");
  vb_test_assert_call_error (f, path, POOL, "Refresh", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "is not active");
  change_pool (f, events, path, "Delete", 0, DELETED);
  change_pool (f, events, path, "Undefine", -1, UNDEFINED);
  vb_test_assert_object_gone (f, path, POOL);
}

static void
test_pool_bad_flags (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autofree char *path = define_pool (f, events);
  const char *methods[] = { "Build", "Create", "Delete", "Refresh" };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    vb_test_assert_call_error (f, path, POOL, methods[i], g_variant_new ("(u)", 0x80000000),
                               VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  g_assert_false (boolean_property (f, path, "Active"));
}

static void
test_pool_transient (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autofree char *path = path_reply (f, VB_TEST_CONNECT_PATH, CONNECT, "StoragePoolCreateXML",
                                      g_variant_new ("(su)", POOL_XML, 0));

  assert_event (events, path, STARTED);
  g_assert_false (boolean_property (f, path, "Persistent"));
  vb_test_assert_call_error (f, path, POOL, "Undefine", NULL, VB_ERROR_LIBVIRT_NAME, NULL);
  change_pool (f, events, path, "Destroy", -1, STOPPED);
  vb_test_assert_object_gone (f, path, POOL);
}

static void
test_pool_refresh (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) refreshes = vb_signal_recorder_new (f, POOL, "Refresh");
  g_autoptr(GVariant) reply = vb_test_call (f, VB_TEST_POOL_PATH, POOL, "Refresh",
                                            g_variant_new ("(u)", 0), "()");
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) refresh = vb_signal_recorder_wait (refreshes, &signal_path);

  g_assert_cmpstr (signal_path, ==, VB_TEST_POOL_PATH);
  g_assert_cmpuint (g_variant_n_children (refresh), ==, 0);
}

/* ---- volumes ----------------------------------------------------------- */

static void
test_vol_create_lookup_delete (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = create_volume (f);
  g_autofree char *found = path_reply (f, VB_TEST_POOL_PATH, POOL, "StorageVolLookupByName",
                                       g_variant_new ("(s)", "a.img"));
  g_autofree char *xml = string_reply (f, path, VOL, "GetXMLDesc", g_variant_new ("(u)", 0));
  g_autoptr(GVariant) key = vb_test_get_property (f, path, VOL, "Key");
  g_autoptr(GVariant) deleted = NULL;

  g_assert_cmpstr (path, ==, VOL_PATH);
  g_assert_cmpstr (found, ==, VOL_PATH);
  g_assert_cmpstr (g_variant_get_string (key, NULL), ==, VOL_KEY);
  g_assert_nonnull (strstr (xml, "<name>a.img</name>"));
  g_assert_nonnull (strstr (xml, "<capacity unit='bytes'>1048576</capacity>"));

  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXML",
                             g_variant_new ("(su)", VOL_XML, 0), VB_ERROR_LIBVIRT_NAME,
                             "already exists");
  vb_test_assert_call_error (f, path, VOL, "GetXMLDesc", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  vb_test_assert_call_error (f, path, VOL, "Delete", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");

  deleted = vb_test_call (f, path, VOL, "Delete", g_variant_new ("(u)", 0), "()");
  vb_test_assert_object_gone (f, path, VOL);
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolLookupByName",
                             g_variant_new ("(s)", "a.img"), VB_ERROR_LIBVIRT_NAME,
                             "Storage volume not found");
}

static void
test_vol_create_errors (VbTestFixture *f, gconstpointer data)
{
  const char *bad[] = { "", "<volume", "<volume><name>x</name></volume>",
                        "<pool><name>x</name></pool>" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXML",
                               g_variant_new ("(su)", bad[i], 0), VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXML",
                             g_variant_new ("(su)", VOL_XML, 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolLookupByName",
                             g_variant_new ("(s)", ""), VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_alive (f);
}

static void
test_vol_create_xml_from (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *source = create_volume (f);
  g_autofree char *clone = path_reply (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXMLFrom",
                                       g_variant_new ("(ssu)", CLONE_XML, VOL_KEY, 0));
  g_autoptr(GVariant) volumes = list_volumes (f, VB_TEST_POOL_PATH);

  g_assert_cmpstr (clone, ==, CLONE_PATH);
  g_assert_true (list_contains (volumes, VOL_PATH));
  g_assert_true (list_contains (volumes, CLONE_PATH));

  /* As the reference daemon: the source is named by its key. */
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXMLFrom",
                             g_variant_new ("(ssu)", CLONE_XML, "/nope", 0),
                             VB_ERROR_LIBVIRT_NAME, "no storage vol with matching key '/nope'");
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXMLFrom",
                             g_variant_new ("(ssu)", CLONE_XML, VOL_KEY, 0),
                             VB_ERROR_LIBVIRT_NAME, "already exists");
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXMLFrom",
                             g_variant_new ("(ssu)", "<volume", VOL_KEY, 0),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (f, VB_TEST_POOL_PATH, POOL, "StorageVolCreateXMLFrom",
                             g_variant_new ("(ssu)", CLONE_XML, VOL_KEY, 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
}

/* The test driver has none of these; libvirtd has them all. */
static void
test_vol_unsupported_by_driver (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = create_volume (f);
  struct {
    const char *method;
    GVariant *args;
  } calls[] = {
    { "GetInfo", g_variant_new ("(u)", 0) },
    { "Resize", g_variant_new ("(tu)", (guint64) 2097152, 0) },
    { "Wipe", g_variant_new ("(uu)", 0, 0) },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (calls); i++)
    vb_test_assert_call_error (f, path, VOL, calls[i].method, calls[i].args,
                               VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
}

/* Calls Upload or Download with one end of a pipe; returns the error. */
static GError *
transfer_with_pipe (VbTestFixture *f, const char *path, const char *method, gint32 handle)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  int pipe_fds[2];

  g_assert_no_errno (pipe (pipe_fds));
  g_unix_fd_list_append (fds, g_str_equal (method, "Upload") ? pipe_fds[0] : pipe_fds[1], &error);
  g_assert_no_error (error);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  reply = vb_test_call_with_fds (f, path, VOL, method,
                                 g_variant_new ("(httu)", handle, (guint64) 0, (guint64) 0, 0),
                                 fds, &error);
  g_assert_null (reply);
  return error;
}

static void
assert_remote_error (GError *error, const char *name, const char *message_part)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  g_assert_cmpstr (remote, ==, name);
  g_assert_nonnull (strstr (error->message, message_part));
}

static void
test_vol_transfer_errors (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = create_volume (f);
  const char *methods[] = { "Upload", "Download" };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GError) unsupported = transfer_with_pipe (f, path, methods[i], 0);
      g_autoptr(GError) no_such_fd = transfer_with_pipe (f, path, methods[i], 1);

      assert_remote_error (unsupported, VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
      assert_remote_error (no_such_fd, INVALID_ARGS, "handle 1 is not in the message");
      /* No fd list at all */
      vb_test_assert_call_error (f, path, VOL, methods[i],
                                 g_variant_new ("(httu)", 0, (guint64) 0, (guint64) 0, 0),
                                 INVALID_ARGS, "handle 0 is not in the message");
    }
  vb_test_assert_alive (f);
}

/* A volume's path names nothing once its pool is gone. */
static void
test_vol_path_after_pool_destroyed (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autofree char *pool = define_pool (f, events);
  g_autofree char *vol = NULL;

  change_pool (f, events, pool, "Create", 0, STARTED);
  vol = path_reply (f, pool, POOL, "StorageVolCreateXML", g_variant_new ("(su)", VOL_XML, 0));
  g_assert_cmpstr (vol, ==, "/org/libvirt/Test/storagevol/_2fvbpool_2fa_2eimg");
  change_pool (f, events, pool, "Destroy", -1, STOPPED);
  vb_test_assert_object_gone (f, vol, VOL);
}

/* ---- bad input --------------------------------------------------------- */

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *vol = create_volume (f);
  g_autoptr(GVariant) volumes = NULL;

  vb_test_sweep_object (f, VB_TEST_POOL_PATH, POOL, "<pool><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, vol, VOL, "", 0x80000000, NULL);
  /* Both are still there. */
  g_assert_true (boolean_property (f, VB_TEST_POOL_PATH, "Active"));
  volumes = list_volumes (f, VB_TEST_POOL_PATH);
  g_assert_true (list_contains (volumes, VOL_PATH));
}

static void
test_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_object_gone (f, "/org/libvirt/Test/storagepool/_00000000_0000_0000_0000_000000000001",
                              POOL);
  vb_test_assert_object_gone (f, "/org/libvirt/Test/storagepool/default_2dpool", POOL);
  vb_test_assert_object_gone (f, "/org/libvirt/Test/storagevol/_2fdefault_2dpool_2fnope", VOL);
  vb_test_assert_object_gone (f, "/org/libvirt/Test/storagevol/_zz", VOL);
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/storage/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("pool/GetInfo", test_pool_get_info);
  ADD ("pool/GetXMLDesc", test_pool_get_xml_desc);
  ADD ("pool/ListStorageVolumes", test_pool_list_storage_volumes);
  ADD ("pool/Build+Create+Destroy+Delete+Undefine+StoragePoolEvent", test_pool_lifecycle);
  ADD ("pool/bad-flags", test_pool_bad_flags);
  ADD ("pool/transient", test_pool_transient);
  ADD ("pool/Refresh+signal", test_pool_refresh);
  ADD ("vol/StorageVolCreateXML+StorageVolLookupByName+GetXMLDesc+Delete",
       test_vol_create_lookup_delete);
  ADD ("vol/StorageVolCreateXML-errors", test_vol_create_errors);
  ADD ("vol/StorageVolCreateXMLFrom", test_vol_create_xml_from);
  ADD ("vol/GetInfo+Resize+Wipe-unsupported-by-test-driver", test_vol_unsupported_by_driver);
  ADD ("vol/Upload+Download-errors", test_vol_transfer_errors);
  ADD ("vol/path-after-pool-destroyed", test_vol_path_after_pool_destroyed);
  ADD ("sweep", test_sweep);
  ADD ("unknown-paths", test_unknown_paths);
#undef ADD

  return g_test_run ();
}
