/* The one authorization gate: on the system bus, every method call and
 * property access passes here before its handler runs.
 *
 * A permission is libvirt's ACL pair "object:permission" as the interface
 * tables write it; its polkit action is org.libvirt.dbus.<object>.<permission>
 * (data/polkit/org.libvirt.dbus.policy).
 *
 * Callers are trusted, and polkit is not asked, when they run as root or
 * their process is in the trusted group (the group of libvirt's read-write
 * socket: they can do everything through libvirt directly, and the
 * shipped polkit rule allows them everything anyway).  Everyone else is
 * checked by polkit, asynchronously, with its answers reused within the
 * bounds of authz-decisions.h and its load shared as authz-queue.h says.
 *
 * Main thread only, but for the functions marked "any thread". */
#pragma once

#include <gio/gio.h>

#include "authz-decisions.h"

#define VB_AUTHZ_ACTION_PREFIX "org.libvirt.dbus."

/* [authorization] of virtbusd.conf */
#define VB_DEFAULT_DECISION_LIFETIME 5
#define VB_MAX_DECISION_LIFETIME 300
#define VB_DEFAULT_POLKIT_TIMEOUT 10
#define VB_MAX_POLKIT_TIMEOUT 600
#define VB_DEFAULT_POLKIT_CHECKS_PER_SECOND 100
#define VB_MAX_POLKIT_CHECKS_PER_SECOND 100000

typedef struct {
  const char *trusted_group;   /* NULL or "": nobody but root is trusted */
  guint decision_lifetime;     /* seconds; 0: polkit's answers not reused */
  guint polkit_timeout;        /* seconds a check may take */
  guint polkit_rate;           /* checks a uid may start per second; 0: no limit */
} VbAuthzSettings;

typedef enum {
  VB_CALLER_UNKNOWN,   /* not identified yet */
  VB_CALLER_TRUSTED,   /* root, or in the trusted group: always allowed */
  VB_CALLER_USER,      /* anyone else: ask polkit */
} VbCallerKind;

/* Starts following callers on @bus (who they are is remembered until
 * they leave the bus) and polkit's configuration changes. */
void vb_authz_init (GDBusConnection *bus, const VbAuthzSettings *settings);
/* Ends the checks in flight (their callers get an error) and forgets
 * every caller. */
void vb_authz_shutdown (void);

/* "domain:start" -> "org.libvirt.dbus.domain.start"; any thread. */
char *vb_authz_action_id (const char *permission);

/* What is known of @sender without asking the bus.  Any thread. */
VbCallerKind vb_authz_lookup_caller (const char *sender);
/* Asks the bus who @sender is (once per caller: calls arriving meanwhile
 * wait for the same answer). */
void vb_authz_identify_caller_async (const char *sender, GAsyncReadyCallback callback,
                                     gpointer data);
VbCallerKind vb_authz_identify_caller_finish (GAsyncResult *result, GError **error);

/* polkit's reused answer on whether @sender holds @permission on the
 * object @details name, or UNKNOWN when polkit must be asked.  Any
 * thread. */
VbDecision vb_authz_reused_decision (const char *sender, const char *permission,
                                     GHashTable *details);

/* The error a refused call gets: @decision is DENIED or CHALLENGE (which
 * @interactive says could not be answered). */
GError *vb_authz_refusal (VbDecision decision, const char *permission, gboolean interactive);

/* Decides whether @sender holds @permission on the object @details
 * (string -> string, may be NULL) name: a reused answer, or polkit asked
 * without interaction, and then, only when polkit would ask the user and
 * @interactive allows it, asked again with interaction.  Fails with
 * G_DBUS_ERROR_ACCESS_DENIED, or VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED
 * when polkit would ask the user and @interactive is FALSE. */
void vb_authz_check_async (const char *sender, gboolean interactive,
                           const char *permission, GHashTable *details,
                           GAsyncReadyCallback callback, gpointer data);
gboolean vb_authz_check_finish (GAsyncResult *result, GError **error);
