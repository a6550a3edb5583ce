/* source.c — the registry of agent sources and the ph_emit* calls that
 * sources use to hand records to the core (source.h). */
#include <string.h>

#include "sources/source.h"

extern const struct ph_source_ops ph_src_jsonl, ph_src_csv, ph_src_stdin, ph_src_sim, ph_src_hj212,
    ph_src_modbus;

static const struct ph_source_ops *const all[] = {&ph_src_jsonl, &ph_src_csv, &ph_src_stdin, &ph_src_sim,
                                                 &ph_src_hj212, &ph_src_modbus, NULL};

const struct ph_source_ops *ph_source_find(const char *type) {
  for (size_t i = 0; all[i]; i++)
    if (strcmp(all[i]->name, type) == 0) return all[i];
  return NULL;
}

const struct ph_source_ops *const *ph_source_all(void) { return all; }

int ph_source_note(const struct ph_source_env *env, int rc, const struct ph_err *err, int *bad) {
  if (!rc || !env || !env->pr) return rc;
  ph_cfg_problem_add(env->pr, err->msg);
  if (bad) (*bad)++;
  return 0;
}

int ph_source_noted(int bad) { return bad ? PH_ECONFIG : 0; }

int ph_emit(struct ph_emitter *em, enum ph_kind kind, const struct ph_record *r, const struct ph_value *vals,
            size_t n, const char *attrs_json) {
  return em->record(em->user, kind, r, vals, n, attrs_json);
}

void ph_emit_reject(struct ph_emitter *em, const char *where, const struct ph_err *err) {
  em->reject(em->user, where, err);
}

bool ph_emit_room(struct ph_emitter *em, size_t n) { return !em->room || em->room(em->user, n); }

void ph_emit_position(struct ph_emitter *em, const struct ph_source_pos *pos) { em->position(em->user, pos); }

int ph_emit_committed(struct ph_emitter *em, struct ph_source_pos *out) {
  if (!em->committed) return -1;
  return em->committed(em->user, out) ? 1 : 0;
}
