/* The one authorization gate: on the system bus, every method call and
 * property access passes here before its handler runs.
 *
 * A permission is libvirt's ACL pair "object:permission" as the interface
 * tables write it; its polkit action is org.libvirt.dbus.<object>.<permission>
 * (data/polkit/org.libvirt.dbus.policy).  Callers running as root are
 * allowed without asking polkit; everyone else is checked asynchronously,
 * so a caller sitting at a password prompt holds up nobody else.
 *
 * Main thread only, but for vb_authz_lookup_caller(). */
#pragma once

#include <gio/gio.h>

#define VB_AUTHZ_ACTION_PREFIX "org.libvirt.dbus."

typedef enum {
  VB_CALLER_UNKNOWN,   /* not identified yet */
  VB_CALLER_ROOT,      /* uid 0: always allowed */
  VB_CALLER_USER,      /* anyone else: ask polkit */
} VbCallerKind;

/* Starts following callers on @bus (their uids are cached until they
 * leave the bus). */
void vb_authz_init (GDBusConnection *bus);
/* Cancels the checks in flight (their callers get AccessDenied) and forgets
 * every caller. */
void vb_authz_shutdown (void);

/* "domain:start" -> "org.libvirt.dbus.domain.start" */
char *vb_authz_action_id (const char *permission);

/* What is known of @sender without asking the bus.  Any thread. */
VbCallerKind vb_authz_lookup_caller (const char *sender);
/* Asks the bus for @sender's uid (once per caller). */
void vb_authz_identify_caller_async (const char *sender, GAsyncReadyCallback callback,
                                     gpointer data);
VbCallerKind vb_authz_identify_caller_finish (GAsyncResult *result, GError **error);

/* Asks polkit whether the sender of @message holds every permission of
 * @permissions (NULL-terminated; checked in order, the first refusal
 * answers).  @details (string -> string, may be NULL) name the connection
 * and the object for rules and password prompts.  User interaction is
 * allowed only when the message carries ALLOW_INTERACTIVE_AUTHORIZATION.
 * Fails with G_DBUS_ERROR_ACCESS_DENIED, or VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED
 * when polkit would ask the user and the message does not allow it. */
void vb_authz_check_async (GDBusMessage *message, const char *const *permissions,
                           GHashTable *details, GAsyncReadyCallback callback,
                           gpointer data);
gboolean vb_authz_check_finish (GAsyncResult *result, GError **error);
