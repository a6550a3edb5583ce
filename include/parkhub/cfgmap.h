/* cfgmap.h — one table per config object: { key, type, flags, offset,
 * bounds, default, help }. ph_cfgmap_apply fills a struct from a JSON
 * object: applies defaults, checks types and ranges, refuses unknown keys
 * and names every problem by its JSON path ("sources[1].rate: must be ≤
 * 10000"), with a hint for the common mistakes. ph_cfgmap_help prints the
 * same table for --help, so docs cannot drift; ph_cfgmap_diff compares two
 * structs filled by one table, for SIGHUP.
 *
 * Each key carries its flags (in the manner of Redis's standardConfig):
 * PH_CFG_REQUIRED, and PH_CFG_RELOAD for a key the running binary can take
 * from a SIGHUP safely (its readers are synchronised or it is read on the
 * main thread only). A table written before the flags existed put a bool
 * there: true is PH_CFG_REQUIRED.
 *
 * Invariants:
 *  1. With a problem list (--check-config), every key of an object is
 *     checked and every problem is kept; without, the first stops.
 *  2. A problem list keeps at most PH_CFG_PROBLEMS_MAX messages and counts
 *     the rest, so a hostile file cannot grow it. */
#ifndef PARKHUB_CFGMAP_H
#define PARKHUB_CFGMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parkhub/err.h"

enum ph_cfg_type {
  PH_CFG_STR,    /* char[size] in the struct; size = sizeof field */
  PH_CFG_ID,     /* like STR, checked against the id grammar */
  PH_CFG_INT,    /* int64_t, within [min, max] */
  PH_CFG_DBL,    /* double, within [min, max] */
  PH_CFG_BOOL,   /* bool */
  PH_CFG_ENUM,   /* int: index of the value in `words` (NULL-terminated) */
  PH_CFG_SKIP,   /* a key the caller handles itself (--help: from its help text) */
  PH_CFG_OBJECT, /* like SKIP, an object the caller loads (--help: "object") */
  PH_CFG_ARRAY,  /* like SKIP, an array the caller loads (--help: "array") */
};

#define PH_CFG_REQUIRED 1u /* absent: a problem */
#define PH_CFG_RELOAD 2u   /* SIGHUP applies a change to the running binary */

struct ph_cfgmap {
  const char *key;
  enum ph_cfg_type type;
  unsigned flags; /* PH_CFG_REQUIRED | PH_CFG_RELOAD */
  size_t offset;
  size_t size; /* STR/ID: sizeof the char array */
  double min, max;
  const char *def; /* default, as text; NULL or "": none (zero) */
  const char *const *words; /* ENUM */
  const char *help;
};

#define PH_CFG_END {NULL, PH_CFG_SKIP, 0, 0, 0, 0, 0, NULL, NULL, NULL}

/* ---- problems, for --check-config ---- */

#define PH_CFG_PROBLEMS_MAX 100

struct ph_cfg_problems {
  int n; /* problems found; only the first PH_CFG_PROBLEMS_MAX are kept (inv. 2) */
  char msg[PH_CFG_PROBLEMS_MAX][PH_ERR_MSG_MAX];
};

void ph_cfg_problem_add(struct ph_cfg_problems *p, const char *msg);
/* One line per problem ("  file: path: reason"), then "and N more". */
void ph_cfg_problems_print(const struct ph_cfg_problems *p, FILE *out);
/* rc and err->msg into p when p is not NULL (a problem noted, loading goes
 * on: returns 0); without p returns rc (the first problem stops). */
int ph_cfg_note(struct ph_cfg_problems *p, int rc, const struct ph_err *err);
/* Notes it when p is not NULL, and returns rc either way: the caller stops
 * loading this object (its siblings go on). */
int ph_cfg_stop(struct ph_cfg_problems *p, int rc, const struct ph_err *err);

/* Files the config names, for --check-config (nothing when path is ""):
 * the file exists and can be read; the folder of a file the binary writes
 * (a database, an outbox) exists and can be written, and so can the file
 * when it exists. key is the JSON path named in the message. */
void ph_cfg_check_readable(struct ph_cfg_problems *p, const char *key, const char *path);
void ph_cfg_check_writable(struct ph_cfg_problems *p, const char *key, const char *path);
/* A file the binary waits for (a tailed source file may appear later): its
 * folder must exist; when the file is there it must be readable. */
void ph_cfg_check_awaited(struct ph_cfg_problems *p, const char *key, const char *path);

/* obj is a const cJSON *; path names it in messages ("" for the root).
 * Returns 0 or PH_ECONFIG with err->msg "path.key: reason" style text
 * (the caller prefixes the file). */
int ph_cfgmap_apply(const struct ph_cfgmap *map, const void *obj, const char *path,
                    void *dst, struct ph_err *err);
/* Like ph_cfgmap_apply; with p, every problem of the object goes into p
 * (inv. 1) and PH_ECONFIG is returned when there was any (err: the first). */
int ph_cfgmap_apply_all(const struct ph_cfgmap *map, const void *obj, const char *path, void *dst,
                        struct ph_cfg_problems *p, struct ph_err *err);

/* One line per key: name, type, help, range in plain numbers, words,
 * required or default, and "reloadable (SIGHUP)" for PH_CFG_RELOAD. */
void ph_cfgmap_help(const struct ph_cfgmap *map, const char *prefix, FILE *out);
/* A number as a person writes it: 3600000, 0.5, not 3.6e+06. */
void ph_cfg_num_text(double d, char *buf, size_t cap);

/* ---- what changed, for SIGHUP ---- */

#define PH_CFG_CHANGES_MAX 64

struct ph_cfg_change {
  char key[96];        /* full path: "db.max_size_mb" */
  char from[64], to[64]; /* values as text ("" for objects and arrays) */
  bool reloadable;
};

struct ph_cfg_changes {
  int n; /* changes found; only the first PH_CFG_CHANGES_MAX are kept */
  struct ph_cfg_change c[PH_CFG_CHANGES_MAX];
};

void ph_cfg_change_add(struct ph_cfg_changes *out, const char *key, const char *from, const char *to,
                       bool reloadable);
/* Appends every scalar key of map whose value differs between a and b
 * (structs filled by map); SKIP/OBJECT/ARRAY keys are the caller's. */
void ph_cfgmap_diff(const struct ph_cfgmap *map, const char *prefix, const void *a, const void *b,
                    struct ph_cfg_changes *out);
/* Copies e's value from src to dst (structs filled by e's table);
 * PH_EINVAL for a key the caller handles (SKIP/OBJECT/ARRAY). */
int ph_cfgmap_copy(const struct ph_cfgmap *e, void *dst, const void *src);
/* The table's entry for key, NULL when none. */
const struct ph_cfgmap *ph_cfgmap_find(const struct ph_cfgmap *map, const char *key);

#endif
