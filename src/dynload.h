/* Libraries loaded when first needed rather than at start-up (polkit,
 * libsystemd): see polkit-lib.h and notify.c. */
#pragma once

#include <dlfcn.h>
#include <string.h>

#include <glib.h>

/* Stores the function @name of @library (from dlopen) in @slot; FALSE if
 * the library lacks it. */
static inline gboolean
vb_dynload_function (void *library, const char *name, void (**slot) (void))
{
  void *symbol = dlsym (library, name);

  /* POSIX guarantees a function's address survives this conversion. */
  memcpy (slot, &symbol, sizeof symbol);
  return symbol != NULL;
}

#define VB_DYNLOAD(library, name, pointer) \
  vb_dynload_function ((library), (name), (void (**) (void)) (pointer))
