/* virtbusd: the libvirt API on D-Bus, as org.libvirt. */
#include <stdio.h>

#include "config.h"
#include "daemon.h"
#include "options.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  VbOptions options = { 0 };
  int status;

  if (!vb_options_parse (argc, argv, &options, &error))
    {
      fprintf (stderr, "virtbusd: %s\n", error->message);
      vb_options_clear (&options);
      return 1;
    }
  if (options.show_version)
    {
      printf ("virtbusd %s\n", VIRTBUS_VERSION);
      vb_options_clear (&options);
      return 0;
    }

  status = vb_daemon_run (&options);
  vb_options_clear (&options);
  return status;
}
