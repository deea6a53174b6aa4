/* Shared helpers for the bus-level tests: a private bus (GTestDBus) with
 * the built virtbusd on it, and calls that assert their outcome. */
#pragma once

#include <gio/gio.h>

#define VB_TEST_CONNECT_PATH "/org/libvirt/Test"
#define VB_TEST_DOMAIN_PATH \
  "/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f"
#define VB_TEST_DOMAIN_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"
#define VB_TEST_NETWORK_PATH \
  "/org/libvirt/Test/network/_dd8fe884_6c02_601e_7551_cca97df1c5df"
#define VB_TEST_NETWORK_UUID "dd8fe884-6c02-601e-7551-cca97df1c5df"
#define VB_TEST_POOL_PATH \
  "/org/libvirt/Test/storagepool/_dfe224cb_28fb_8dd0_c4b2_64eb3f0f4566"
#define VB_TEST_POOL_UUID "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
#define VB_TEST_INTERFACE_PATH "/org/libvirt/Test/interface/aa_3abb_3acc_3add_3aee_3aff"

#define VB_ERROR_LIBVIRT_NAME "org.libvirt.Error"
#define VB_NOT_SUPPORTED_BY_DRIVER "this function is not supported by the connection driver"

typedef struct {
  GTestDBus *test_bus;
  GDBusConnection *bus;
  GSubprocess *daemon;
} VbTestFixture;

/* Path of the virtbusd under test (from $VIRTBUSD). */
const char *vb_test_daemon_binary (void);

/* A launcher for virtbusd: leak detection on when built with ASan. */
GSubprocessLauncher *vb_test_daemon_launcher (GSubprocessFlags flags);

/* Runs virtbusd with @args (NULL-terminated) to its end, no bus set up:
 * its exit status and everything it printed.  For the command line and
 * the configuration file. */
void vb_test_run_daemon (const char *const *args, int *status, char **out, char **err);

/* A private bus with virtbusd serving Test=test:///default on it; the
 * fixture functions for g_test_add(). */
void vb_test_setup (VbTestFixture *f, gconstpointer data);
void vb_test_teardown (VbTestFixture *f, gconstpointer data);

/* Like vb_test_setup() with explicit daemon arguments (after --session). */
void vb_test_setup_with_args (VbTestFixture *f, const char *const *args);

/* Sends SIGTERM and asserts a clean exit (status 0). */
void vb_test_stop_daemon (VbTestFixture *f);

/* A dbus-daemon configuration for a bus like the system bus, listening on
 * @socket_path: method calls are denied unless a policy allows them (only
 * the bus itself may be called by default).  @extra (XML elements:
 * <servicedir>, <include>, <policy> ...) is added after the default
 * policy. */
char *vb_test_system_bus_config (const char *socket_path, const char *extra);

/* SIGTERM to a helper process this test started, then waits for it and
 * clears @process. */
void vb_test_stop_process (GSubprocess **process);

/* Calls and asserts success and the reply type; returns the reply. */
GVariant *vb_test_call (VbTestFixture *f, const char *path, const char *iface,
                        const char *method, GVariant *args,
                        const char *reply_type);

/* Calls with an fd list. */
GVariant *vb_test_call_with_fds (VbTestFixture *f, const char *path,
                                 const char *iface, const char *method,
                                 GVariant *args, GUnixFDList *fds,
                                 GError **error);

/* Calls and returns the error (NULL on success). */
GError *vb_test_call_expecting_error (VbTestFixture *f, const char *path,
                                      const char *iface, const char *method,
                                      GVariant *args);

/* Calls and asserts the D-Bus error name and that the message contains
 * @message_part (if not NULL). */
void vb_test_assert_call_error (VbTestFixture *f, const char *path,
                                const char *iface, const char *method,
                                GVariant *args, const char *error_name,
                                const char *message_part);

/* A Connect method on /org/libvirt/Test. */
GVariant *vb_test_connect_call (VbTestFixture *f, const char *method,
                                GVariant *args, const char *reply_type);
void vb_test_assert_connect_error (VbTestFixture *f, const char *method,
                                   GVariant *args, const char *error_name,
                                   const char *message_part);

GVariant *vb_test_get_property (VbTestFixture *f, const char *path,
                                const char *iface, const char *name);
/* Properties.GetAll; asserts every value is boxed twice as the reference
 * daemon sends them, and returns them boxed once. */
GVariant *vb_test_get_all (VbTestFixture *f, const char *path, const char *iface);
/* An a{sv} whose values are variants in variants, boxed once; fails the
 * test for a value boxed only once. */
GVariant *vb_test_unbox_twice (GVariant *dict);

/* Defines an inactive test-driver domain named @name (64 MiB, no
 * devices) through DomainDefineXML; returns its object path. */
char *vb_test_define_domain (VbTestFixture *f, const char *name);

/* Iterates the default main context for @milliseconds. */
void vb_test_spin_main_context (guint milliseconds);

/* Asserts the daemon still answers. */
void vb_test_assert_alive (VbTestFixture *f);

/* Signal capture: subscribe, act, then wait. */
typedef struct _VbSignalRecorder VbSignalRecorder;
VbSignalRecorder *vb_signal_recorder_new (VbTestFixture *f, const char *iface,
                                          const char *signal_name);
/* Waits up to 5 s for the next signal; returns its parameters and path. */
GVariant *vb_signal_recorder_wait (VbSignalRecorder *recorder, char **out_path);
void vb_signal_recorder_free (VbSignalRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbSignalRecorder, vb_signal_recorder_free)

/* The path reference of a "(o)" reply. */
char *vb_test_reply_path (GVariant *reply);

/* ---- object kinds below a connection (networks, storage, ...) ---------- */

/* @iface as @path introspects it; the node it belongs to is returned in
 * @out_node (free it after use). */
GDBusInterfaceInfo *vb_test_introspect_interface (VbTestFixture *f, const char *path,
                                                  const char *iface,
                                                  GDBusNodeInfo **out_node);

/* Arguments of the right types for @method: @text in every string, @number
 * in every integer (and handle), FALSE, empty arrays and dictionaries. */
GVariant *vb_test_filler_args (const GDBusMethodInfo *method, const char *text,
                               guint32 number);

/* The path of a removed object shows nothing stale: Get, GetAll and every
 * method of @iface (with well-typed arguments) answer UnknownObject. */
void vb_test_assert_object_gone (VbTestFixture *f, const char *path, const char *iface);

/* Malformed calls on one object, then the daemon must still answer: every
 * method of @iface called with a wrong signature answers InvalidArgs, and
 * every method that has arguments, called with @text in its strings and
 * @number in its integers, answers an error named org.libvirt.Error or
 * InvalidArgs (never a reply, never nothing).  Methods named in @skip
 * (NULL-terminated, or NULL) are left out of the second pass. */
void vb_test_sweep_object (VbTestFixture *f, const char *path, const char *iface,
                           const char *text, guint32 number,
                           const char *const *skip);

/* ---- domain snapshots ---------------------------------------------------- */

/* An "(ao)" reply holds exactly @expected (NULL-terminated), in any order. */
void vb_test_assert_paths (GVariant *reply, const char *const *expected);

/* An org.libvirt.DomainSnapshot method that takes only flags. */
GVariant *vb_test_snapshot_call (VbTestFixture *f, const char *path, const char *method,
                                 guint flags, const char *reply_type);
void vb_test_assert_snapshot_error (VbTestFixture *f, const char *path, const char *method,
                                    guint flags, const char *error_name,
                                    const char *message_part);

gboolean vb_test_snapshot_is_current (VbTestFixture *f, const char *path);
char *vb_test_snapshot_xml (VbTestFixture *f, const char *path, guint flags);
void vb_test_assert_snapshot_parent (VbTestFixture *f, const char *path,
                                     const char *expected);
/* ListChildren with @flags answers exactly @expected, in any order. */
void vb_test_assert_snapshot_children (VbTestFixture *f, const char *path, guint flags,
                                       const char *const *expected);

/* A removed snapshot shows nothing stale: every DomainSnapshot method
 * answers UnknownObject.  (Not Properties.GetAll: the interface has no
 * properties, so GDBus answers that itself.) */
void vb_test_assert_snapshot_gone (VbTestFixture *f, const char *path);

/* Waits (up to 5 s for each signal) for the next signal whose first
 * argument is @object_path, passing over signals about other objects (a
 * real libvirtd is shared); returns its parameters. */
GVariant *vb_signal_recorder_wait_for_object (VbSignalRecorder *recorder,
                                              const char *object_path);

/* ---- programs against a real libvirtd (vb-libvirtd.h) ------------------- */

/* vb_test_setup() for a virtbusd serving qemu:///system as
 * /org/libvirt/QEMU. */
void vb_test_setup_libvirtd (VbTestFixture *f, gconstpointer data);

/* g_test_run() with libvirtd running: returns 77 (all skipped) when it is
 * not installed; calls @cleanup (which removes what a failed run may have
 * left) before and after the tests, then releases libvirtd. */
int vb_test_run_with_libvirtd (void (*cleanup) (void));

/* Removes @dir and the files in it (it has no subdirectories); what is
 * not there is no error. */
void vb_test_remove_flat_dir (const char *dir);

/* @size bytes (a multiple of 4) that are the same for the same @seed on
 * every run, and like no pattern. */
GBytes *vb_test_random_bytes (gsize size, guint32 seed);

/* What a real-libvirtd suite creates is named vbtest-<pid>-<what>, so that
 * suites running at the same time on one libvirtd (from two build
 * directories, say) keep apart.  Free the result. */
char *vb_test_run_name (const char *what);

/* TRUE for a name vb_test_run_name() made in this process, or in one that
 * is gone (left by a run that failed); FALSE for a suite's running beside
 * us, and for any other name. */
gboolean vb_test_run_name_is_removable (const char *name);
