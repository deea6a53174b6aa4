/* The thin layer between GDBus and the per-type tables.
 *
 * Every D-Bus interface is one VbInterface: a table of methods (member ->
 * handler -> libvirt ACL permission -> cost) and a table of properties.
 * The same tables drive dispatch, authorization and the documentation.
 *
 * Objects are never mirrored in memory: each (connection, object kind) is
 * one GDBus subtree, and the object named by the path is looked up in
 * libvirt on a worker thread for each call. */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "authz.h"
#include "conn.h"
#include "workers.h"

typedef struct _VbCall VbCall;

/* Runs on a worker thread.  Returns the reply tuple (floating or not), or
 * NULL with @error set. */
typedef GVariant *(*VbMethodFunc) (VbCall *call, GVariant *args, GError **error);

/* Runs on a worker thread.  Returns the property value (not boxed). */
typedef GVariant *(*VbPropertyGetFunc) (VbCall *call, GError **error);
typedef gboolean (*VbPropertySetFunc) (VbCall *call, GVariant *value, GError **error);

/* Looks up the libvirt object named by a path segment; NULL with @error
 * set when the segment is malformed or the object does not exist. */
typedef gpointer (*VbLookupFunc) (virConnectPtr virconn, const char *segment,
                                  GError **error);

/* Adds the identity of a looked-up object to the details of its
 * authorization check ("domain_name", "domain_uuid", ...), for polkit rules
 * and password prompts.  Runs on a worker thread. */
typedef void (*VbDescribeFunc) (gpointer object, GHashTable *details);

/* The object path of a libvirt object of the interface's kind. */
typedef char *(*VbObjectPathFunc) (VbConn *conn, gpointer object);

typedef struct {
  const char *name;          /* D-Bus member */
  VbMethodFunc func;
  const char *permission;    /* libvirt ACL "object:permission" */
  VbCost cost;
  /* Where libvirt asks for a second permission when some flags are set
   * (read-secure with VIR_DOMAIN_XML_SECURE): checked as well when the
   * call's flags argument (its last 'u') has any of @extra_flags.  Written
   * with VB_FLAG_PERMISSION. */
  guint extra_flags;
  const char *extra_flags_name;
  const char *extra_permission;
  /* Or checked as well when @needs_extra says the call's arguments need
   * it (described by @extra_when for the docs).  Written with
   * VB_ARG_PERMISSION. */
  gboolean (*needs_extra) (GVariant *args);
  const char *extra_when;
} VbMethod;

#define VB_FLAG_PERMISSION(flags, permission) (flags), #flags, (permission)
#define VB_ARG_PERMISSION(needs, when, permission) 0, NULL, (permission), (needs), (when)

typedef struct {
  const char *name;          /* D-Bus property */
  VbPropertyGetFunc get;
  VbPropertySetFunc set;     /* NULL when read-only */
  const char *set_permission;
} VbProperty;

typedef struct {
  const char *name;             /* "org.libvirt.Domain" */
  const char *kind;             /* path element ("domain"); NULL: the connection object */
  const char *get_permission;   /* for Properties.Get and GetAll */
  VbCost get_cost;              /* of Properties.Get and GetAll (CHEAP unless set) */
  const VbMethod *methods;      /* terminated by an entry with name NULL */
  const VbProperty *properties; /* likewise */
  VbLookupFunc lookup;          /* NULL for the connection object */
  GDestroyNotify release;       /* frees what lookup returned */
  VbDescribeFunc describe;      /* NULL for the connection object */
  VbObjectPathFunc path;        /* NULL for the connection object */
  /* What a caller needs on an object of this kind to see it in lists
   * (libvirt's ACL filters lists object by object with it), checked for
   * callers polkit judges; NULL for the connection object. */
  const char *list_permission;
  /* Where some properties come from the handle as looked up (a domain's
   * Id and Active: its ID then) and others from libvirt when read: TRUE
   * when a new lookup would still give the call's handle's values, so
   * that a read of every property describes one moment.  NULL: always. */
  gboolean (*handle_is_current) (VbCall *call);
  /* Takes a reference on a looked-up object.  Set where a handle carries
   * only identity that the driver resolves again on every call (by UUID):
   * reads by trusted callers then reuse handles looked up earlier on the
   * same remote channel instead of a lookup RPC (handles.h). */
  gpointer (*ref) (gpointer object);
} VbInterface;

struct _VbCall {
  /* The call's message, on @bus; @invocation is set for calls that came
   * through GDBus's dispatch (the main loop), NULL for those taken
   * straight from GDBus's worker thread (bus.c's fast path). */
  GDBusMessage *message;
  GDBusConnection *bus;
  GDBusMethodInvocation *invocation;
  VbConn *conn;
  const VbInterface *iface;
  char *segment;             /* last path element below iface->kind */
  /* The call's libvirt connection (vb_conn_acquire), given back as soon
   * as the call has done with libvirt. */
  virConnectPtr virconn;
  gboolean virconn_streams;  /* virconn is a stream's now: see vb_call_new_stream */
  gpointer object;           /* what iface->lookup returned */
  /* The call may take its object from its channel's reused handles
   * (trusted callers' reads, see VbInterface.ref). */
  gboolean reuse_handle;
  /* @object is such a reused handle: what it carries besides identity (a
   * domain's name and ID) is from an earlier lookup, so getters of those
   * call vb_call_refresh_object() first. */
  gboolean object_reused;
  /* Set while every property is read (GetAll, GetManagedObjects, change
   * notices): getters may then ask libvirt for what serves several. */
  gboolean reading_all;
  GUnixFDList *out_fds;      /* set by handlers that return fds ('h') */
  /* What getters read once per call and share (domain.c keeps
   * virDomainGetInfo's and virDomainGetState's answers here, so that
   * GetAll asks libvirt once for the four properties they give). */
  gpointer memo;
  GDestroyNotify memo_free;
  /* Set for a caller polkit judges: list handlers note each object of
   * their reply's array with vb_call_note_listed(), in order, and the bus
   * layer leaves out those the caller may not see. */
  gboolean filter_lists;
  GPtrArray *listed;         /* of VbListed */
};

/* One element of a list reply, and what seeing it takes. */
typedef struct {
  const char *permission;    /* the kind's list_permission */
  GHashTable *details;       /* for polkit: string -> string */
} VbListed;

/* The details of an authorization check on @object (of @iface's kind;
 * NULL: the connection itself): the connection's name and URI and the
 * object's identity.  string -> string. */
GHashTable *vb_call_object_details (VbCall *call, const VbInterface *iface, gpointer object);

/* Notes the next element of a list reply: @object, of @iface's kind.
 * Does nothing unless the call's lists are filtered. */
void vb_call_note_listed (VbCall *call, const VbInterface *iface, gpointer object);

/* Makes @object a handle looked up now, if it is a reused one; FALSE
 * with @error (UnknownObject when it is gone) when the lookup fails. */
gboolean vb_call_refresh_object (VbCall *call, GError **error);

/* Appends @listed (VbListed noted on another VbCall, taken; may be
 * NULL) to the call's list elements. */
void vb_call_take_listed (VbCall *call, GPtrArray *listed);

/* Drops what the getters remembered; before a VbCall is reused for
 * another object or goes away. */
void vb_call_forget_memo (VbCall *call);

/* A non-blocking stream on the call's connection (vb_stream_new), which
 * then stays the stream's alone: the call gives it up instead of back. */
virStreamPtr vb_call_new_stream (VbCall *call, GError **error);

/* A call that leaves its worker before it has run (to wait for polkit,
 * or for the slow pool) lets its remote connection go, object included,
 * and looks the object up again when it runs: a channel is held only by
 * a running call (see vb_conn_acquire).  In process, nothing changes. */
void vb_call_let_go (VbCall *call);

/* Gives the call's connection back (or up, to its stream), if it holds
 * one.  The looked-up object stays valid, but no longer for libvirt
 * calls. */
void vb_call_release_connection (VbCall *call);

/* Exports every VbConn of @conns, each with all its object kinds, on @bus.
 * The connections must outlive the export.  With @authz every call from a
 * caller not trusted (authz.h) passes the polkit gate first; without it
 * (a session bus, where every caller is the bus's own user) calls are not
 * checked. */
gboolean vb_bus_export (GDBusConnection *bus, GPtrArray *conns,
                        const VbAuthzSettings *authz, GError **error);
void vb_bus_unexport_all (GDBusConnection *bus);

/* Calls received and not yet answered (waiting for authorization, queued
 * or running); any thread.  For idle exit and draining at shutdown. */
guint vb_bus_calls_in_flight (void);
/* Calls received since start, modulo 2^32 (any thread); a change means
 * the service was used, and differences in unsigned arithmetic count the
 * calls between two readings. */
guint vb_bus_calls_received (void);
/* After the bus connection is closed and the workers stopped: no filter can
 * run any more; calls still waiting for authorization are finished. */
void vb_bus_release (void);

/* The interface table for a D-Bus interface name, or NULL. */
const VbInterface *vb_bus_find_interface (const char *name);

/* NULL-terminated list of every interface table. */
const VbInterface *const *vb_bus_interfaces (void);

/* Every property of the call's object that its driver reports, as a{sv}
 * (a new reference); @boxed_twice as the reference's GetAll sends them,
 * else once, as ObjectManager and PropertiesChanged do.  Worker threads. */
GVariant *vb_call_read_properties (VbCall *call, gboolean boxed_twice);

/* Helpers for handlers: */

/* @error already set: returns NULL.  Otherwise sets InvalidArgs. */
GVariant *vb_invalid_args (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* An empty string in the D-Bus API stands for NULL in libvirt's. */
static inline const char *
vb_empty_to_null (const char *str)
{
  return (str != NULL && *str != '\0') ? str : NULL;
}

/* The fds named by @handles (an "ah" value) in the call's message; NULL
 * with InvalidArgs when a handle names no fd of the message.  The fds
 * stay owned by the message. */
int *vb_call_fds_from_handles (VbCall *call, GVariant *handles, guint *n_fds,
                               GError **error);

/* Argument @index of a handler's @args (whose signature dispatch checked),
 * read without a format string: the handlers of the calls answered in
 * place use these, since parsing "(&s)" costs as much as the rest of such
 * a call.  The string stays valid while @args lives, as with "&s". */
const char *vb_arg_string (GVariant *args, gsize index);
guint32 vb_arg_uint32 (GVariant *args, gsize index);
/* The one-element tuple "(@value)"; takes @value if floating. */
GVariant *vb_tuple1 (GVariant *value);

/* Result helpers for handlers and getters.  Each returns NULL with @error
 * set from libvirt's last error when libvirt reported a failure. */
GVariant *vb_libvirt_failed (GError **error);
/* "()" when @rc >= 0, else libvirt's error. */
GVariant *vb_unit_result (int rc, GError **error);
GVariant *vb_boolean_result (int value, GError **error);
GVariant *vb_string_result (const char *str, GError **error);
/* Takes ownership of @str (malloc'd by libvirt). */
GVariant *vb_owned_string_result (char *str, GError **error);
/* Takes ownership of @path; NULL -> @error set from libvirt. */
GVariant *vb_object_path_result (char *path, GError **error);

/* Replies for methods returning objects of @iface's kind.  Both release
 * what they are given; NULL @object or negative @n_objects means libvirt
 * failed. */
GVariant *vb_object_reply (VbCall *call, const VbInterface *iface,
                           gpointer object, GError **error);
GVariant *vb_object_list_reply (VbCall *call, const VbInterface *iface,
                                gpointer *objects, int n_objects, GError **error);

/* For lookups: NULL with UnknownObject when libvirt's last error says the
 * object does not exist, else org.libvirt.Error. */
gpointer vb_lookup_failed (GError **error);

/* Path segment decoding for lookups; UnknownObject on a malformed one. */
gpointer vb_malformed_segment (const char *segment, GError **error);
gboolean vb_segment_to_uuid (const char *segment,
                             char uuid[VIR_UUID_STRING_BUFLEN], GError **error);
char *vb_segment_to_string (const char *segment, GError **error);

/* For VbDescribeFunc: adds @key (a static string) -> a copy of @value;
 * a NULL @value (libvirt could not tell) is left out. */
void vb_details_add (GHashTable *details, const char *key, const char *value);

/* <connection path>/<kind>/<encoded id> */
char *vb_uuid_object_path (VbConn *conn, const char *kind, const char *uuid);
char *vb_string_object_path (VbConn *conn, const char *kind, const char *id);
