/* The programs the authorization tests run as their test users: a copy of
 * the test program in --client mode (calls read from stdin, answers
 * printed) or --agent mode (a polkit authentication agent that never
 * answers).  See vb-authz-world.h. */
#include "vb-authz-world.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#define POLKIT_AGENT_I_KNOW_API_IS_SUBJECT_TO_CHANGE
#include <polkitagent/polkitagent.h>

#define CLIENT_TIMEOUT_MS 60000

/* ---- client mode: runs as a test user ----------------------------------- */

/* Input lines:
 *   "plain|interactive\tpath\tinterface\tmember\targs": one call, answered
 *       with "OK\t<reply>" or "ERR\t<D-Bus error name>\t<message>";
 *   "batch\t<n>" and n call lines: all sent at once, then the n answers in
 *       the order of the calls;
 *   "send\t<call line>": one call sent, its answer printed when it comes;
 *   "name": the unique bus name; "reconnect": a new connection ("OK");
 *   "listen": subscribes to every signal ("OK"); "signals": "SIGNALS" and,
 *       tab-separated, the signals received since the last "signals".
 * Input is read by the main loop, so answers to "send" and "batch" are
 * printed as soon as they are complete. */
typedef struct {
  GDBusConnection *bus;
  GMutex lock;
  GPtrArray *signals;         /* strings */
  GString *input;             /* read, not yet a whole line */
  GPtrArray *batch_lines;     /* a batch being read, or NULL */
  guint batch_size;
  guint n_in_flight;
  gboolean input_closed;
} Client;

static GDBusConnection *
client_connect (void)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_dbus_connection_new_for_address_sync (
      g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  if (bus == NULL)
    g_error ("client: %s", error->message);
  return bus;
}

static char *
answer_line (GVariant *reply, GError *error)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;

  if (reply != NULL)
    {
      /* GVariant's text format escapes newlines and tabs in strings. */
      text = g_variant_print (reply, TRUE);
      return g_strdup_printf ("OK\t%s\n", text);
    }
  name = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);
  g_strdelimit (error->message, "\t\n", ' ');
  return g_strdup_printf ("ERR\t%s\t%s\n", name != NULL ? name : "(local)", error->message);
}

typedef struct {
  GVariant *args;
  const char *path, *iface, *member;
  GDBusCallFlags flags;
  char **fields;
} ParsedCall;

static void
parsed_call_clear (ParsedCall *call)
{
  g_clear_pointer (&call->args, g_variant_unref);
  g_clear_pointer (&call->fields, g_strfreev);
}

static void
parse_call_line (const char *line, ParsedCall *call)
{
  g_autoptr(GError) error = NULL;

  call->fields = g_strsplit (line, "\t", 5);
  g_assert_cmpuint (g_strv_length (call->fields), ==, 5);
  call->args = g_variant_parse (NULL, call->fields[4], NULL, NULL, &error);
  g_assert_no_error (error);
  call->flags = g_str_equal (call->fields[0], "interactive")
                    ? G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION
                    : G_DBUS_CALL_FLAGS_NONE;
  call->path = call->fields[1];
  call->iface = call->fields[2];
  call->member = call->fields[3];
}

static void
print_and_flush (const char *text)
{
  fputs (text, stdout);
  fflush (stdout);
}

typedef struct {
  char **answers;
  guint size;
  guint n_pending;
} Batch;

typedef struct {
  Client *client;
  Batch *batch;               /* NULL: a "send" call, printed when answered */
  guint index;
} PendingCall;

static void
on_call_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  PendingCall *pending = data;
  Batch *batch = pending->batch;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                            result, &error);
  char *answer = answer_line (reply, error);

  pending->client->n_in_flight--;
  if (batch == NULL)
    {
      print_and_flush (answer);
      g_free (answer);
    }
  else
    {
      batch->answers[pending->index] = answer;
      if (--batch->n_pending == 0)
        {
          for (guint i = 0; i < batch->size; i++)
            print_and_flush (batch->answers[i]);
          g_strfreev (batch->answers);
          g_free (batch);
        }
    }
  g_free (pending);
}

static void
send_call (Client *client, const char *line, Batch *batch, guint index)
{
  ParsedCall call = { 0 };
  PendingCall *pending = g_new0 (PendingCall, 1);

  pending->client = client;
  pending->batch = batch;
  pending->index = index;
  parse_call_line (line, &call);
  client->n_in_flight++;
  g_dbus_connection_call (client->bus, "org.libvirt", call.path, call.iface, call.member,
                          call.args, NULL, call.flags, CLIENT_TIMEOUT_MS, NULL,
                          on_call_answered, pending);
  parsed_call_clear (&call);
}

static void
send_batch (Client *client)
{
  g_autoptr(GPtrArray) lines = g_steal_pointer (&client->batch_lines);
  Batch *batch = g_new0 (Batch, 1);

  batch->size = batch->n_pending = lines->len;
  batch->answers = g_new0 (char *, lines->len + 1);
  for (guint i = 0; i < lines->len; i++)
    send_call (client, g_ptr_array_index (lines, i), batch, i);
}

static GDBusMessage *
record_signals (GDBusConnection *bus, GDBusMessage *message, gboolean incoming, gpointer data)
{
  Client *client = data;
  g_autofree char *args = NULL;
  GVariant *body;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL ||
      g_strcmp0 (g_dbus_message_get_sender (message), "org.freedesktop.DBus") == 0)
    return message;
  body = g_dbus_message_get_body (message);
  args = body != NULL ? g_variant_print (body, FALSE) : g_strdup ("()");
  g_strdelimit (args, "\t\n", ' ');
  g_mutex_lock (&client->lock);
  g_ptr_array_add (client->signals,
                   g_strdup_printf ("%s.%s %s %s", g_dbus_message_get_interface (message),
                                    g_dbus_message_get_member (message),
                                    g_dbus_message_get_path (message), args));
  g_mutex_unlock (&client->lock);
  return message;
}

static void
on_any_signal (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
               const char *member, GVariant *parameters, gpointer data)
{
}

/* A round trip to the bus: whatever it sent before its answer has passed
 * the filters. */
static void
bus_round_trip (Client *client)
{
  g_autoptr(GVariant) id = g_dbus_connection_call_sync (
      client->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);

  g_assert_nonnull (id);
}

static void
print_signals (Client *client)
{
  g_autoptr(GString) line = g_string_new ("SIGNALS");

  bus_round_trip (client);
  g_mutex_lock (&client->lock);
  for (guint i = 0; i < client->signals->len; i++)
    g_string_append_printf (line, "\t%s", (char *) g_ptr_array_index (client->signals, i));
  g_ptr_array_set_size (client->signals, 0);
  g_mutex_unlock (&client->lock);
  g_string_append_c (line, '\n');
  print_and_flush (line->str);
}

static void
call_and_print (Client *client, const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *answer = NULL;
  ParsedCall call = { 0 };

  parse_call_line (line, &call);
  reply = g_dbus_connection_call_sync (client->bus, "org.libvirt", call.path, call.iface,
                                       call.member, call.args, NULL, call.flags,
                                       CLIENT_TIMEOUT_MS, NULL, &error);
  answer = answer_line (reply, error);
  print_and_flush (answer);
  parsed_call_clear (&call);
}

static void
handle_line (Client *client, const char *line)
{
  if (client->batch_lines != NULL)
    {
      g_ptr_array_add (client->batch_lines, g_strdup (line));
      if (client->batch_lines->len == client->batch_size)
        send_batch (client);
    }
  else if (g_str_has_prefix (line, "batch\t"))
    {
      client->batch_size = (guint) g_ascii_strtoull (line + 6, NULL, 10);
      g_assert_cmpuint (client->batch_size, >, 0);
      client->batch_lines = g_ptr_array_new_with_free_func (g_free);
    }
  else if (g_str_has_prefix (line, "send\t"))
    {
      send_call (client, line + 5, NULL, 0);
    }
  else if (g_str_equal (line, "name"))
    {
      g_autofree char *answer = g_strdup_printf (
          "%s\n", g_dbus_connection_get_unique_name (client->bus));

      print_and_flush (answer);
    }
  else if (g_str_equal (line, "reconnect"))
    {
      g_dbus_connection_close_sync (client->bus, NULL, NULL);
      g_object_unref (client->bus);
      client->bus = client_connect ();
      g_dbus_connection_add_filter (client->bus, record_signals, client, NULL);
      print_and_flush ("OK\n");
    }
  else if (g_str_equal (line, "listen"))
    {
      g_dbus_connection_signal_subscribe (client->bus, NULL, NULL, NULL, NULL, NULL,
                                          G_DBUS_SIGNAL_FLAGS_NONE, on_any_signal, NULL,
                                          NULL);
      /* The match rule is in place once the bus answers. */
      bus_round_trip (client);
      print_and_flush ("OK\n");
    }
  else if (g_str_equal (line, "signals"))
    {
      print_signals (client);
    }
  else
    {
      call_and_print (client, line);
    }
}

static gboolean
on_client_input (int fd, GIOCondition condition, gpointer data)
{
  Client *client = data;
  char chunk[65536];
  ssize_t n = read (fd, chunk, sizeof chunk);
  char *newline;

  if (n <= 0)
    {
      client->input_closed = TRUE;
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (client->input, chunk, n);
  while ((newline = memchr (client->input->str, '\n', client->input->len)) != NULL)
    {
      gsize length = (gsize) (newline - client->input->str);
      g_autofree char *line = g_strndup (client->input->str, length);

      g_string_erase (client->input, 0, (gssize) length + 1);
      handle_line (client, line);
    }
  return G_SOURCE_CONTINUE;
}

/* Static: GDBus's worker thread may run the signal filter until the
 * connection is closed. */
static Client the_client;

static int
run_client (void)
{
  Client *client = &the_client;

  client->bus = client_connect ();
  client->signals = g_ptr_array_new_with_free_func (g_free);
  client->input = g_string_new (NULL);
  g_mutex_init (&client->lock);
  g_dbus_connection_add_filter (client->bus, record_signals, client, NULL);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_input, client);
  /* Calls still in flight when the input ends get their answers. */
  while (!client->input_closed || client->n_in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  g_dbus_connection_close_sync (client->bus, NULL, NULL);
  return 0;
}

/* ---- agent mode: an authentication agent that never answers -------------- */

/* Registered (as root) for one process; announces each authentication it
 * is asked for with "ASKED <action> <message>" and then sits at the
 * "prompt" until its stdin closes, when it exits and polkit gives up. */
typedef struct {
  PolkitAgentListener parent;
} VbTestAgent;

typedef struct {
  PolkitAgentListenerClass parent_class;
} VbTestAgentClass;

static GType vb_test_agent_get_type (void);
G_DEFINE_TYPE (VbTestAgent, vb_test_agent, POLKIT_AGENT_TYPE_LISTENER)

static void
agent_initiate_authentication (PolkitAgentListener *listener, const char *action_id,
                               const char *message, const char *icon_name,
                               PolkitDetails *details, const char *cookie,
                               GList *identities, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer data)
{
  printf ("ASKED %s %s\n", action_id, message);
  fflush (stdout);
  /* The task is dropped unanswered: the agent exits instead. */
  g_object_unref (g_task_new (listener, cancellable, callback, data));
}

static gboolean
agent_initiate_authentication_finish (PolkitAgentListener *listener, GAsyncResult *result,
                                      GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
vb_test_agent_class_init (VbTestAgentClass *klass)
{
  PolkitAgentListenerClass *listener_class = POLKIT_AGENT_LISTENER_CLASS (klass);

  listener_class->initiate_authentication = agent_initiate_authentication;
  listener_class->initiate_authentication_finish = agent_initiate_authentication_finish;
}

static void
vb_test_agent_init (VbTestAgent *agent)
{
}

static gboolean
on_agent_stdin (int fd, GIOCondition condition, gpointer loop)
{
  char buffer[64];

  if (read (fd, buffer, sizeof buffer) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
run_agent (const char *pid_text)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(PolkitAgentListener) agent = g_object_new (vb_test_agent_get_type (), NULL);
  g_autoptr(PolkitSubject) process = polkit_unix_process_new_for_owner (
      (gint) g_ascii_strtoll (pid_text, NULL, 10), 0, -1);
  g_autoptr(GError) error = NULL;
  gpointer registration = polkit_agent_listener_register (
      agent, POLKIT_AGENT_REGISTER_FLAGS_NONE, process,
      "/org/libvirt/virtbus/TestAgent", NULL, &error);

  if (registration == NULL)
    {
      g_printerr ("agent: %s\n", error->message);
      return 1;
    }
  printf ("REGISTERED\n");
  fflush (stdout);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_agent_stdin, loop);
  g_main_loop_run (loop);
  polkit_agent_listener_unregister (registration);
  return 0;
}

int
vb_authz_helper_main (int argc, char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "--client"))
    return run_client ();
  if (argc == 3 && g_str_equal (argv[1], "--agent"))
    return run_agent (argv[2]);
  return -1;
}

