/* A real libvirtd for tests that need QEMU guests, storage, secrets or
 * network filters: the one already running, or virtlogd + libvirtd started
 * here (and then stopped here, by PID, never by name). */
#pragma once

#include <gio/gio.h>

#define VB_LIBVIRTD_URI "qemu:///system"

/* Makes sure qemu:///system answers.  Returns FALSE (with a reason for
 * g_test_skip) when libvirtd is not installed. */
gboolean vb_libvirtd_ensure (char **skip_reason);

/* Stops what vb_libvirtd_ensure() started, if anything. */
void vb_libvirtd_release (void);

/* A scratch directory for guests' files (qcow2 images, pools), removed by
 * vb_libvirtd_release(). */
const char *vb_libvirtd_scratch_dir (void);

/* Runs a virsh command against qemu:///system (for changes made "behind
 * virtbus's back" and for cleanup); returns its stdout, NULL on failure. */
char *vb_virsh (const char *const *args, GError **error);
/* vb_virsh() that must succeed: the test fails otherwise. */
void vb_virsh_ok (const char *const *args);
/* The same against another libvirt URI. */
char *vb_virsh_on (const char *uri, const char *const *args, GError **error);

/* Destroys and undefines (with managed save and snapshot metadata) every
 * guest of qemu:///system whose name @is_ours. */
void vb_libvirtd_remove_guests (gboolean (*is_ours) (const char *name));

/* The arguments for virtbusd to export qemu:///system as /org/libvirt/QEMU. */
#define VB_LIBVIRTD_DAEMON_ARGS "--connect", "QEMU=" VB_LIBVIRTD_URI
