#include "options.h"

#include <string.h>
#include <unistd.h>

#include "conn.h"

typedef struct {
  const char *name;
  const char *uri;
} DefaultConnection;

/* The same sets as libvirt-dbus, so clients find the same paths. */
static const DefaultConnection system_connections[] = {
  { "BHyve", "bhyve:///system" },
  { "LXC", "lxc:///" },
  { "OpenVZ", "openvz:///system" },
  { "QEMU", "qemu:///system" },
  { "Test", "test:///default" },
  { "UML", "uml:///system" },
  { "VBox", "vbox:///system" },
  { "Xen", "xen:///" },
  { NULL },
};

static const DefaultConnection session_connections[] = {
  { "QEMU", "qemu:///session" },
  { "Test", "test:///default" },
  { "UML", "uml:///session" },
  { "VBox", "vbox:///session" },
  { "VMwareFusion", "vmwarefusion:///session" },
  { "VMwarePlayer", "vmwareplayer:///session" },
  { "VMwareWS", "vmwarews:///session" },
  { NULL },
};

static VbConnSpec *
conn_spec_new (const char *name, const char *uri)
{
  VbConnSpec *spec = g_new0 (VbConnSpec, 1);

  spec->name = g_strdup (name);
  spec->uri = g_strdup (uri);
  return spec;
}

static void
conn_spec_free (gpointer data)
{
  VbConnSpec *spec = data;

  g_free (spec->name);
  g_free (spec->uri);
  g_free (spec);
}

GPtrArray *
vb_options_default_connections (GBusType bus_type)
{
  const DefaultConnection *defaults =
      bus_type == G_BUS_TYPE_SYSTEM ? system_connections : session_connections;
  GPtrArray *specs = g_ptr_array_new_with_free_func (conn_spec_free);

  for (const DefaultConnection *d = defaults; d->name != NULL; d++)
    g_ptr_array_add (specs, conn_spec_new (d->name, d->uri));
  return specs;
}

static gboolean
has_connection (GPtrArray *specs, const char *name)
{
  for (guint i = 0; i < specs->len; i++)
    {
      VbConnSpec *spec = g_ptr_array_index (specs, i);

      if (g_str_equal (spec->name, name))
        return TRUE;
    }
  return FALSE;
}

static GPtrArray *
parse_connections (char **args, GError **error)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func (conn_spec_free);

  for (char **arg = args; *arg != NULL; arg++)
    {
      const char *equals = strchr (*arg, '=');
      g_autofree char *name = NULL;

      if (equals == NULL || equals[1] == '\0')
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--connect expects NAME=URI, got '%s'", *arg);
          return NULL;
        }
      name = g_strndup (*arg, (gsize) (equals - *arg));
      if (!vb_conn_name_is_valid (name))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--connect: name '%s' must be letters, digits and '_' only",
                       name);
          return NULL;
        }
      if (has_connection (specs, name))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--connect: name '%s' given twice", name);
          return NULL;
        }
      g_ptr_array_add (specs, conn_spec_new (name, equals + 1));
    }
  return g_steal_pointer (&specs);
}

gboolean
vb_options_parse (int argc, char **argv, VbOptions *options, GError **error)
{
  gboolean system = FALSE;
  gboolean session = FALSE;
  gint threads = VB_DEFAULT_THREADS;
  g_auto(GStrv) connect = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &system,
      "Serve on the system bus (default when run as root)", NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &session,
      "Serve on the session bus (default otherwise)", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "Worker threads per pool for libvirt calls (default 4)", "N" },
    { "connect", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &connect,
      "Export libvirt URI as /org/libvirt/NAME (repeatable; replaces the defaults)",
      "NAME=URI" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context =
      g_option_context_new ("- serve the libvirt API on D-Bus as org.libvirt");
  g_auto(GStrv) args = g_new0 (char *, argc + 1);

  for (int i = 0; i < argc; i++)
    args[i] = g_strdup (argv[i]);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse_strv (context, &args, error))
    return FALSE;

  if (g_strv_length (args) > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "unexpected argument '%s'", args[1]);
      return FALSE;
    }
  if (system && session)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--system and --session exclude each other");
      return FALSE;
    }
  if (threads < 1 || threads > VB_MAX_THREADS)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--threads must be between 1 and %d, got %d", VB_MAX_THREADS,
                   threads);
      return FALSE;
    }

  options->show_version = version;
  options->threads = (guint) threads;
  if (system || session)
    options->bus_type = system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
  else
    options->bus_type = geteuid () == 0 ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;

  if (connect != NULL)
    options->connections = parse_connections (connect, error);
  else
    options->connections = vb_options_default_connections (options->bus_type);
  return options->connections != NULL;
}

void
vb_options_clear (VbOptions *options)
{
  g_clear_pointer (&options->connections, g_ptr_array_unref);
}
