/* The checks virtbusd asks polkit, and how they share polkitd (issue 13).
 *
 * polkitd answers one check at a time, and the bus refuses more than a
 * set number of replies pending on one connection (dbus-daemon: 128), so
 * virtbusd keeps at most VB_POLKIT_MAX_CHECKS checks in flight, and at
 * most VB_POLKIT_MAX_CHECKS_PER_USER for the callers of one uid; the rest
 * wait in order, one queue per uid, the uids served in turn: a user who
 * floods polkit with checks waits behind their own, never in front of
 * others'.  Identical checks (same caller, action and details) in flight
 * are one polkit call, when reuse is on (authz-decisions.h), and what
 * polkit answers without interaction is kept there.
 *
 * polkitd's time is shared too: a uid may start at most a set number of
 * checks per second, sustained, after a burst of VB_POLKIT_BURST_SECONDS
 * worth (a token bucket per uid): a page loading asks hundreds of
 * questions at once and gets them at polkitd's speed, while a user who
 * keeps asking about ever new objects cannot keep polkitd, and with it a
 * core of the machine, busy for everyone else.  Interactive checks are
 * not counted.
 *
 * A check polkit has not answered within the configured time fails
 * closed; so do the checks still waiting at that moment, rather than
 * each wait for its own turn to time out.  Interactive checks (polkit may
 * ask the user) are bounded by VB_POLKIT_INTERACTIVE_TIMEOUT instead, a
 * person's time to type a password.
 *
 * Main thread only. */
#pragma once

#include <gio/gio.h>

#include "authz-decisions.h"

#define VB_POLKIT_MAX_CHECKS 32
#define VB_POLKIT_MAX_CHECKS_PER_USER 4
#define VB_POLKIT_INTERACTIVE_TIMEOUT 300
#define VB_POLKIT_BURST_SECONDS 10

/* @checks_per_second: per uid, sustained; 0 for no limit. */
void vb_polkit_queue_init (guint timeout_seconds, guint checks_per_second);
/* Fails every check queued or in flight (NoServer: virtbusd is stopping)
 * and waits until polkit's library has let go of them. */
void vb_polkit_queue_shutdown (void);

/* Asks polkit whether @sender (running as @uid) may do @action (an action
 * id) on the object named by @details (may be NULL), allowing user
 * interaction when @interactive.  Finishes with the decision, or an error
 * when polkit gave none (timed out, unreachable, the caller left). */
void vb_polkit_check_async (const char *sender, guint32 uid, const char *action,
                            GHashTable *details, gboolean interactive,
                            GAsyncReadyCallback callback, gpointer data);
VbDecision vb_polkit_check_finish (GAsyncResult *result, GError **error);

/* @sender left the bus: its checks end (with an error) and are not kept. */
void vb_polkit_queue_forget_caller (const char *sender);
/* polkit's configuration changed: checks in flight are no longer joined
 * by new identical ones, and their answers are not kept. */
void vb_polkit_queue_config_changed (void);
