/* polkit's answers, kept for reuse within strict bounds (issue 13):
 *
 * - per caller: an answer is for one (unique bus name, action, details)
 *   and goes when the caller leaves the bus;
 * - per configuration: every answer goes at once when polkit says its
 *   configuration changed (the Authority's Changed signal) or polkitd
 *   leaves the bus; an answer asked for before such a change is not kept;
 * - in time: an answer is reused for at most the configured lifetime;
 *   a lifetime of 0 keeps nothing.
 *
 * Only answers given without user interaction are kept (authz-queue.c
 * never stores the answer of an interactive check), so a reused answer
 * never skips a password prompt that polkit would ask for.
 *
 * Any thread: the bus layer reads answers on GDBus's worker thread and on
 * the workers, the main loop stores and drops them. */
#pragma once

#include <gio/gio.h>

typedef enum {
  VB_DECISION_UNKNOWN,     /* nothing kept: polkit must be asked */
  VB_DECISION_ALLOWED,
  VB_DECISION_DENIED,
  VB_DECISION_CHALLENGE,   /* polkit would ask the user to authenticate */
} VbDecision;

/* Reuse answers for @lifetime_seconds (0: never). */
void vb_decisions_init (guint lifetime_seconds);
void vb_decisions_shutdown (void);

gboolean vb_decisions_enabled (void);

/* What identifies one check of @sender: the action and the details,
 * (string -> string, may be NULL), in a form that compares exactly. */
GBytes *vb_decision_key_new (const char *action, GHashTable *details);

/* The kept answer, or UNKNOWN. */
VbDecision vb_decisions_lookup (const char *sender, GBytes *key);

/* The current configuration's generation: read when a check starts, and
 * handed to vb_decisions_store() with its answer. */
guint64 vb_decisions_generation (void);

/* Keeps @decision unless the configuration changed since @generation was
 * read, or reuse is off. */
void vb_decisions_store (const char *sender, GBytes *key, VbDecision decision,
                         guint64 generation);

/* @sender left the bus. */
void vb_decisions_forget_caller (const char *sender);
/* polkit's configuration changed: nothing kept is valid any more. */
void vb_decisions_forget_all (void);
