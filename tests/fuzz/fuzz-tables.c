/* Fuzz target: every row of every interface table (VbInterface: methods,
 * properties read, written and read all at once), called with fuzzed
 * arguments of the row's signature, on an object of the row's kind.
 *
 * Arguments and flags are checked in the handlers and by libvirt, not in a
 * layer of their own, so the honest target is the whole call as a worker
 * runs it (bus.c: vb_call_resolve_object(), the handler, the connection
 * given back) against libvirt's test driver in process, on a host of our
 * own (fuzz-host.xml, reopened after any call that may have changed it).
 * The answer must be what the interface XML promises or a precise error
 * (vb_fuzz_check_answer), and nothing may crash, leak or trip a sanitizer.
 *
 * Input: a header line, then the arguments in GVariant's serialized form
 * (normal form taken, as GDBus delivers them after checking the
 * signature):
 *     <interface> <member> <object>[ filtered]\n<arguments>
 * <member> is a method, "Get:<property>", "Set:<property>" (the arguments
 * are then the new value) or "GetAll"; <object> picks one of the kind's
 * path elements (vb_fuzz_segments, modulo their number: the host's
 * objects, then elements naming nothing); "filtered" makes list replies
 * note their elements for the gate, as for a caller polkit judges.
 *
 * Arguments that are paths on the host (Save's "to", Restore's "from",
 * ...) are replaced by one of three paths in a scratch directory (chosen
 * by the fuzzed string): a save image of the running domain, rewritten
 * before each call; a file that does not exist; the directory itself.
 * The test driver really writes and reads those files. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fuzz-harness.h"
#include "bus-call.h"
#include "introspection.h"
#include "objects.h"
#include "streams.h"

#define STREAM_END_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

static char *scratch_dir;
static char *image_file;
static char *pristine_image;
static gsize pristine_image_size;

static void
remove_scratch_dir (void)
{
  const char *names[] = { "image", "missing", NULL };

  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autofree char *file = g_build_filename (scratch_dir, names[i], NULL);

      g_unlink (file);
    }
  g_rmdir (scratch_dir);
}

/* A save image of the host's running domain, made once. */
static void
make_save_image (void)
{
  g_autoptr(GError) error = NULL;
  virDomainPtr domain = virDomainLookupByName (vb_fuzz_virconn (), "fuzz-running");

  if (domain == NULL || virDomainSave (domain, image_file) < 0)
    vb_fuzz_fail ("cannot save fuzz-running to %s: %s", image_file, virGetLastErrorMessage ());
  virDomainFree (domain);
  if (!g_file_get_contents (image_file, &pristine_image, &pristine_image_size, &error))
    vb_fuzz_fail ("%s", error->message);
  vb_fuzz_reset_host ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  const char *given = g_getenv ("VB_FUZZ_SCRATCH");

  vb_fuzz_init ();
  /* scripts/fuzz gives one in the build directory, so that a run libFuzzer
   * ends without atexit handlers (a crash, a timeout) leaves nothing in
   * /tmp. */
  if (given != NULL && g_mkdir_with_parents (given, 0700) == 0)
    scratch_dir = g_strdup (given);
  else
    {
      scratch_dir = g_dir_make_tmp ("virtbus-fuzz-XXXXXX", &error);
      if (scratch_dir == NULL)
        vb_fuzz_fail ("%s", error->message);
      atexit (remove_scratch_dir);
    }
  image_file = g_build_filename (scratch_dir, "image", NULL);
  make_save_image ();
  return 0;
}

/* ---- the row ------------------------------------------------------------ */

typedef struct {
  const VbInterface *iface;
  GDBusInterfaceInfo *info;
  VbOperation operation;
  const VbMethod *method;
  const VbProperty *property;
  GDBusMethodInfo *method_info;
  GDBusPropertyInfo *property_info;
  guint object;
  gboolean filtered;
} Row;

static gboolean
find_row (const char *header, Row *row)
{
  g_auto(GStrv) words = g_strsplit (header, " ", 5);
  guint64 object = 0;

  if (g_strv_length (words) < 3 || g_strv_length (words) > 4 ||
      !g_ascii_string_to_unsigned (words[2], 10, 0, G_MAXUINT, &object, NULL))
    return FALSE;
  row->object = (guint) object;
  row->filtered = words[3] != NULL && g_str_equal (words[3], "filtered");
  row->iface = vb_bus_find_interface (words[0]);
  if (row->iface == NULL)
    return FALSE;
  row->info = vb_introspection_lookup (row->iface->name);
  if (row->info == NULL)
    vb_fuzz_fail ("%s has a table and no interface XML", row->iface->name);

  if (g_str_equal (words[1], "GetAll"))
    {
      row->operation = VB_OPERATION_GET_ALL;
      return row->iface->properties != NULL && row->iface->properties[0].name != NULL;
    }
  if (g_str_has_prefix (words[1], "Get:") || g_str_has_prefix (words[1], "Set:"))
    {
      const char *name = words[1] + 4;

      row->operation = words[1][0] == 'G' ? VB_OPERATION_GET : VB_OPERATION_SET;
      for (const VbProperty *p = row->iface->properties; p != NULL && p->name != NULL; p++)
        {
          if (g_str_equal (p->name, name))
            row->property = p;
        }
      if (row->property == NULL ||
          (row->operation == VB_OPERATION_SET && row->property->set == NULL))
        return FALSE;
      row->property_info = g_dbus_interface_info_lookup_property (row->info, name);
      if (row->property_info == NULL)
        vb_fuzz_fail ("%s.%s is in the table, not in the XML", row->iface->name, name);
      return TRUE;
    }

  row->operation = VB_OPERATION_METHOD;
  for (const VbMethod *m = row->iface->methods; m != NULL && m->name != NULL; m++)
    {
      if (g_str_equal (m->name, words[1]))
        row->method = m;
    }
  if (row->method == NULL || row->method->func == NULL)
    return FALSE;
  row->method_info = g_dbus_interface_info_lookup_method (row->info, row->method->name);
  if (row->method_info == NULL)
    vb_fuzz_fail ("%s.%s is in the table, not in the XML", row->iface->name, row->method->name);
  return TRUE;
}

static GVariantType *
args_type (GDBusArgInfo **args)
{
  g_autoptr(GString) type = g_string_new ("(");

  for (GDBusArgInfo **arg = args; arg != NULL && *arg != NULL; arg++)
    g_string_append (type, (*arg)->signature);
  g_string_append_c (type, ')');
  return g_variant_type_new (type->str);
}

/* Whether a row may change the host: anything but reading. */
static gboolean
row_may_change_host (const Row *row)
{
  const char *verb;

  if (row->operation == VB_OPERATION_SET)
    return TRUE;
  if (row->operation != VB_OPERATION_METHOD)
    return FALSE;
  verb = strchr (row->method->permission, ':');
  if (verb == NULL)
    vb_fuzz_fail ("%s.%s: permission '%s' has no verb", row->iface->name, row->method->name,
                  row->method->permission);
  verb++;
  return !g_str_equal (verb, "read") && !g_str_equal (verb, "getattr") &&
         !g_str_equal (verb, "read-secure") && !g_str_has_prefix (verb, "search-");
}

/* ---- arguments that are host paths ------------------------------------ */

static gboolean
is_host_path_argument (GDBusArgInfo *arg)
{
  return g_str_equal (arg->signature, "s") &&
         (g_str_equal (arg->name, "to") || g_str_equal (arg->name, "from") ||
          g_str_equal (arg->name, "file"));
}

static char *
scratch_path (const char *fuzzed)
{
  switch (g_str_hash (fuzzed) % 3)
    {
    case 0:
      {
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents (image_file, pristine_image, (gssize) pristine_image_size,
                                  &error))
          vb_fuzz_fail ("%s", error->message);
        return g_strdup (image_file);
      }
    case 1:
      {
        char *missing = g_build_filename (scratch_dir, "missing", NULL);

        /* A Save or CoreDump before may have made it. */
        g_unlink (missing);
        return missing;
      }
    default:
      return g_strdup (scratch_dir);
    }
}

/* @args with every host path moved into the scratch directory. */
static GVariant *
confine_paths (const Row *row, GVariant *args)
{
  GDBusArgInfo **in_args = row->method_info->in_args;
  gsize n = g_variant_n_children (args);
  g_autofree GVariant **children = g_new0 (GVariant *, MAX (n, 1));
  gboolean confined = FALSE;
  GVariant *result;

  for (gsize i = 0; i < n; i++)
    {
      children[i] = g_variant_get_child_value (args, i);
      if (is_host_path_argument (in_args[i]))
        {
          g_autofree char *path = scratch_path (g_variant_get_string (children[i], NULL));

          g_variant_unref (children[i]);
          children[i] = g_variant_ref_sink (g_variant_new_string (path));
          confined = TRUE;
        }
    }
  result = confined ? g_variant_ref_sink (g_variant_new_tuple (children, n))
                    : g_variant_ref (args);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (children[i]);
  return result;
}

/* ---- the call ------------------------------------------------------------ */

/* The call's message, with two descriptors for its 'h' arguments. */
static GDBusMessage *
call_message (const Row *row, const char *segment, GVariant *args)
{
  g_autofree char *path = row->iface->kind != NULL
                              ? g_strdup_printf ("%s/%s/%s", vb_conn_get_path (vb_fuzz_conn ()),
                                                 row->iface->kind, segment)
                              : g_strdup (vb_conn_get_path (vb_fuzz_conn ()));
  GDBusMessage *message = g_dbus_message_new_method_call (
      "org.libvirt", path, row->iface->name,
      row->method != NULL ? row->method->name : "Get");
  int fds[2] = { open ("/dev/null", O_RDWR | O_CLOEXEC), open ("/dev/null", O_RDONLY | O_CLOEXEC) };
  g_autoptr(GUnixFDList) fd_list = NULL;

  if (fds[0] < 0 || fds[1] < 0)
    vb_fuzz_fail ("cannot open /dev/null");
  fd_list = g_unix_fd_list_new_from_array (fds, 2);
  g_dbus_message_set_serial (message, 1);
  if (row->operation == VB_OPERATION_METHOD)
    g_dbus_message_set_body (message, args);
  g_dbus_message_set_unix_fd_list (message, fd_list);
  return message;
}

/* What the gate reads of a call's arguments (a second permission some
 * flags or arguments need) must be readable from any arguments. */
static void
check_extra_permission (const Row *row, GVariant *args)
{
  const VbMethod *method = row->method;

  if ((method->extra_flags != 0 || method->needs_extra != NULL) &&
      method->extra_permission == NULL)
    vb_fuzz_fail ("%s.%s: extra permission missing", row->iface->name, method->name);
  if (method->needs_extra != NULL)
    (void) method->needs_extra (args);
}

static void
wait_for_streams (const char *what)
{
  gint64 deadline = g_get_monotonic_time () + STREAM_END_TIMEOUT_USEC;

  while (vb_streams_active () > 0)
    {
      if (g_get_monotonic_time () > deadline)
        vb_fuzz_fail ("%s: a stream transfer still runs %d s after its reader left", what,
                      (int) (STREAM_END_TIMEOUT_USEC / G_USEC_PER_SEC));
      g_usleep (1000);
    }
}

static void
run_row (const Row *row, const char *what, GVariant *fuzzed_args)
{
  GPtrArray *segments = row->iface->kind != NULL ? vb_fuzz_segments (row->iface) : NULL;
  const char *segment = segments != NULL ? g_ptr_array_index (segments, row->object % segments->len)
                                         : NULL;
  g_autoptr(GVariant) args = row->operation == VB_OPERATION_METHOD
                                 ? confine_paths (row, fuzzed_args)
                                 : g_variant_ref (fuzzed_args);
  g_autoptr(GVariantType) reply_type = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  VbCall call = {
    .conn = vb_fuzz_conn (),
    .iface = row->iface,
    .segment = (char *) segment,
    .virconn = vb_fuzz_virconn (),
    .filter_lists = row->filtered,
  };
  g_autoptr(GVariant) properties = NULL;
  GVariant *value;

  /* The call's own reference, as vb_conn_acquire() gives one. */
  virConnectRef (call.virconn);
  call.message = call_message (row, segment, args);
  if (row->operation == VB_OPERATION_METHOD)
    check_extra_permission (row, args);

  if (vb_call_resolve_object (&call, &error))
    {
      if (call.object != NULL)
        {
          g_autoptr(GHashTable) details = vb_call_object_details (&call, row->iface, call.object);

          vb_fuzz_check_details (what, details);
        }
      switch (row->operation)
        {
        case VB_OPERATION_METHOD:
          reply = row->method->func (&call, args, &error);
          break;
        case VB_OPERATION_GET:
          value = row->property->get (&call, &error);
          if (value != NULL && !g_str_equal (g_variant_get_type_string (value),
                                             row->property_info->signature))
            vb_fuzz_fail ("%s: value of type %s, the interface says %s", what,
                          g_variant_get_type_string (value), row->property_info->signature);
          reply = value != NULL ? vb_tuple1 (g_variant_new_variant (value)) : NULL;
          break;
        case VB_OPERATION_GET_ALL:
          properties = vb_call_read_properties (&call, TRUE);
          reply = vb_tuple1 (properties);
          break;
        case VB_OPERATION_SET:
          if (row->property->set (&call, args, &error))
            reply = g_variant_new ("()");
          break;
        }
    }
  if (reply != NULL)
    g_variant_ref_sink (reply);

  if (row->operation == VB_OPERATION_METHOD)
    reply_type = args_type (row->method_info->out_args);
  else if (row->operation == VB_OPERATION_SET)
    reply_type = g_variant_type_new ("()");
  else if (row->operation == VB_OPERATION_GET)
    reply_type = g_variant_type_new ("(v)");
  else
    reply_type = g_variant_type_new ("(a{sv})");
  vb_fuzz_check_answer (what, reply, reply_type, call.out_fds, error);
  if (call.listed != NULL)
    {
      for (guint i = 0; i < call.listed->len; i++)
        vb_fuzz_check_details (what, ((VbListed *) g_ptr_array_index (call.listed, i))->details);
    }

  /* As bus.c's pending_call_free(), and the client closing its fds. */
  if (call.object != NULL)
    row->iface->release (call.object);
  vb_call_release_connection (&call);
  vb_call_forget_memo (&call);
  g_clear_pointer (&call.listed, g_ptr_array_unref);
  g_clear_object (&call.out_fds);
  g_clear_object (&call.message);
  virResetLastError ();
  wait_for_streams (what);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const guint8 *newline = memchr (data, '\n', size);
  g_autofree char *header = NULL;
  g_autoptr(GVariantType) type = NULL;
  g_autoptr(GVariant) args = NULL;
  Row row = { 0 };

  if (newline == NULL)
    return 0;
  header = vb_fuzz_string (data, (gsize) (newline - data));
  if (!find_row (header, &row))
    return 0;

  if (row.operation == VB_OPERATION_METHOD)
    type = args_type (row.method_info->in_args);
  else if (row.operation == VB_OPERATION_SET)
    type = g_variant_type_new (row.property_info->signature);
  else
    type = g_variant_type_new ("()");
  args = vb_fuzz_variant (type, newline + 1, size - (gsize) (newline - data) - 1);

  run_row (&row, header, args);
  if (row_may_change_host (&row))
    vb_fuzz_reset_host ();
  return 0;
}
