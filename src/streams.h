/* Pumping bytes between a libvirt stream and a file descriptor.
 *
 * Each transfer runs on a thread of its own (never on a worker of the
 * pools nor on the main loop) and holds at most one fixed buffer per
 * direction (VB_STREAM_BUFFER_SIZE), whatever the amount of data: a
 * 1 GiB volume is never held in memory.
 *
 * The stream must have been created with vb_stream_new() (non-blocking)
 * and already be bound to its source or sink (virStorageVolUpload(),
 * virStorageVolDownload(), virDomainOpenConsole(), virDomainScreenshot(),
 * ...).  The pump thread is the only one to call libvirt's stream I/O
 * functions; libvirt's event loop only tells it when the stream has data. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#define VB_STREAM_BUFFER_SIZE (256 * 1024)

typedef enum {
  /* stream -> fd until the stream ends: downloads, screenshots */
  VB_STREAM_TO_FD,
  /* fd -> stream until the fd reaches end of file (or the limit): uploads */
  VB_STREAM_FROM_FD,
  /* both at once until either side ends: consoles over a socket.  The
   * peer closing its end (the stream is then aborted, as virsh leaves a
   * console) or the stream ending (it is then finished, and the socket
   * shut down so the peer sees the end) ends both directions, and is a
   * clean end, not an error. */
  VB_STREAM_BOTH,
} VbStreamDirection;

typedef struct _VbStreamTransfer VbStreamTransfer;

/* Called once, on the transfer's thread, when it has ended: @error is
 * NULL on success.  @to_fd and @from_fd count the bytes that went each
 * way. */
typedef void (*VbStreamDoneFunc) (guint64 to_fd, guint64 from_fd,
                                  const GError *error, gpointer user_data);

/* A non-blocking stream on @virconn, as the pump needs; NULL with @error
 * set from libvirt on failure. */
virStreamPtr vb_stream_new (virConnectPtr virconn, GError **error);

/* Starts pumping between @stream and @fd on a new thread.  Takes over
 * @fd (closed when the transfer ends, so a reader sees end of file) and
 * takes its own reference on @stream (finished, or aborted on failure).
 * @limit caps the bytes read from @fd (VB_STREAM_FROM_FD only; 0: until
 * end of file).  Returns a handle for vb_stream_transfer_cancel(), to
 * release with vb_stream_transfer_unref(); NULL with @error set (and @fd
 * closed, the stream aborted) when the thread cannot start. */
VbStreamTransfer *vb_stream_transfer_start (virStreamPtr stream, int fd,
                                            VbStreamDirection direction,
                                            guint64 limit, VbStreamDoneFunc done,
                                            gpointer user_data, GError **error);

/* Ends the transfer early: the stream is aborted, @fd closed, and the
 * completion callback receives G_DBUS_ERROR_FAILED.  Any thread; a
 * transfer that has already ended is left alone. */
void vb_stream_transfer_cancel (VbStreamTransfer *transfer);

/* Cancels every transfer still running and waits until their threads
 * have reported; transfers started later fail.  For daemon shutdown,
 * before the worker pools are shut down (a worker may be waiting in
 * vb_stream_transfer_run()). */
void vb_streams_shutdown (void);

/* Transfers running now (consoles, channels, volume uploads and
 * downloads); any thread.  A transfer outlives its call, so idle exit
 * counts these too. */
guint vb_streams_active (void);

VbStreamTransfer *vb_stream_transfer_ref (VbStreamTransfer *transfer);
void vb_stream_transfer_unref (VbStreamTransfer *transfer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbStreamTransfer, vb_stream_transfer_unref)

/* The same, run to completion: blocks the calling thread (never the main
 * loop) until the transfer has ended.  Returns FALSE with @error set on
 * failure; the byte counts are stored either way when not NULL. */
gboolean vb_stream_transfer_run (virStreamPtr stream, int fd,
                                 VbStreamDirection direction, guint64 limit,
                                 guint64 *out_to_fd, guint64 *out_from_fd,
                                 GError **error);
