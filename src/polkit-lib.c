#include "polkit-lib.h"

#include "dynload.h"

#define POLKIT_LIBRARY "libpolkit-gobject-1.so.0"

static VbPolkit polkit;
static char *load_failure;   /* set once, when loading failed */

/* Stores function @name of @library in @field of polkit; FALSE (and why)
 * if the library lacks it. */
static gboolean
resolve (void *library, const char *name, void (**slot) (void))
{
  if (vb_dynload_function (library, name, slot))
    return TRUE;
  load_failure = g_strdup_printf ("%s has no %s", POLKIT_LIBRARY, name);
  return FALSE;
}

#define RESOLVE(library, field, name) resolve (library, name, (void (**) (void)) &polkit.field)

static gpointer
load_polkit (gpointer data)
{
  /* Never closed: the library registers GTypes. */
  void *library = dlopen (POLKIT_LIBRARY, RTLD_NOW | RTLD_LOCAL);

  if (library == NULL)
    {
      load_failure = g_strdup (dlerror ());
      return NULL;
    }
  if (!RESOLVE (library, authority_get_async, "polkit_authority_get_async") ||
      !RESOLVE (library, authority_get_finish, "polkit_authority_get_finish") ||
      !RESOLVE (library, check_authorization, "polkit_authority_check_authorization") ||
      !RESOLVE (library, check_authorization_finish,
                "polkit_authority_check_authorization_finish") ||
      !RESOLVE (library, result_is_authorized, "polkit_authorization_result_get_is_authorized") ||
      !RESOLVE (library, result_is_challenge, "polkit_authorization_result_get_is_challenge") ||
      !RESOLVE (library, details_new, "polkit_details_new") ||
      !RESOLVE (library, details_insert, "polkit_details_insert") ||
      !RESOLVE (library, system_bus_name_new, "polkit_system_bus_name_new"))
    return NULL;
  return &polkit;
}

const VbPolkit *
vb_polkit_load (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  const VbPolkit *loaded = g_once (&once, load_polkit, NULL);

  if (loaded == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot load polkit's library: %s",
                 load_failure);
  return loaded;
}
