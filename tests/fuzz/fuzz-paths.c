/* Fuzz target: object path elements, the only part of a call's path that
 * names something (<connection>/<kind>/<element>).
 *
 * The input is the element.  The encoders and decoders of src/paths.c
 * must agree with each other on any string; and where the input is an
 * element a bus could carry ([A-Za-z0-9_]+), every kind's lookup
 * (VbInterface.lookup, what a call's path goes through first) must find
 * an object or answer a precise error, and an object found must describe
 * itself to polkit in UTF-8 and be named by a valid path. */
#include <string.h>

#include "fuzz-harness.h"
#include "objects.h"
#include "paths.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  vb_fuzz_init ();
  return 0;
}

static gboolean
is_path_element (const char *str)
{
  if (*str == '\0')
    return FALSE;
  for (const char *p = str; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_')
        return FALSE;
    }
  return TRUE;
}

/* vb_path_escape() and vb_path_unescape() are inverse on any string. */
static void
check_escaping (const char *str)
{
  g_autofree char *escaped = vb_path_escape (str);
  g_autofree char *unescaped = vb_path_unescape (escaped);
  g_autofree char *decoded = vb_path_unescape (str);

  if (!is_path_element (escaped))
    vb_fuzz_fail ("vb_path_escape (\"%s\") = \"%s\", not a path element", str, escaped);
  if (unescaped == NULL || !g_str_equal (unescaped, str))
    vb_fuzz_fail ("vb_path_unescape (vb_path_escape (\"%s\")) = \"%s\"", str,
                  unescaped != NULL ? unescaped : "(null)");
  if (decoded != NULL)
    {
      g_autofree char *again = vb_path_escape (decoded);
      g_autofree char *decoded_again = vb_path_unescape (again);

      /* What it accepts is an element, and decodes to what the element
       * encoding of the result decodes to (several elements may name one
       * string: "_41" and "A"). */
      if (!is_path_element (str))
        vb_fuzz_fail ("vb_path_unescape accepted \"%s\", not a path element", str);
      if (decoded_again == NULL || !g_str_equal (decoded_again, decoded))
        vb_fuzz_fail ("\"%s\" decodes to \"%s\", whose encoding decodes to \"%s\"", str,
                      decoded, decoded_again != NULL ? decoded_again : "(null)");
    }
}

/* vb_path_decode_uuid() takes exactly what vb_path_encode_uuid() makes. */
static void
check_uuid_segment (const char *str, const guint8 *data, gsize size)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  char formatted[VIR_UUID_STRING_BUFLEN];
  unsigned char raw[VIR_UUID_BUFLEN] = { 0 };

  if (vb_path_decode_uuid (str, uuid))
    {
      g_autofree char *encoded = vb_path_encode_uuid (uuid);

      if (strlen (uuid) != VIR_UUID_STRING_BUFLEN - 1 || !g_str_equal (encoded, str))
        vb_fuzz_fail ("\"%s\" decodes to UUID \"%s\", which encodes to \"%s\"", str, uuid,
                      encoded);
    }

  memcpy (raw, data, MIN (size, sizeof raw));
  vb_uuid_format (raw, formatted);
  {
    g_autofree char *encoded = vb_path_encode_uuid (formatted);

    if (!vb_path_decode_uuid (encoded, uuid) || !g_str_equal (uuid, formatted))
      vb_fuzz_fail ("UUID %s encodes to \"%s\", which does not decode to it", formatted,
                    encoded);
  }
}

/* What a call's path goes through before anything else. */
static void
check_lookups (const char *segment)
{
  VbConn *conn = vb_fuzz_conn ();

  for (const VbInterface *const *i = vb_bus_interfaces (); *i != NULL; i++)
    {
      const VbInterface *iface = *i;
      g_autoptr(GError) error = NULL;
      g_autofree char *what = NULL;
      gpointer object;

      if (iface->lookup == NULL)
        continue;
      what = g_strdup_printf ("%s lookup of \"%s\"", iface->name, segment);
      object = iface->lookup (vb_fuzz_virconn (), segment, &error);
      if (object == NULL)
        {
          vb_fuzz_check_answer (what, NULL, NULL, NULL, error);
          virResetLastError ();
          continue;
        }
      {
        VbCall call = { .conn = conn, .iface = iface, .virconn = vb_fuzz_virconn () };
        g_autoptr(GHashTable) details = vb_call_object_details (&call, iface, object);
        g_autofree char *path = iface->path (conn, object);

        vb_fuzz_check_details (what, details);
        if (path == NULL || !g_variant_is_object_path (path))
          vb_fuzz_fail ("%s: found an object named by the path \"%s\"", what,
                        path != NULL ? path : "(null)");
      }
      iface->release (object);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *str = vb_fuzz_string (data, size);

  check_escaping (str);
  check_uuid_segment (str, data, size);
  if (is_path_element (str))
    check_lookups (str);
  return 0;
}
