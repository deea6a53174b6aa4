/* src/streams.c on its own, in this process, with volume streams of a
 * real libvirtd (qemu:///system; the test driver has no streams): both
 * one-way modes through the asynchronous API, the two-way mode ending
 * from either side (and carrying bytes each way), cancellation, shutdown,
 * and an unusable descriptor.  The pool is named vbtest-<pid>-streams and
 * removed at the end, even after a failure. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "streams.h"
#include "vb-libvirtd.h"
#include "vb-test.h"

#define MIB (1024 * 1024)
#define WAIT_US (30 * G_USEC_PER_SEC)

static virConnectPtr virconn;
static virStoragePoolPtr pool;
static char *pool_name;   /* vbtest-<pid>-streams */

/* ---- what a transfer reports -------------------------------------------- */

typedef struct {
  guint64 to_fd;
  guint64 from_fd;
  GError *error;
} Outcome;

static void
outcome_free (Outcome *outcome)
{
  g_clear_error (&outcome->error);
  g_free (outcome);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Outcome, outcome_free)

static void
on_done (guint64 to_fd, guint64 from_fd, const GError *error, gpointer data)
{
  Outcome *outcome = g_new0 (Outcome, 1);

  outcome->to_fd = to_fd;
  outcome->from_fd = from_fd;
  outcome->error = error != NULL ? g_error_copy (error) : NULL;
  g_async_queue_push (data, outcome);
}

static Outcome *
wait_outcome (GAsyncQueue *outcomes)
{
  Outcome *outcome = g_async_queue_timeout_pop (outcomes, WAIT_US);

  g_assert_nonnull (outcome);
  return outcome;
}

/* ---- volumes ------------------------------------------------------------- */

static void
remove_pool (void)
{
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), pool_name, NULL);
  const char *const destroy[] = { "pool-destroy", pool_name, NULL };
  g_autofree char *out = vb_virsh (destroy, NULL);

  vb_test_remove_flat_dir (dir);
}

static void
create_pool (void)
{
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), pool_name, NULL);
  g_autofree char *xml = g_strdup_printf (
      "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", pool_name, dir);

  pool = virStoragePoolCreateXML (virconn, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD);
  g_assert_nonnull (pool);
}

/* A raw volume holding @contents (or @size zero bytes when NULL); returns
 * its file. */
static char *
volume_with (const char *name, GBytes *contents, gsize size, virStorageVolPtr *out_vol)
{
  g_autofree char *xml = g_strdup_printf (
      "<volume><name>%s</name><capacity>%" G_GSIZE_FORMAT "</capacity>"
      "<target><format type='raw'/></target></volume>",
      name, contents != NULL ? g_bytes_get_size (contents) : size);
  virStorageVolPtr vol = virStorageVolCreateXML (pool, xml, 0);
  char *file;

  g_assert_nonnull (vol);
  file = virStorageVolGetPath (vol);
  if (contents != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_file_set_contents (file, g_bytes_get_data (contents, NULL), g_bytes_get_size (contents),
                           &error);
      g_assert_no_error (error);
    }
  *out_vol = vol;
  return file;
}

static void
delete_volume (virStorageVolPtr vol)
{
  g_assert_cmpint (virStorageVolDelete (vol, 0), ==, 0);
  virStorageVolFree (vol);
}

static virStreamPtr
download_stream (virStorageVolPtr vol)
{
  g_autoptr(GError) error = NULL;
  virStreamPtr stream = vb_stream_new (virconn, &error);

  g_assert_no_error (error);
  g_assert_cmpint (virStorageVolDownload (vol, stream, 0, 0, 0), ==, 0);
  return stream;
}

static virStreamPtr
upload_stream (virStorageVolPtr vol)
{
  g_autoptr(GError) error = NULL;
  virStreamPtr stream = vb_stream_new (virconn, &error);

  g_assert_no_error (error);
  g_assert_cmpint (virStorageVolUpload (vol, stream, 0, 0, 0), ==, 0);
  return stream;
}

/* ---- the client's end ---------------------------------------------------- */

static void
socket_pair (int *ours, int *theirs)
{
  int pair[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
  *ours = pair[0];
  *theirs = pair[1];
}

/* Starts pumping @stream (taken over) between it and one end of a new
 * socket pair; the other end is the test's, in @out_ours.  @out_copy, when
 * not NULL, receives a duplicate of the transfer's end. */
static VbStreamTransfer *
start_over_socket (virStreamPtr stream, VbStreamDirection direction, guint64 limit,
                   GAsyncQueue *outcomes, int *out_ours, int *out_copy)
{
  g_autoptr(GError) error = NULL;
  VbStreamTransfer *transfer;
  int theirs;

  socket_pair (out_ours, &theirs);
  if (out_copy != NULL)
    *out_copy = dup (theirs);
  transfer = vb_stream_transfer_start (stream, theirs, direction, limit, on_done, outcomes,
                                       &error);
  g_assert_no_error (error);
  virStreamFree (stream);   /* the transfer holds its own reference */
  return transfer;
}

/* Reads @fd until end of file, or until @most bytes (0: no limit). */
static GByteArray *
read_all (int fd, gsize most)
{
  GByteArray *bytes = g_byte_array_new ();
  guint8 buffer[64 * 1024];
  gssize n;

  while ((most == 0 || bytes->len < most) &&
         (n = read (fd, buffer, most == 0 ? sizeof buffer : MIN (sizeof buffer, most - bytes->len))) > 0)
    g_byte_array_append (bytes, buffer, (guint) n);
  return bytes;
}

static void
send_all (int fd, GBytes *data)
{
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);

  for (gsize done = 0; done < size;)
    {
      gssize n = send (fd, bytes + done, size - done, MSG_NOSIGNAL);

      g_assert_cmpint (n, >, 0);
      done += (gsize) n;
    }
}

static void
assert_same (GByteArray *got, GBytes *expected)
{
  g_assert_cmpmem (got->data, got->len, g_bytes_get_data (expected, NULL),
                   g_bytes_get_size (expected));
}

/* ---- one-way modes -------------------------------------------------------- */

static void
test_to_fd (void)
{
  g_autoptr(GBytes) data = vb_test_random_bytes (4 * MIB, 1);
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-to-fd.img", data, 0, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = download_stream (vol);
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(Outcome) outcome = NULL;
  int ours;

  transfer = start_over_socket (stream, VB_STREAM_TO_FD, 0, outcomes, &ours, NULL);
  got = read_all (ours, 0);
  outcome = wait_outcome (outcomes);
  g_assert_no_error (outcome->error);
  g_assert_cmpuint (outcome->to_fd, ==, 4 * MIB);
  g_assert_cmpuint (outcome->from_fd, ==, 0);
  assert_same (got, data);
  /* Cancelling a transfer that is over changes nothing. */
  vb_stream_transfer_cancel (transfer);
  close (ours);
  delete_volume (vol);
}

typedef struct {
  int fd;
  GBytes *data;
} Sender;

static gpointer
send_and_close (gpointer data)
{
  Sender *sender = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (sender->data, &size);
  gssize n = 0;

  /* The transfer stops reading at its limit: the rest may not fit. */
  for (gsize done = 0; done < size && n >= 0; done += (gsize) MAX (n, 0))
    n = send (sender->fd, bytes + done, size - done, MSG_NOSIGNAL);
  close (sender->fd);
  return NULL;
}

static void
test_from_fd_with_limit (void)
{
  g_autoptr(GBytes) data = vb_test_random_bytes (2 * MIB, 2);
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-from-fd.img", NULL, 2 * MIB, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = upload_stream (vol);
  g_autoptr(GError) error = NULL;
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(Outcome) outcome = NULL;
  g_autoptr(GBytes) first_mib = g_bytes_new_from_bytes (data, 0, MIB);
  g_autofree char *contents = NULL;
  gsize size = 0;
  Sender sender;
  GThread *thread;
  int theirs;

  socket_pair (&sender.fd, &theirs);
  sender.data = data;
  thread = g_thread_new ("sender", send_and_close, &sender);
  transfer = vb_stream_transfer_start (stream, theirs, VB_STREAM_FROM_FD, MIB, on_done,
                                       outcomes, &error);
  g_assert_no_error (error);
  virStreamFree (stream);
  outcome = wait_outcome (outcomes);
  g_thread_join (thread);
  g_assert_no_error (outcome->error);
  g_assert_cmpuint (outcome->from_fd, ==, MIB);
  g_assert_cmpuint (outcome->to_fd, ==, 0);
  g_assert_true (g_file_get_contents (file, &contents, &size, NULL));
  g_assert_cmpmem (contents, MIN (size, MIB), g_bytes_get_data (first_mib, NULL), MIB);
  delete_volume (vol);
}

static void
test_run_to_completion (void)
{
  g_autoptr(GBytes) data = vb_test_random_bytes (MIB, 3);
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-run.img", data, 0, &vol);
  virStreamPtr stream = download_stream (vol);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-run.out", NULL);
  int fd = g_open (target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  guint64 to_fd = 0, from_fd = 7;
  g_autofree char *contents = NULL;
  gsize size;

  g_assert_cmpint (fd, >=, 0);
  g_assert_true (vb_stream_transfer_run (stream, fd, VB_STREAM_TO_FD, 0, &to_fd, &from_fd,
                                         &error));
  g_assert_no_error (error);
  virStreamFree (stream);
  g_assert_cmpuint (to_fd, ==, MIB);
  g_assert_cmpuint (from_fd, ==, 0);
  g_assert_true (g_file_get_contents (target, &contents, &size, NULL));
  g_assert_cmpmem (contents, size, g_bytes_get_data (data, NULL), MIB);
  g_unlink (target);
  delete_volume (vol);
}

/* ---- both ways ------------------------------------------------------------ */

/* The stream ends (the whole volume was read): the client gets all of it
 * and then end of file, though a copy of the transfer's end is still open
 * (as the one in a D-Bus message would be). */
static void
test_both_stream_ends_first (void)
{
  g_autoptr(GBytes) data = vb_test_random_bytes (4 * MIB, 4);
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-both-1.img", data, 0, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = download_stream (vol);
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(Outcome) outcome = NULL;
  int ours, copy;

  transfer = start_over_socket (stream, VB_STREAM_BOTH, 0, outcomes, &ours, &copy);
  got = read_all (ours, 0);
  outcome = wait_outcome (outcomes);
  g_assert_no_error (outcome->error);
  g_assert_cmpuint (outcome->to_fd, ==, 4 * MIB);
  g_assert_cmpuint (outcome->from_fd, ==, 0);
  assert_same (got, data);
  close (copy);
  close (ours);
  delete_volume (vol);
}

/* The client leaves in the middle: both directions end, and that is not
 * an error. */
static void
test_both_peer_closes_first (void)
{
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-both-2.img", NULL, 64 * MIB, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = download_stream (vol);
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(Outcome) outcome = NULL;
  int ours;

  transfer = start_over_socket (stream, VB_STREAM_BOTH, 0, outcomes, &ours, NULL);
  got = read_all (ours, MIB);
  g_assert_cmpuint (got->len, ==, MIB);
  close (ours);
  outcome = wait_outcome (outcomes);
  g_assert_no_error (outcome->error);
  g_assert_cmpuint (outcome->to_fd, >=, MIB);
  g_assert_cmpuint (outcome->to_fd, <, 64 * MIB);
  delete_volume (vol);
}

static gboolean
file_holds (const char *file, GBytes *data)
{
  g_autofree char *contents = NULL;
  gsize size = 0;

  return g_file_get_contents (file, &contents, &size, NULL) &&
         size >= g_bytes_get_size (data) &&
         memcmp (contents, g_bytes_get_data (data, NULL), g_bytes_get_size (data)) == 0;
}

/* The client's bytes reach the stream; the client leaving ends it. */
static void
test_both_carries_client_bytes (void)
{
  g_autoptr(GBytes) data = vb_test_random_bytes (MIB, 5);
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-both-3.img", NULL, MIB, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = upload_stream (vol);
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(Outcome) outcome = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_US;
  int ours;

  transfer = start_over_socket (stream, VB_STREAM_BOTH, 0, outcomes, &ours, NULL);
  send_all (ours, data);
  /* libvirtd writes as it receives; leave once it has all of it. */
  while (!file_holds (file, data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }
  close (ours);
  outcome = wait_outcome (outcomes);
  g_assert_no_error (outcome->error);
  g_assert_cmpuint (outcome->from_fd, ==, MIB);
  g_assert_cmpuint (outcome->to_fd, ==, 0);
  delete_volume (vol);
}

/* ---- ending early ---------------------------------------------------------- */

/* A client that never reads: only cancelling ends the transfer, with an
 * error, and its end is closed. */
static void
test_cancel (void)
{
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-cancel.img", NULL, 64 * MIB, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = download_stream (vol);
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(GByteArray) got = NULL;
  g_autoptr(Outcome) outcome = NULL;
  int ours;

  transfer = start_over_socket (stream, VB_STREAM_TO_FD, 0, outcomes, &ours, NULL);
  g_assert_null (g_async_queue_timeout_pop (outcomes, G_USEC_PER_SEC / 2));
  vb_stream_transfer_cancel (transfer);
  outcome = wait_outcome (outcomes);
  g_assert_error (outcome->error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED);
  g_assert_nonnull (strstr (outcome->error->message, "cancelled"));
  got = read_all (ours, 0);   /* ends: the transfer closed its end */
  g_assert_cmpuint (got->len, <, 64 * MIB);
  close (ours);
  delete_volume (vol);
}

static void
test_unusable_fd (void)
{
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-bad-fd.img", NULL, MIB, &vol);
  virStreamPtr stream = download_stream (vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  g_autoptr(GError) error = NULL;
  /* A number no open file has */
  int unused = 987654;
  VbStreamTransfer *transfer;

  transfer = vb_stream_transfer_start (stream, unused, VB_STREAM_TO_FD, 0, on_done, outcomes,
                                       &error);
  g_assert_null (transfer);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_null (g_async_queue_try_pop (outcomes));
  virStreamFree (stream);   /* aborted by the failed start */
  delete_volume (vol);
}

/* Last: afterwards no transfer can start. */
static void
test_shutdown (void)
{
  virStorageVolPtr vol;
  g_autofree char *file = volume_with ("vbtest-shutdown.img", NULL, 64 * MIB, &vol);
  g_autoptr(GAsyncQueue) outcomes = g_async_queue_new ();
  virStreamPtr stream = download_stream (vol);
  virStreamPtr later = NULL;
  g_autoptr(GError) refused = NULL;
  g_autoptr(VbStreamTransfer) transfer = NULL;
  g_autoptr(Outcome) outcome = NULL;
  int ours, more_ours, more_theirs;

  transfer = start_over_socket (stream, VB_STREAM_BOTH, 0, outcomes, &ours, NULL);
  vb_streams_shutdown ();
  /* Reported before vb_streams_shutdown() returned */
  outcome = g_async_queue_try_pop (outcomes);
  g_assert_nonnull (outcome);
  g_assert_error (outcome->error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED);

  later = download_stream (vol);
  socket_pair (&more_ours, &more_theirs);
  g_assert_null (vb_stream_transfer_start (later, more_theirs, VB_STREAM_TO_FD, 0, on_done,
                                           outcomes, &refused));
  g_assert_error (refused, G_DBUS_ERROR, G_DBUS_ERROR_FAILED);
  virStreamFree (later);
  close (more_ours);
  close (ours);
  delete_volume (vol);
}

int
main (int argc, char **argv)
{
  g_autofree char *skip_reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  pool_name = vb_test_run_name ("streams");
  if (!vb_libvirtd_ensure (&skip_reason))
    {
      g_test_skip (skip_reason);
      return 77;
    }
  vb_events_init ();
  vb_events_run_in_background ();
  virconn = virConnectOpen (VB_LIBVIRTD_URI);
  g_assert_nonnull (virconn);
  remove_pool ();
  create_pool ();

  g_test_add_func ("/streams/to-fd", test_to_fd);
  g_test_add_func ("/streams/from-fd-with-limit", test_from_fd_with_limit);
  g_test_add_func ("/streams/run-to-completion", test_run_to_completion);
  g_test_add_func ("/streams/both/stream-ends-first", test_both_stream_ends_first);
  g_test_add_func ("/streams/both/peer-closes-first", test_both_peer_closes_first);
  g_test_add_func ("/streams/both/carries-client-bytes", test_both_carries_client_bytes);
  g_test_add_func ("/streams/cancel", test_cancel);
  g_test_add_func ("/streams/unusable-fd", test_unusable_fd);
  /* A suite of its own: GLib runs a suite's cases before its subsuites. */
  g_test_add_func ("/streams/last/shutdown", test_shutdown);

  status = g_test_run ();
  virStoragePoolFree (pool);
  remove_pool ();
  virConnectClose (virconn);
  vb_events_shutdown ();
  vb_libvirtd_release ();
  return status;
}
