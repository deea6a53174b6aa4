/* Writes fuzz corpus files (docs/fuzzing.md).
 *
 *   fuzz-seed [--header LINE] [--byte N] TYPE [TEXT] > FILE
 *       LINE and a newline, the byte N, then TEXT (GVariant text format,
 *       default: TYPE's default value) serialized as TYPE.
 *   fuzz-seed --tables XMLDIR OUTDIR
 *       one file for fuzz-tables per method, property read and property
 *       written of every interface XML in XMLDIR, with default arguments,
 *       on the kind's first object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

static GVariant *
parse_value (const char *type_string, const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value;

  if (!g_variant_type_string_is_valid (type_string))
    {
      fprintf (stderr, "fuzz-seed: '%s' is not a GVariant type\n", type_string);
      exit (1);
    }
  if (text == NULL)
    {
      g_autoptr(GVariant) empty = g_variant_ref_sink (
          g_variant_new_from_data (G_VARIANT_TYPE (type_string), NULL, 0, TRUE, NULL, NULL));

      return g_variant_get_normal_form (empty);
    }
  value = g_variant_parse (G_VARIANT_TYPE (type_string), text, NULL, NULL, &error);
  if (value == NULL)
    {
      g_autofree char *context = g_variant_parse_error_print_context (error, text);

      fprintf (stderr, "fuzz-seed: %s\n", context);
      exit (1);
    }
  return g_variant_ref_sink (value);
}

static void
append_value (GByteArray *out, GVariant *value)
{
  gsize size = g_variant_get_size (value);
  g_autofree guint8 *data = g_malloc0 (MAX (size, 1));

  g_variant_store (value, data);
  g_byte_array_append (out, data, (guint) size);
}

static void
write_file (const char *path, GByteArray *contents)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, (const char *) contents->data, contents->len, &error))
    {
      fprintf (stderr, "fuzz-seed: %s\n", error->message);
      exit (1);
    }
}

static void
write_row (const char *dir, const char *iface, const char *member, const char *type_string)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree char *header = g_strdup_printf ("%s %s 0\n", iface, member);
  g_autofree char *name = g_strdup_printf (
      "%s-%s", g_str_has_prefix (iface, "org.libvirt.") ? iface + strlen ("org.libvirt.") : iface,
      member);
  g_autofree char *path = NULL;
  g_autoptr(GVariant) value = parse_value (type_string, NULL);

  g_strdelimit (name, ":", '-');
  path = g_build_filename (dir, name, NULL);
  g_byte_array_append (out, (const guint8 *) header, (guint) strlen (header));
  append_value (out, value);
  write_file (path, out);
}

static char *
in_type (GDBusArgInfo **args)
{
  GString *type = g_string_new ("(");

  for (GDBusArgInfo **arg = args; arg != NULL && *arg != NULL; arg++)
    g_string_append (type, (*arg)->signature);
  g_string_append_c (type, ')');
  return g_string_free (type, FALSE);
}

static int
write_tables (const char *xml_dir, const char *out_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (xml_dir, 0, &error);
  const char *file;

  if (dir == NULL)
    {
      fprintf (stderr, "fuzz-seed: %s\n", error->message);
      return 1;
    }
  while ((file = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (xml_dir, file, NULL);
      g_autofree char *xml = NULL;
      g_autoptr(GDBusNodeInfo) node = NULL;

      if (!g_str_has_suffix (file, ".xml"))
        continue;
      if (!g_file_get_contents (path, &xml, NULL, &error) ||
          (node = g_dbus_node_info_new_for_xml (xml, &error)) == NULL)
        {
          fprintf (stderr, "fuzz-seed: %s: %s\n", path, error->message);
          return 1;
        }
      for (GDBusInterfaceInfo **i = node->interfaces; *i != NULL; i++)
        {
          for (GDBusMethodInfo **m = (*i)->methods; m != NULL && *m != NULL; m++)
            {
              g_autofree char *type = in_type ((*m)->in_args);

              write_row (out_dir, (*i)->name, (*m)->name, type);
            }
          for (GDBusPropertyInfo **p = (*i)->properties; p != NULL && *p != NULL; p++)
            {
              g_autofree char *get = g_strconcat ("Get:", (*p)->name, NULL);
              g_autofree char *set = g_strconcat ("Set:", (*p)->name, NULL);

              write_row (out_dir, (*i)->name, get, "()");
              if ((*p)->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
                write_row (out_dir, (*i)->name, set, (*p)->signature);
            }
          if ((*i)->properties != NULL && (*i)->properties[0] != NULL)
            write_row (out_dir, (*i)->name, "GetAll", "()");
        }
    }
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GVariant) value = NULL;
  int i = 1;

  if (argc == 4 && g_str_equal (argv[1], "--tables"))
    return write_tables (argv[2], argv[3]);
  for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2)
    {
      if (g_str_equal (argv[i], "--header"))
        {
          g_byte_array_append (out, (const guint8 *) argv[i + 1], (guint) strlen (argv[i + 1]));
          g_byte_array_append (out, (const guint8 *) "\n", 1);
        }
      else if (g_str_equal (argv[i], "--byte"))
        {
          guint8 byte = (guint8) atoi (argv[i + 1]);

          g_byte_array_append (out, &byte, 1);
        }
      else
        break;
    }
  if (i >= argc || argc - i > 2)
    {
      fprintf (stderr, "usage: fuzz-seed [--header LINE] [--byte N] TYPE [TEXT] > FILE\n"
                       "       fuzz-seed --tables XMLDIR OUTDIR\n");
      return 1;
    }
  value = parse_value (argv[i], argc - i == 2 ? argv[i + 1] : NULL);
  append_value (out, value);
  return fwrite (out->data, 1, out->len, stdout) == out->len ? 0 : 1;
}
