/* Object path segments, in the reference daemon's encoding so that paths
 * are interchangeable with libvirt-dbus. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

/* Formats @raw as virUUIDFormat does (lowercase hex, 8-4-4-4-12). */
void vb_uuid_format (const unsigned char raw[VIR_UUID_BUFLEN],
                     char out[VIR_UUID_STRING_BUFLEN]);

/* "_" + UUID with '-' turned into '_'. */
char *vb_path_encode_uuid (const char *uuid);

/* Inverse of vb_path_encode_uuid(); FALSE when @segment is not of that form. */
gboolean vb_path_decode_uuid (const char *segment,
                              char uuid[VIR_UUID_STRING_BUFLEN]);

/* Every byte outside [A-Za-z0-9] becomes '_' and two lowercase hex digits;
 * the empty string becomes "_". */
char *vb_path_escape (const char *str);

/* Inverse of vb_path_escape(); NULL when @segment is not a valid encoding. */
char *vb_path_unescape (const char *segment);

/* "/org/libvirt/Test" + "/" + kind + "/" + segment */
char *vb_path_join (const char *conn_path, const char *kind, const char *segment);
