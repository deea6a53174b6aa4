#include "paths.h"

#include <string.h>

/* A UUID string is 36 characters: 8-4-4-4-12 hex digits. */
#define UUID_STRING_LEN 36

/* libvirt's virUUIDFormat calls snprintf once per byte: that was a quarter
 * of ListDomains' time at 1,000 domains. */
void
vb_uuid_format (const unsigned char raw[VIR_UUID_BUFLEN], char out[VIR_UUID_STRING_BUFLEN])
{
  static const char hex[] = "0123456789abcdef";
  gsize o = 0;

  for (gsize i = 0; i < VIR_UUID_BUFLEN; i++)
    {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        out[o++] = '-';
      out[o++] = hex[raw[i] >> 4];
      out[o++] = hex[raw[i] & 0xf];
    }
  out[o] = '\0';
}

char *
vb_path_encode_uuid (const char *uuid)
{
  g_autofree char *encoded = g_strconcat ("_", uuid, NULL);

  g_strdelimit (encoded, "-", '_');
  return g_steal_pointer (&encoded);
}

static gboolean
is_uuid_dash_position (gsize i)
{
  return i == 8 || i == 13 || i == 18 || i == 23;
}

gboolean
vb_path_decode_uuid (const char *segment, char uuid[VIR_UUID_STRING_BUFLEN])
{
  if (segment == NULL || segment[0] != '_' ||
      strlen (segment) != UUID_STRING_LEN + 1)
    return FALSE;

  for (gsize i = 0; i < UUID_STRING_LEN; i++)
    {
      char c = segment[i + 1];

      if (is_uuid_dash_position (i))
        {
          if (c != '_')
            return FALSE;
          uuid[i] = '-';
        }
      else
        {
          if (!g_ascii_isxdigit (c))
            return FALSE;
          uuid[i] = c;
        }
    }
  uuid[UUID_STRING_LEN] = '\0';
  return TRUE;
}

char *
vb_path_escape (const char *str)
{
  GString *out;

  if (str == NULL || *str == '\0')
    return g_strdup ("_");

  out = g_string_sized_new (strlen (str) * 3);
  for (const unsigned char *p = (const unsigned char *) str; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (out, (char) *p);
      else
        g_string_append_printf (out, "_%02x", *p);
    }
  return g_string_free (out, FALSE);
}

char *
vb_path_unescape (const char *segment)
{
  g_autoptr(GString) out = NULL;

  if (segment == NULL || *segment == '\0')
    return NULL;
  if (g_str_equal (segment, "_"))
    return g_strdup ("");

  out = g_string_sized_new (strlen (segment));
  for (const char *p = segment; *p != '\0'; p++)
    {
      int high, low;

      if (*p != '_')
        {
          if (!g_ascii_isalnum (*p))
            return NULL;
          g_string_append_c (out, *p);
          continue;
        }
      high = g_ascii_xdigit_value (p[1]);
      low = high < 0 ? -1 : g_ascii_xdigit_value (p[2]);
      if (low < 0 || (high == 0 && low == 0))
        return NULL;
      g_string_append_c (out, (char) (high * 16 + low));
      p += 2;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
vb_path_join (const char *conn_path, const char *kind, const char *segment)
{
  return g_strconcat (conn_path, "/", kind, "/", segment, NULL);
}
