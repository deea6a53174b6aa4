/* The world of the authorization tests (test-authz*.c), as root: a private
 * mount namespace puts this project's polkit policy and rules (and the test
 * rules) where polkitd reads them, and test users into /etc/passwd and
 * /etc/group; a system-type dbus-daemon, polkitd and virtbusd (--system,
 * test:///default) run on a socket of their own.  The users call virtbusd
 * through a copy of the test program run with their uid (client mode); a
 * root monitor on the bus counts virtbusd's CheckAuthorization calls. */
#pragma once

#include <sys/types.h>

#include "vb-test.h"

#define VB_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define VB_INTERACTION_REQUIRED "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
#define VB_AUTHZ_CONNECT_PATH "/org/libvirt/Test"

typedef enum {
  USER_PLAIN,     /* in no group of interest */
  USER_ADMIN,     /* in the libvirt group */
  USER_WEB,       /* the test rules: may start and stop web1, is asked to
                   * authenticate to reset it, may not getattr hidden1 */
  N_USERS
} UserRole;

extern const char *const vb_user_names[N_USERS];

typedef struct {
  char *dir;                  /* scratch, 0755 */
  char *address;              /* of the private system bus */
  char *client;               /* the test program, copied where users can run it */
  uid_t uids[N_USERS];
  GSubprocess *dbus_daemon;
  GSubprocess *polkitd;
  VbTestFixture fixture;      /* root's connection and virtbusd */
  char *daemon_config;        /* the [authorization] virtbusd runs with */
  gboolean objects_changed;   /* a test may have removed the objects below */
  /* Objects made by root whenever virtbusd starts (test:///default
   * starts afresh with it): */
  char *sweep_domain, *sweep_snapshot, *sweep_volume, *node_device;
  char *web1, *web2;
  char *hidden1, *hidden1_snapshot, *hidden1_child_snapshot;
  char *secure1, *secure1_snapshot;  /* a VNC password: secret123 */
} VbAuthzWorld;

extern VbAuthzWorld world;

/* The helper modes of a test program (--client, --agent): runs the mode
 * and returns its exit status, or -1 when @argv names none. */
int vb_authz_helper_main (int argc, char **argv);

/* Builds the world, with virtbusd on its default configuration, or tears
 * it down (virtbusd must exit with status 0). */
void vb_authz_world_up (void);
void vb_authz_world_down (void);

/* The main() of an authorization test program: the helper modes, or, as
 * root, the world up, @add_tests (which may set up more), the tests run,
 * @tear_down (may be NULL) and the world down; not as root, one skipped
 * case "/@suite/needs-root". */
int vb_authz_test_main (int argc, char **argv, const char *suite,
                        void (*add_tests) (void), void (*tear_down) (void));

/* Makes virtbusd run with @config as its configuration file ("" for the
 * defaults; Test=test:///default is added unless @config has a
 * [connections] group, which must then name Test): restarts it (with the world's objects made afresh) unless it
 * already does, and its objects are unchanged. */
void vb_authz_world_use_config (const char *config);
/* Marks the world's objects as possibly removed: the next
 * vb_authz_world_use_config() restarts virtbusd. */
void vb_authz_world_objects_changed (void);

/* Adds @policy (<policy> elements) to the bus configuration, or with NULL
 * takes it away again, and has the bus reload it. */
void vb_authz_world_set_bus_policy (const char *policy);

/* Installs (@rules not NULL) or removes /etc/polkit-1/rules.d/@name as an
 * administrator would, and waits for polkitd to reload its rules and
 * announce it (the Authority's Changed signal). */
void vb_authz_world_set_polkit_rules (const char *name, const char *rules);

/* The unique bus name of the running virtbusd. */
char *vb_authz_world_daemon_name (void);

/* Defines an inactive domain named @name as root; its path. */
char *vb_authz_define_domain (const char *name);

/* ---- calls as a test user --------------------------------------------- */

typedef struct {
  const char *path;
  const char *iface;
  const char *member;
  GVariant *args;            /* owned */
  char *permission;          /* what the table says it needs */
  /* the answer: */
  char *error_name;          /* NULL: a reply */
  char *error_message;
  GVariant *reply;           /* the reply, when there was one */
} VbTestCall;

VbTestCall *vb_test_call_new (const char *path, const char *iface, const char *member,
                              GVariant *args, const char *permission);
void vb_test_call_free (VbTestCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbTestCall, vb_test_call_free)

/* Properties.Get of org.libvirt.Domain.Name on @path (domain:read). */
VbTestCall *vb_test_call_domain_name (const char *path);

/* A client (this program run as a test user, connected to the bus) or an
 * authentication agent (run as root), with pipes to talk to it. */
typedef struct _VbHelper VbHelper;

VbHelper *vb_client_new (UserRole role);
/* An agent that answers no authentication it is asked for, registered
 * for @client's process; returns once registered. */
VbHelper *vb_agent_new (VbHelper *client);
/* Closes its stdin, waits for its exit (status 0). */
void vb_helper_free (VbHelper *helper);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbHelper, vb_helper_free)

/* The next line the helper prints, waiting up to @seconds; NULL when none
 * came. */
char *vb_helper_read_line (VbHelper *helper, double seconds);

/* One call, waiting for its answer. */
void vb_client_call (VbHelper *client, VbTestCall *call, gboolean interactive);
/* @calls all sent at once, from one connection (send, then receive: other
 * clients' batches may be sent in between). */
void vb_client_send_batch (VbHelper *client, GPtrArray *calls, gboolean interactive);
void vb_client_receive_batch (VbHelper *client, GPtrArray *calls);
/* Sends @call and returns at once; vb_client_receive() reads its answer. */
void vb_client_send (VbHelper *client, VbTestCall *call, gboolean interactive);
void vb_client_receive (VbHelper *client, VbTestCall *call, double seconds);
/* The client's unique bus name. */
char *vb_client_name (VbHelper *client);
/* A new connection to the bus, so a new unique name. */
void vb_client_reconnect (VbHelper *client);
/* From now on the client receives every broadcast signal. */
void vb_client_listen (VbHelper *client);
/* The signals received since the last time (after a round trip to the
 * bus, so every signal the bus sent before is in), one string each:
 * "<interface>.<member> <path> <arguments>". */
GStrv vb_client_signals (VbHelper *client);

/* Makes every call of @calls as @role, one after the other on a new
 * connection, and records the answers. */
void vb_call_as (UserRole role, GPtrArray *calls, gboolean interactive);

/* An answer as it must be: a reply, or AccessDenied naming the action of
 * the call's permission. */
void vb_assert_allowed (const VbTestCall *call);
void vb_assert_denied (const VbTestCall *call);

/* ---- what virtbusd asks polkit ----------------------------------------- */

typedef struct {
  char *sender;              /* unique name of who asked */
  char *subject;             /* the bus name the check is about */
  char *action;
  GHashTable *details;       /* string -> string */
  guint32 flags;             /* 1: user interaction allowed */
  guint32 serial;
  guint sent;                /* when the monitor saw it, and its answer (0: */
  guint answered;            /* not yet), in the order of what it saw */
} VbPolkitCheck;

/* A root connection that became a monitor of every CheckAuthorization
 * call on the bus, polkitd's answers, and the Authority's Changed
 * signals. */
typedef struct _VbPolkitMonitor VbPolkitMonitor;

VbPolkitMonitor *vb_polkit_monitor_new (void);
void vb_polkit_monitor_free (VbPolkitMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbPolkitMonitor, vb_polkit_monitor_free)

/* The number of checks seen so far, once every message that the bus
 * routed before this call has reached the monitor. */
guint vb_polkit_monitor_mark (VbPolkitMonitor *monitor);
/* The checks the running virtbusd (any of its bus connections) made since
 * @mark, as vb_polkit_monitor_mark() sees them now; @action and @subject
 * (NULL: any) select, @interactive -1: any, 0: without, 1: with user
 * interaction. */
guint vb_polkit_monitor_count (VbPolkitMonitor *monitor, guint mark, const char *action,
                               const char *subject, int interactive);
/* The most checks of the running virtbusd that were in flight at once
 * (sent to polkitd, not answered yet) since @mark. */
guint vb_polkit_monitor_max_in_flight (VbPolkitMonitor *monitor, guint mark);
/* The position, among the checks since @mark, of the first check about
 * @subject (counting from 0), or -1. */
int vb_polkit_monitor_position (VbPolkitMonitor *monitor, guint mark, const char *subject);
/* How many times polkit's Authority announced Changed so far. */
guint vb_polkit_monitor_n_changed (VbPolkitMonitor *monitor);
