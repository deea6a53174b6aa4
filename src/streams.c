#include "streams.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libvirt/virterror.h>

#include "errors.h"

/* Wakes the pump thread out of poll(): libvirt's event loop pokes it when
 * the stream becomes readable or writable, vb_stream_transfer_cancel()
 * when the transfer is to stop.  Reference counted because libvirt holds
 * one reference in its stream callback and may drop it only after the
 * transfer is gone. */
typedef struct {
  int eventfd;
} VbWaker;

/* Bytes read from one side and not yet written to the other. */
typedef struct {
  char *data;     /* VB_STREAM_BUFFER_SIZE bytes; NULL for an unused direction */
  gsize start;
  gsize end;
} VbBuffer;

/* What the pump thread waits for when neither direction can move. */
typedef struct {
  short fd_events;      /* POLLIN, POLLOUT */
  int stream_events;    /* VIR_STREAM_EVENT_READABLE, _WRITABLE */
} VbWaitFor;

struct _VbStreamTransfer {
  virStreamPtr stream;
  int fd;
  gboolean fd_is_socket;
  VbStreamDirection direction;
  guint64 limit;
  VbStreamDoneFunc done;
  gpointer user_data;
  VbWaker *waker;
  gint cancelled;

  /* Pump thread only: */
  VbBuffer to_fd;
  VbBuffer from_fd;
  gboolean stream_ended;     /* the stream said end of data */
  gboolean fd_ended;         /* end of file, the limit, or the peer went away */
  guint64 read_from_fd;
  guint64 written_to_fd;
  guint64 sent_to_stream;
};

/* Transfers still running, for vb_streams_shutdown(). */
static GMutex running_lock;
static GCond running_cond;
static GPtrArray *running;
static gboolean shutting_down;

/* ---- waker -------------------------------------------------------------- */

static void
waker_clear (gpointer data)
{
  VbWaker *waker = data;

  if (waker->eventfd >= 0)
    close (waker->eventfd);
}

static void
waker_unref (void *waker)
{
  g_atomic_rc_box_release_full (waker, waker_clear);
}

static VbWaker *
waker_new (GError **error)
{
  VbWaker *waker = g_atomic_rc_box_new0 (VbWaker);

  waker->eventfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (waker->eventfd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                   "Cannot set up a stream transfer: %s", g_strerror (saved_errno));
      waker_unref (waker);
      return NULL;
    }
  return waker;
}

static void
waker_wake (VbWaker *waker)
{
  guint64 one = 1;

  /* EAGAIN: the counter is full, so a wake-up is pending anyway. */
  if (write (waker->eventfd, &one, sizeof one) < 0 && errno != EAGAIN)
    g_debug ("cannot wake a stream transfer: %s", g_strerror (errno));
}

static void
waker_drain (VbWaker *waker)
{
  guint64 count;

  if (read (waker->eventfd, &count, sizeof count) < 0 && errno != EAGAIN)
    g_debug ("cannot read a stream transfer's wake-ups: %s", g_strerror (errno));
}

/* Runs on libvirt's event loop thread: nothing here may block. */
static void
on_stream_event (virStreamPtr stream, int events, void *opaque)
{
  /* One-shot: the pump thread arms the callback again when it wants to
   * hear more.  Disarmed before the wake-up, so that any arming the pump
   * does after waking comes later and is not undone here. */
  if (virStreamEventUpdateCallback (stream, 0) < 0)
    virResetLastError ();
  waker_wake (opaque);
}

/* ---- the file descriptor side ---------------------------------------- */

/* Sockets get per-call non-blocking I/O (and no SIGPIPE), so the
 * descriptor the client shares with us keeps its flags; anything else is
 * switched to non-blocking mode. */
static gboolean
prepare_fd (VbStreamTransfer *transfer, GError **error)
{
  struct stat st;

  if (fstat (transfer->fd, &st) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Not a usable file descriptor: %s", g_strerror (saved_errno));
      return FALSE;
    }
  transfer->fd_is_socket = S_ISSOCK (st.st_mode);
  if (!transfer->fd_is_socket && !g_unix_set_fd_nonblocking (transfer->fd, TRUE, error))
    return FALSE;
  return TRUE;
}

static gssize
fd_read (VbStreamTransfer *transfer, char *data, gsize size)
{
  if (transfer->fd_is_socket)
    return recv (transfer->fd, data, size, MSG_DONTWAIT);
  return read (transfer->fd, data, size);
}

static gssize
fd_write (VbStreamTransfer *transfer, const char *data, gsize size)
{
  if (transfer->fd_is_socket)
    return send (transfer->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  return write (transfer->fd, data, size);
}

/* The peer closing its end ends a two-way transfer cleanly. */
static gboolean
peer_went_away (VbStreamTransfer *transfer, int error_number)
{
  return transfer->direction == VB_STREAM_BOTH &&
         (error_number == EPIPE || error_number == ECONNRESET);
}

static gboolean
fd_failed (const char *what, int error_number, GError **error)
{
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_IO_ERROR,
               "Cannot %s the file descriptor: %s", what, g_strerror (error_number));
  return FALSE;
}

static gboolean
stream_failed (GError **error)
{
  vb_error_set_from_libvirt (error);
  return FALSE;
}

/* ---- moving bytes ------------------------------------------------------ */

static gboolean
buffer_is_empty (const VbBuffer *buffer)
{
  return buffer->start == buffer->end;
}

static void
buffer_fill (VbBuffer *buffer, gsize length)
{
  buffer->start = 0;
  buffer->end = length;
}

static gboolean
receive_from_stream (VbStreamTransfer *transfer, VbWaitFor *wait,
                     gboolean *progress, GError **error)
{
  int n = virStreamRecv (transfer->stream, transfer->to_fd.data, VB_STREAM_BUFFER_SIZE);

  if (n == -2)
    {
      wait->stream_events |= VIR_STREAM_EVENT_READABLE;
      return TRUE;
    }
  if (n < 0)
    return stream_failed (error);
  *progress = TRUE;
  if (n == 0)
    transfer->stream_ended = TRUE;
  else
    buffer_fill (&transfer->to_fd, (gsize) n);
  return TRUE;
}

static gboolean
write_to_fd (VbStreamTransfer *transfer, VbWaitFor *wait, gboolean *progress,
             GError **error)
{
  VbBuffer *buffer = &transfer->to_fd;
  gssize n = fd_write (transfer, buffer->data + buffer->start,
                       buffer->end - buffer->start);

  if (n < 0 && errno == EAGAIN)
    {
      wait->fd_events |= POLLOUT;
      return TRUE;
    }
  *progress = TRUE;
  if (n >= 0)
    {
      buffer->start += (gsize) n;
      transfer->written_to_fd += (guint64) n;
    }
  else if (peer_went_away (transfer, errno))
    {
      transfer->fd_ended = TRUE;
      buffer_fill (buffer, 0);
    }
  else if (errno != EINTR)
    return fd_failed ("write to", errno, error);
  return TRUE;
}

/* stream -> fd: a read from the stream when the buffer is empty, then a
 * write to the fd when it is not. */
static gboolean
move_to_fd (VbStreamTransfer *transfer, VbWaitFor *wait, gboolean *progress,
            GError **error)
{
  if (buffer_is_empty (&transfer->to_fd) && !transfer->stream_ended &&
      !receive_from_stream (transfer, wait, progress, error))
    return FALSE;
  if (buffer_is_empty (&transfer->to_fd))
    return TRUE;
  return write_to_fd (transfer, wait, progress, error);
}

static gsize
next_read_size (VbStreamTransfer *transfer)
{
  guint64 left;

  if (transfer->limit == 0)
    return VB_STREAM_BUFFER_SIZE;
  left = transfer->limit - transfer->read_from_fd;
  return (gsize) MIN (left, (guint64) VB_STREAM_BUFFER_SIZE);
}

static gboolean
read_from_fd (VbStreamTransfer *transfer, VbWaitFor *wait, gboolean *progress,
              GError **error)
{
  gsize size = next_read_size (transfer);
  gssize n = size > 0 ? fd_read (transfer, transfer->from_fd.data, size) : 0;

  if (n < 0 && errno == EAGAIN)
    {
      wait->fd_events |= POLLIN;
      return TRUE;
    }
  *progress = TRUE;
  if (n > 0)
    {
      buffer_fill (&transfer->from_fd, (gsize) n);
      transfer->read_from_fd += (guint64) n;
    }
  else if (n == 0 || peer_went_away (transfer, errno))
    transfer->fd_ended = TRUE;   /* end of file, the limit, or the peer is gone */
  else if (errno != EINTR)
    return fd_failed ("read from", errno, error);
  return TRUE;
}

static gboolean
send_to_stream (VbStreamTransfer *transfer, VbWaitFor *wait, gboolean *progress,
                GError **error)
{
  VbBuffer *buffer = &transfer->from_fd;
  int n = virStreamSend (transfer->stream, buffer->data + buffer->start,
                         buffer->end - buffer->start);

  if (n == -2)
    {
      wait->stream_events |= VIR_STREAM_EVENT_WRITABLE;
      return TRUE;
    }
  if (n < 0)
    return stream_failed (error);
  buffer->start += (gsize) n;
  transfer->sent_to_stream += (guint64) n;
  *progress = TRUE;
  return TRUE;
}

/* fd -> stream: a read from the fd when the buffer is empty, then a send
 * to the stream when it is not. */
static gboolean
move_from_fd (VbStreamTransfer *transfer, VbWaitFor *wait, gboolean *progress,
              GError **error)
{
  if (buffer_is_empty (&transfer->from_fd) && !transfer->fd_ended &&
      !read_from_fd (transfer, wait, progress, error))
    return FALSE;
  if (buffer_is_empty (&transfer->from_fd))
    return TRUE;
  return send_to_stream (transfer, wait, progress, error);
}

static gboolean
transfer_is_over (VbStreamTransfer *transfer)
{
  gboolean to_fd_over = transfer->stream_ended && buffer_is_empty (&transfer->to_fd);
  gboolean from_fd_over = transfer->fd_ended && buffer_is_empty (&transfer->from_fd);

  switch (transfer->direction)
    {
    case VB_STREAM_TO_FD:
      return to_fd_over;
    case VB_STREAM_FROM_FD:
      return from_fd_over;
    case VB_STREAM_BOTH:
    default:
      return to_fd_over || from_fd_over;
    }
}

static gboolean
wait_for (VbStreamTransfer *transfer, const VbWaitFor *wait, GError **error)
{
  struct pollfd fds[2] = {
    { .fd = transfer->waker->eventfd, .events = POLLIN },
    { .fd = transfer->fd, .events = wait->fd_events },
  };
  nfds_t n_fds = wait->fd_events != 0 ? 2 : 1;

  if (wait->stream_events != 0 &&
      virStreamEventUpdateCallback (transfer->stream, wait->stream_events) < 0)
    return stream_failed (error);
  if (poll (fds, n_fds, -1) < 0 && errno != EINTR)
    return fd_failed ("wait for", errno, error);
  if (n_fds == 2 && (fds[1].revents & POLLNVAL))
    return fd_failed ("use", EBADF, error);
  if (fds[0].revents & POLLIN)
    waker_drain (transfer->waker);
  return TRUE;
}

static gboolean
pump_until_over (VbStreamTransfer *transfer, GError **error)
{
  for (;;)
    {
      VbWaitFor wait = { 0, 0 };
      gboolean progress = FALSE;
      /* Once one side of a two-way transfer has ended, nothing more is
       * carried towards it. */
      gboolean to_fd = transfer->to_fd.data != NULL && !transfer->fd_ended;
      gboolean from_fd = transfer->from_fd.data != NULL &&
                         !(transfer->direction == VB_STREAM_BOTH && transfer->stream_ended);

      if (g_atomic_int_get (&transfer->cancelled))
        {
          g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                               "The transfer was cancelled");
          return FALSE;
        }
      if (to_fd && !move_to_fd (transfer, &wait, &progress, error))
        return FALSE;
      if (from_fd && !move_from_fd (transfer, &wait, &progress, error))
        return FALSE;
      if (transfer_is_over (transfer))
        return TRUE;
      if (!progress && !wait_for (transfer, &wait, error))
        return FALSE;
    }
}

static void
release_waker_on_event_loop (int timer, void *opaque)
{
  virEventRemoveTimeout (timer);
  waker_unref (opaque);
}

/* The stream's event callback holds a reference on the waker.  libvirt
 * does not always call a callback's free function (the remote driver
 * drops it when the stream has already ended), so the reference is not
 * handed to libvirt: once the callback is removed, it is released by a
 * timer on libvirt's event loop, which runs after any dispatch of the
 * callback in progress, since both run on that one thread. */
static void
release_waker_after_callbacks (VbWaker *waker)
{
  if (virEventAddTimeout (0, release_waker_on_event_loop, waker, NULL) < 0)
    {
      /* No event loop to wait for: nothing can be dispatching. */
      virResetLastError ();
      waker_unref (waker);
    }
}

static void
abort_stream (virStreamPtr stream)
{
  /* The stream may have failed already; its error was reported. */
  if (virStreamAbort (stream) < 0)
    virResetLastError ();
}

/* Runs the transfer; on failure the caller aborts the stream. */
static gboolean
pump (VbStreamTransfer *transfer, GError **error)
{
  gboolean pumped;
  VbWaker *callback_ref = g_atomic_rc_box_acquire (transfer->waker);

  if (virStreamEventAddCallback (transfer->stream, 0, on_stream_event, callback_ref,
                                 NULL) < 0)
    {
      waker_unref (callback_ref);
      return stream_failed (error);
    }
  pumped = pump_until_over (transfer, error);
  if (virStreamEventRemoveCallback (transfer->stream) < 0)
    virResetLastError ();
  release_waker_after_callbacks (callback_ref);
  if (!pumped)
    return FALSE;
  /* The peer of a two-way transfer left first: the stream has not ended
   * and is dropped, as virsh drops a console it leaves.  Not an error. */
  if (transfer->direction == VB_STREAM_BOTH && !transfer->stream_ended)
    {
      abort_stream (transfer->stream);
      return TRUE;
    }
  if (virStreamFinish (transfer->stream) < 0)
    return stream_failed (error);
  return TRUE;
}

/* ---- the transfer thread ---------------------------------------------- */

static void
transfer_clear (gpointer data)
{
  VbStreamTransfer *transfer = data;

  if (transfer->fd >= 0)
    close (transfer->fd);
  if (transfer->stream != NULL)
    virStreamFree (transfer->stream);
  if (transfer->waker != NULL)
    waker_unref (transfer->waker);
  g_free (transfer->to_fd.data);
  g_free (transfer->from_fd.data);
}

VbStreamTransfer *
vb_stream_transfer_ref (VbStreamTransfer *transfer)
{
  return g_atomic_rc_box_acquire (transfer);
}

void
vb_stream_transfer_unref (VbStreamTransfer *transfer)
{
  g_atomic_rc_box_release_full (transfer, transfer_clear);
}

static void
close_fd (VbStreamTransfer *transfer)
{
  /* A console's peer sees the end even while other copies of ours (the
   * one in the D-Bus message, say) are still open.  One-way transfers
   * leave that to the last copy: a caller may go on with a duplicate. */
  if (transfer->fd_is_socket && transfer->direction == VB_STREAM_BOTH)
    shutdown (transfer->fd, SHUT_RDWR);
  if (transfer->fd >= 0 && close (transfer->fd) < 0)
    g_debug ("closing a transfer's file descriptor: %s", g_strerror (errno));
  transfer->fd = -1;
}

/* Writes to a pipe whose reader is gone raise SIGPIPE in the writing
 * thread; here they fail with EPIPE instead.  The thread ends soon after,
 * and a SIGPIPE left pending for it is dropped with it. */
static void
block_sigpipe (void)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
}

static void
leave_running (VbStreamTransfer *transfer)
{
  g_mutex_lock (&running_lock);
  g_ptr_array_remove_fast (running, transfer);
  g_cond_broadcast (&running_cond);
  g_mutex_unlock (&running_lock);
}

static gpointer
run_transfer (gpointer data)
{
  VbStreamTransfer *transfer = data;
  g_autoptr(GError) error = NULL;

  block_sigpipe ();
  if (!pump (transfer, &error))
    abort_stream (transfer->stream);
  /* Closed before the completion is reported, so that a client reading
   * the other end sees end of file no later than the reply. */
  close_fd (transfer);
  transfer->done (transfer->written_to_fd, transfer->sent_to_stream, error,
                  transfer->user_data);
  leave_running (transfer);
  vb_stream_transfer_unref (transfer);
  return NULL;
}

virStreamPtr
vb_stream_new (virConnectPtr virconn, GError **error)
{
  virStreamPtr stream = virStreamNew (virconn, VIR_STREAM_NONBLOCK);

  if (stream == NULL)
    vb_error_set_from_libvirt (error);
  return stream;
}

static VbStreamTransfer *
transfer_new (virStreamPtr stream, int fd, VbStreamDirection direction,
              guint64 limit, VbStreamDoneFunc done, gpointer user_data)
{
  VbStreamTransfer *transfer = g_atomic_rc_box_new0 (VbStreamTransfer);

  virStreamRef (stream);
  transfer->stream = stream;
  transfer->fd = fd;
  transfer->direction = direction;
  transfer->limit = direction == VB_STREAM_FROM_FD ? limit : 0;
  transfer->done = done;
  transfer->user_data = user_data;
  if (direction != VB_STREAM_FROM_FD)
    transfer->to_fd.data = g_malloc (VB_STREAM_BUFFER_SIZE);
  if (direction != VB_STREAM_TO_FD)
    transfer->from_fd.data = g_malloc (VB_STREAM_BUFFER_SIZE);
  return transfer;
}

static gboolean
enter_running (VbStreamTransfer *transfer, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&running_lock);

  if (shutting_down)
    {
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                           "The daemon is shutting down");
      return FALSE;
    }
  if (running == NULL)
    running = g_ptr_array_new ();
  g_ptr_array_add (running, transfer);
  return TRUE;
}

static gboolean
launch (VbStreamTransfer *transfer, GError **error)
{
  g_autoptr(GThread) thread = NULL;

  transfer->waker = waker_new (error);
  if (transfer->waker == NULL || !prepare_fd (transfer, error) ||
      !enter_running (transfer, error))
    return FALSE;

  /* The thread owns one reference; it is not joined. */
  thread = g_thread_try_new ("vb-stream", run_transfer,
                             vb_stream_transfer_ref (transfer), error);
  if (thread == NULL)
    {
      leave_running (transfer);
      vb_stream_transfer_unref (transfer);
      return FALSE;
    }
  return TRUE;
}

VbStreamTransfer *
vb_stream_transfer_start (virStreamPtr stream, int fd, VbStreamDirection direction,
                          guint64 limit, VbStreamDoneFunc done, gpointer user_data,
                          GError **error)
{
  VbStreamTransfer *transfer;

  g_return_val_if_fail (stream != NULL && fd >= 0 && done != NULL, NULL);

  transfer = transfer_new (stream, fd, direction, limit, done, user_data);
  if (!launch (transfer, error))
    {
      abort_stream (stream);
      vb_stream_transfer_unref (transfer);
      return NULL;
    }
  return transfer;
}

void
vb_stream_transfer_cancel (VbStreamTransfer *transfer)
{
  g_atomic_int_set (&transfer->cancelled, TRUE);
  waker_wake (transfer->waker);
}

guint
vb_streams_active (void)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&running_lock);

  return running != NULL ? running->len : 0;
}

void
vb_streams_shutdown (void)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&running_lock);

  shutting_down = TRUE;
  if (running == NULL)
    return;
  for (guint i = 0; i < running->len; i++)
    vb_stream_transfer_cancel (g_ptr_array_index (running, i));
  while (running->len > 0)
    g_cond_wait (&running_cond, &running_lock);
  g_clear_pointer (&running, g_ptr_array_unref);
}

/* ---- run to completion ------------------------------------------------- */

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean over;
  guint64 to_fd;
  guint64 from_fd;
  GError *error;
} VbTransferOutcome;

static void
on_run_over (guint64 to_fd, guint64 from_fd, const GError *error, gpointer data)
{
  VbTransferOutcome *outcome = data;

  g_mutex_lock (&outcome->lock);
  outcome->to_fd = to_fd;
  outcome->from_fd = from_fd;
  outcome->error = error != NULL ? g_error_copy (error) : NULL;
  outcome->over = TRUE;
  g_cond_signal (&outcome->cond);
  /* The waiting thread may free @outcome as soon as this returns. */
  g_mutex_unlock (&outcome->lock);
}

gboolean
vb_stream_transfer_run (virStreamPtr stream, int fd, VbStreamDirection direction,
                        guint64 limit, guint64 *out_to_fd, guint64 *out_from_fd,
                        GError **error)
{
  VbTransferOutcome outcome = { 0 };
  g_autoptr(VbStreamTransfer) transfer = NULL;

  g_mutex_init (&outcome.lock);
  g_cond_init (&outcome.cond);
  transfer = vb_stream_transfer_start (stream, fd, direction, limit, on_run_over,
                                       &outcome, error);
  if (transfer != NULL)
    {
      g_mutex_lock (&outcome.lock);
      while (!outcome.over)
        g_cond_wait (&outcome.cond, &outcome.lock);
      g_mutex_unlock (&outcome.lock);
    }
  g_mutex_clear (&outcome.lock);
  g_cond_clear (&outcome.cond);

  if (out_to_fd != NULL)
    *out_to_fd = outcome.to_fd;
  if (out_from_fd != NULL)
    *out_from_fd = outcome.from_fd;
  if (transfer == NULL)
    return FALSE;
  if (outcome.error != NULL)
    {
      g_propagate_error (error, outcome.error);
      return FALSE;
    }
  return TRUE;
}
