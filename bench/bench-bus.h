/* Shared pieces of the benchmark's load generator: sd-bus connections to a
 * private bus, the names and paths of the benchmark's domains, reading a
 * process's CPU time from /proc, and latency percentiles. */
#pragma once

#include <glib.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_event, sd_event_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (sd_bus_error, sd_bus_error_free)

#define BENCH_SERVICE "org.libvirt"
#define BENCH_CONNECT_IFACE "org.libvirt.Connect"
#define BENCH_DOMAIN_IFACE "org.libvirt.Domain"

/* Long enough for a ListDomains at 10,000 domains under load and for a
 * call stuck behind the slow calls of the blocking scenario. */
#define BENCH_REPLY_TIMEOUT_US (120 * G_USEC_PER_SEC)

/* Keeps the first of the errors of an asynchronous run in *@first. */
void bench_keep_first_error (GError **first, GError *error);

/* Sets @error from a negative errno returned by sd-bus; returns FALSE then. */
gboolean bench_check (int result, const char *what, GError **error);

/* A client connection to the bus at @address, driven by @event (may be
 * NULL for connections used with blocking calls only). */
sd_bus *bench_bus_open (const char *address, sd_event *event, GError **error);

/* The same, for the user @uid (-1: as the process is): the socket is
 * connected, and the bus's Hello answered, with that user's effective uid,
 * gid and groups, which the bus records for the connection (SO_PEERCRED,
 * SO_PEERGROUPS) and tells the daemon and polkit; then the process is
 * root again.  This lets one load generator, run as root, interleave
 * callers of several users in short slices. */
sd_bus *bench_bus_open_as (const char *address, sd_event *event, gint uid, GError **error);

/* Benchmark domains are numbered from 1; name and UUID derive from the
 * number, so both daemons hold the same domains at the same paths. */
char *bench_domain_name (guint index);
char *bench_domain_uuid (guint index);
char *bench_domain_path (const char *connect_path, guint index);
char *bench_domain_xml (const char *type, guint index);

/* utime + stime of every thread of @pid, in microseconds. */
gboolean bench_process_cpu_us (pid_t pid, gint64 *cpu_us, GError **error);

/* Nearest-rank percentile (0 < q <= 1) of microsecond samples; sorts
 * @samples.  0 when there are none. */
gint64 bench_percentile (GArray *samples, double q);

/* "error.Name: message" of an error reply, for reports. */
char *bench_describe_error (sd_bus_message *reply);

/* @text as a JSON string literal, quotes included. */
char *bench_json_string (const char *text);
