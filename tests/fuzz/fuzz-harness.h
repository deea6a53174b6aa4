/* What the fuzz targets share: libvirt's test driver in process, the
 * connection object the daemon's code expects around it, and the checks
 * every answer must pass before it could go on the bus.
 *
 * A finding is an abort() with a line on stderr saying what was wrong, so
 * that libFuzzer keeps the input (crash-<sha1>) like any crash. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "bus.h"

/* libFuzzer's entry points (the runtime calls them; declared for
 * -Wmissing-prototypes). */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* Once, from LLVMFuzzerInitialize: GLib criticals abort, libvirt stays
 * quiet, its event loop runs on a thread of its own (streams need it),
 * and the test-driver host (fuzz-host.xml) is opened. */
void vb_fuzz_init (void);

/* The connection the daemon's code sees (name "Fuzz", the host's URI),
 * and libvirt's connection to the host as it stands. */
VbConn *vb_fuzz_conn (void);
virConnectPtr vb_fuzz_virconn (void);

/* Reopens the host: the test driver reads its file again, so whatever a
 * call changed is gone and the next input meets the same objects. */
void vb_fuzz_reset_host (void);

/* The path elements of @iface's objects on the host as it is when
 * opened (each object as the daemon names it), then a few that name
 * nothing: "_", a UUID form no object has, and a malformed one. */
GPtrArray *vb_fuzz_segments (const VbInterface *iface);

/* Aborts, naming @what, unless the answer could be sent as it is: a
 * reply of type @reply_type whose 'h' indexes lie in @out_fds and that
 * GDBus can serialize, or else an error whose D-Bus name is one this
 * project means (a freedesktop name or org.libvirt.Error, never GLib's
 * UnmappedGError) and whose message is valid UTF-8.  Exactly one of
 * @reply and @error must be set.  Takes neither. */
void vb_fuzz_check_answer (const char *what, GVariant *reply, const GVariantType *reply_type,
                           GUnixFDList *out_fds, const GError *error);

/* Aborts unless every key and value of @details (polkit's details of an
 * object, string -> string) is valid UTF-8: polkit gets them on the bus. */
void vb_fuzz_check_details (const char *what, GHashTable *details);

/* A value of @type from fuzzed bytes, in normal form: any value GDBus
 * could deliver once it has checked a message's signature (strings valid
 * UTF-8, object paths valid, ...).  Bytes that are not a serialized value
 * of @type read as defaults where they fail, as GVariant does. */
GVariant *vb_fuzz_variant (const GVariantType *type, const guint8 *data, gsize size);

/* The NUL-terminated copy of a fuzzed string (stopping at an inner NUL). */
char *vb_fuzz_string (const guint8 *data, gsize size);

G_NORETURN void vb_fuzz_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);
