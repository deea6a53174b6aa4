/* libpolkit-gobject-1, loaded the first time a call needs polkit.  Only a
 * service on the system bus ever asks polkit, and loading the library at
 * start-up (with libsystemd and the libraries that one needs) made
 * virtbusd's start 3 ms slower, of about 40 (measured: issue 7). */
#pragma once

#include <polkit/polkit.h>

typedef struct {
  __typeof__ (polkit_authority_get_async) *authority_get_async;
  __typeof__ (polkit_authority_get_finish) *authority_get_finish;
  __typeof__ (polkit_authority_check_authorization) *check_authorization;
  __typeof__ (polkit_authority_check_authorization_finish) *check_authorization_finish;
  __typeof__ (polkit_authorization_result_get_is_authorized) *result_is_authorized;
  __typeof__ (polkit_authorization_result_get_is_challenge) *result_is_challenge;
  __typeof__ (polkit_details_new) *details_new;
  __typeof__ (polkit_details_insert) *details_insert;
  __typeof__ (polkit_system_bus_name_new) *system_bus_name_new;
} VbPolkit;

/* The library's functions, loaded once (any thread); NULL with @error set
 * when it cannot be loaded. */
const VbPolkit *vb_polkit_load (GError **error);
