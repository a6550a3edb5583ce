/* report_monitoring.c — the report's "monitoring" section (the stack-test
 * plan: next test due and days left, per enterprise and stack; for the
 * park, the enterprises overdue) and "monitoring_period" (since when each
 * enterprise and point is monitored and the hours of the year it covers).
 *
 * Callers: report_json.c. Threads: the caller's; the points statement is
 * prepared and finalized within rb_ent_monitoring_period. Owns nothing
 * after a call; the plans are the caller's.
 *
 * Invariants:
 *  1. The plan is as of the generation time (r->now), not the year's end.
 *  2. Monitored hours count only hours the hub has closed
 *     (ph_cems_closed_until, report_json.c inv. 3).
 *  3. Never tested: next_due and days_left are null with the reason.
 */
#include <stdio.h>

#include "domain/cems.h"
#include "parkhub/na_reasons.h"
#include "report_build.h"
#include "report_sql.h"

static void plan_status(struct rb *r, cJSON *o, const struct ph_monitoring_plan *p) {
  char s[96];
  if (p->never_tested) snprintf(s, sizeof s, "never tested: overdue");
  else if (p->days_left < 0) snprintf(s, sizeof s, "overdue by %lld days", (long long)-p->days_left);
  else snprintf(s, sizeof s, "due in %lld days", (long long)p->days_left);
  rb_str(r, o, "status", s);
}

static void plan_fields(struct rb *r, cJSON *o, const struct ph_monitoring_plan *p) {
  if (p->never_tested) {
    rb_na(r, o, "next_due", "%s", PH_NA(NO_STACK_TEST_ON_RECORD));
    rb_na(r, o, "days_left", "%s", PH_NA(NO_STACK_TEST_ON_RECORD));
  } else {
    rb_str(r, o, "next_due", p->due);
    rb_int(r, o, "days_left", p->days_left);
  }
  rb_bool(r, o, "overdue", p->overdue);
  rb_bool(r, o, "never_tested", p->never_tested);
  plan_status(r, o, p);
}

int rb_ent_monitoring(struct rb *r, const struct ph_hub_ent *e, cJSON *scope, struct ph_monitoring_plan *p) {
  int rc = ph_monitoring_plan(r->db, r->env->refs->cfg, r->tz, r->park->id, e->id, r->now, p, r->err);
  if (rc) return rc;
  cJSON *mo = rb_obj(r, scope, "monitoring");
  rb_str(r, mo, "as_of", p->today);
  rb_int(r, mo, "interval_days", p->interval_days);
  plan_fields(r, mo, p);
  cJSON *rows = rb_arr(r, mo, "stacks");
  for (int i = 0; i < p->nstacks; i++) {
    const struct ph_plan_stack *s = &p->stacks[i];
    cJSON *o = rb_row(r, rows);
    rb_str(r, o, "point", s->point);
    rb_str(r, o, "last_test", s->last_test);
    rb_str(r, o, "next_due", s->due);
    rb_int(r, o, "days_left", s->days_left);
    rb_bool(r, o, "overdue", s->overdue);
  }
  return 0;
}

/* The enterprise's monitoring period and, per point, the hours of the
 * year it covers and how many of them the plant was stopped or starting
 * up / shutting down (monitoring.h). */
int rb_ent_monitoring_period(struct rb *r, const struct ph_hub_ent *e, cJSON *scope) {
  struct ph_monitoring_window w;
  int64_t closed = 0;
  int rc = ph_monitoring_ent_window(r->db, e, r->tz, r->park->id, &w, r->err);
  if (!rc) rc = ph_cems_closed_until(r->db, &closed, r->err);
  if (rc) return rc;
  int64_t to = closed ? ph_tz_hour_start(r->tz, closed) : r->from;
  if (to > r->to) to = r->to;
  if (to < r->from) to = r->from;
  cJSON *mp = rb_obj(r, scope, "monitoring_period");
  rb_str(r, mp, "source", ph_mon_source_name(w.source));
  if (w.source == PH_MON_NONE) {
    rb_na(r, mp, "since", "%s", PH_NA(NOT_MONITORED_NO_SINCE));
    rb_na(r, mp, "until", "%s", PH_NA(NOT_MONITORED));
  } else {
    rb_time_at(r, mp, "since", w.since_ms);
    if (w.until_ms != PH_MON_OPEN) rb_time_at(r, mp, "until", w.until_ms);
    else rb_na(r, mp, "until", "%s", PH_NA(STILL_MONITORED));
  }
  int64_t lo, hi, year = ph_cems_count_hours(r->tz, r->from, r->to);
  ph_monitoring_clip(&w, r->from, to, &lo, &hi);
  int64_t mon = hi > lo ? ph_cems_count_hours(r->tz, lo, hi) : 0;
  rb_int(r, mp, "year_hours", year);
  rb_int(r, mp, "monitored_hours", mon);
  rb_num(r, mp, "monitored_share", year ? (double)mon / (double)year : 0);
  if (!ph_monitoring_overlaps(&w, r->from, r->to)) rb_str(r, mp, "status", PH_NA(NOT_MONITORED_IN_YEAR));
  else if (mon == 0) rb_str(r, mp, "status", "monitored from the date above; no hour of it has closed yet");
  else if (mon < year) rb_str(r, mp, "status", "monitored part of the year");
  else rb_str(r, mp, "status", "monitored the whole year");
  cJSON *rows = rb_arr(r, mp, "points");
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, REP_SQL_ENT_POINTS, -1, &q, NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return rb_db_fail(r, "listing points");
  }
  rb_bind_ent(q, r->park->id, e->id);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    char point[PH_ID_MAX + 1];
    snprintf(point, sizeof point, "%s", (const char *)sqlite3_column_text(q, 1));
    struct ph_monitoring_window pw;
    struct ph_monitoring_hours h;
    int e2 = ph_monitoring_window(r->db, e, r->tz, sqlite3_column_int64(q, 0), point, &pw, r->err);
    if (!e2)
      e2 = ph_monitoring_hours(r->db, r->tz, r->park->id, e->id, sqlite3_column_int64(q, 0), 0, &pw, r->from, to, &h,
                               r->err);
    if (e2) {
      sqlite3_finalize(q);
      return e2;
    }
    cJSON *o = rb_row(r, rows);
    rb_str(r, o, "point", point);
    rb_str(r, o, "source", ph_mon_source_name(pw.source));
    if (pw.source != PH_MON_NONE) rb_time_at(r, o, "since", pw.since_ms);
    else rb_na(r, o, "since", "%s", PH_NA(NOT_MONITORED));
    rb_int(r, o, "hours", h.hours);
    rb_int(r, o, "hours_stopped", h.stopped);
    rb_int(r, o, "hours_startup_shutdown", h.transition);
    rb_int(r, o, "days_stopped", h.days_stopped);
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : rb_db_fail(r, "listing points");
}

void rb_park_monitoring(struct rb *r, cJSON *scope, const struct ph_monitoring_plan *plans, int n) {
  cJSON *mo = rb_obj(r, scope, "monitoring");
  int overdue = 0;
  for (int i = 0; i < n; i++) overdue += plans[i].overdue;
  rb_str(r, mo, "as_of", n ? plans[0].today : "");
  rb_int(r, mo, "overdue_enterprises", overdue);
  cJSON *rows = rb_arr(r, mo, "enterprises");
  for (int i = 0; i < n; i++) {
    cJSON *o = rb_row(r, rows);
    rb_str(r, o, "enterprise", plans[i].ent);
    rb_int(r, o, "stacks", plans[i].nstacks);
    plan_fields(r, o, &plans[i]);
  }
}
