#include "options.h"

#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-file.h"

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

/* The command line as given: what is NULL (or FALSE) was not given, and
 * leaves the choice to the configuration file. */
typedef struct {
  gboolean system;
  gboolean session;
  char *threads;
  char *timeout;
  char *config;
  GStrv connect;
  gboolean activated;
  gboolean version;
} CommandLine;

static void
command_line_clear (CommandLine *command_line)
{
  g_clear_pointer (&command_line->threads, g_free);
  g_clear_pointer (&command_line->timeout, g_free);
  g_clear_pointer (&command_line->config, g_free);
  g_clear_pointer (&command_line->connect, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CommandLine, command_line_clear)

GPtrArray *
vb_options_default_connections (GBusType bus_type)
{
  const DefaultConnection *defaults =
      bus_type == G_BUS_TYPE_SYSTEM ? system_connections : session_connections;
  GPtrArray *specs = vb_conn_specs_new ();

  for (const DefaultConnection *d = defaults; d->name != NULL; d++)
    vb_conn_specs_add (specs, d->name, d->uri, NULL);
  return specs;
}

char *
vb_options_default_config_file (GBusType bus_type)
{
  if (bus_type == G_BUS_TYPE_SYSTEM)
    return g_strdup (VB_SYSTEM_CONFIG_FILE);
  return g_build_filename (g_get_user_config_dir (), "virtbus", "virtbusd.conf", NULL);
}

static GPtrArray *
parse_connections (char **args, GError **error)
{
  g_autoptr(GPtrArray) specs = vb_conn_specs_new ();

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
      if (!vb_conn_specs_add (specs, name, equals + 1, error))
        {
          g_prefix_error (error, "--connect: ");
          return NULL;
        }
    }
  return g_steal_pointer (&specs);
}

static gboolean
parse_command_line (int argc, char **argv, CommandLine *command_line, GError **error)
{
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &command_line->system,
      "Serve on the system bus (default when run as root)", NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &command_line->session,
      "Serve on the session bus (default otherwise)", NULL },
    { "threads", 't', 0, G_OPTION_ARG_STRING, &command_line->threads,
      "Worker threads per pool for libvirt calls (default 4)", "N" },
    { "connect", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &command_line->connect,
      "Export libvirt URI as /org/libvirt/NAME (repeatable; replaces the defaults)",
      "NAME=URI" },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &command_line->timeout,
      "Exit after SECONDS without calls or clients (0: never; default 0, "
      "or 120 with --activated)", "SECONDS" },
    { "activated", 0, 0, G_OPTION_ARG_NONE, &command_line->activated,
      "Started on demand by the bus or systemd: exit when idle", NULL },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &command_line->config,
      "Read the configuration from FILE (default: " VB_SYSTEM_CONFIG_FILE
      " on the system bus)", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &command_line->version,
      "Print the version and exit", NULL },
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
  if (command_line->system && command_line->session)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--system and --session exclude each other");
      return FALSE;
    }
  return TRUE;
}

/* A number option given on the command line overrides @config's. */
static gboolean
choose_number (const char *option, const char *given, gboolean config_has,
               guint config_value, guint fallback, guint min, guint max,
               guint *out, GError **error)
{
  if (given == NULL)
    {
      *out = config_has ? config_value : fallback;
      return TRUE;
    }
  if (!vb_settings_parse_number (given, min, max, out, error))
    {
      g_prefix_error (error, "%s ", option);
      return FALSE;
    }
  return TRUE;
}

static gboolean
merge (const CommandLine *command_line, VbConfig *config, VbOptions *options,
       GError **error)
{
  if (!choose_number ("--threads", command_line->threads, config->has_threads,
                      config->threads, VB_DEFAULT_THREADS, 1, VB_MAX_THREADS,
                      &options->threads, error)
      || !choose_number ("--timeout", command_line->timeout, config->has_timeout,
                         config->timeout,
                         command_line->activated ? VB_ACTIVATED_IDLE_TIMEOUT
                                                 : VB_DEFAULT_IDLE_TIMEOUT,
                         0, VB_MAX_IDLE_TIMEOUT, &options->idle_timeout, error))
    return FALSE;

  options->shutdown_timeout = config->has_shutdown_timeout ? config->shutdown_timeout
                                                           : VB_DEFAULT_SHUTDOWN_TIMEOUT;
  options->trusted_group = config->trusted_group != NULL
                               ? g_steal_pointer (&config->trusted_group)
                               : g_strdup (VB_DEFAULT_TRUSTED_GROUP);
  options->authz.trusted_group = options->trusted_group;
  options->authz.decision_lifetime = config->has_decision_lifetime
                                         ? config->decision_lifetime
                                         : VB_DEFAULT_DECISION_LIFETIME;
  options->authz.polkit_timeout = config->has_polkit_timeout ? config->polkit_timeout
                                                             : VB_DEFAULT_POLKIT_TIMEOUT;
  options->authz.polkit_rate = config->has_polkit_rate ? config->polkit_rate
                                                       : VB_DEFAULT_POLKIT_CHECKS_PER_SECOND;
  if (command_line->connect != NULL)
    options->connections = parse_connections (command_line->connect, error);
  else if (config->connections != NULL)
    options->connections = g_steal_pointer (&config->connections);
  else
    options->connections = vb_options_default_connections (options->bus_type);
  return options->connections != NULL;
}

gboolean
vb_options_parse (int argc, char **argv, VbOptions *options, GError **error)
{
  g_auto(CommandLine) command_line = { 0 };
  g_auto(VbConfig) config = { 0 };
  g_autofree char *config_file = NULL;

  if (!parse_command_line (argc, argv, &command_line, error))
    return FALSE;

  options->show_version = command_line.version;
  if (command_line.system || command_line.session)
    options->bus_type = command_line.system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
  else
    options->bus_type = geteuid () == 0 ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
  if (options->show_version)
    return TRUE;

  config_file = command_line.config != NULL
                    ? g_strdup (command_line.config)
                    : vb_options_default_config_file (options->bus_type);
  if (!vb_config_load (&config, config_file, command_line.config != NULL, error))
    return FALSE;
  if (config.found)
    options->config_file = g_steal_pointer (&config_file);
  return merge (&command_line, &config, options, error);
}

void
vb_options_clear (VbOptions *options)
{
  g_clear_pointer (&options->connections, g_ptr_array_unref);
  g_clear_pointer (&options->config_file, g_free);
  g_clear_pointer (&options->trusted_group, g_free);
  options->authz.trusted_group = NULL;
}
