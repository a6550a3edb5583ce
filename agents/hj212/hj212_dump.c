/* hj212_dump.c — `parkagent --hj212-dump FILE [--config agent.json]`: decodes
 * a capture of HJ 212 packets and prints, one JSON line each, the records
 * the agent would publish, and a "# " comment line for every packet it
 * would refuse or not publish, with the reason. For commissioning at a
 * site: capture what a logger sends (e.g. `socat -u TCP-LISTEN:9212,fork
 * CREATE:capture.bin`), then check MN, codes, units, flags and times
 * before pointing the logger at the agent.
 *
 * The capture is either the raw TCP byte stream (it holds CR LF) or text
 * with one packet per line, as logs and the standard print them (lines not
 * starting with "##" are skipped). With --config, the first "hj212"
 * source's loggers, codes, tz and password apply; without, points are
 * named after the MN and the zone is Asia/Shanghai. CRCs are accepted in
 * either form; one in the modbus-le form is pointed out.
 *
 * The output lines are records in the jsonl source's format (with "kind"),
 * so a dump can also be replayed through a jsonl source. Each packet is
 * read as its logger's "version" or its Flag says (HJ/T 212-2005, 2017,
 * 2025); the parts of a split message (PNUM/PNO) are assembled as the
 * source does and become one record when the last part is in; a code that
 * maps to no metric is named with the reason and the "codes" hint.
 *
 * Callers: main.c. Threads: the caller's. Owns: the file's bytes while it runs.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/agent_config.h"
#include "parkhub/alloc.h"
#include "hj212/hj212.h"
#include "parkhub/timefmt.h"

extern const struct ph_source_ops ph_src_hj212;
const struct ph_hj212_map *ph_src_hj212_map(const void *ctx, int *crc);

#define DUMP_MAX_FILE (64 * 1024 * 1024)

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 65536, n = 0;
  char *buf = ph_malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= DUMP_MAX_FILE) break;
      char *nb = ph_realloc(buf, cap * 2);
      if (!nb) {
        ph_free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    if (!r) break;
    n += r;
  }
  fclose(f);
  *len = n;
  return buf;
}

static void print_record(const struct ph_catalog *cat, const struct ph_hj212_out_rec *r, FILE *out) {
  char ts[PH_TIME_STRLEN];
  ph_time_format(r->r.ts_ms, ts, sizeof ts);
  cJSON *o = cJSON_CreateObject(), *vals, *flags;
  cJSON_AddStringToObject(o, "kind", ph_kind_name(r->kind));
  cJSON_AddStringToObject(o, "ts", ts);
  cJSON_AddStringToObject(o, "point", r->r.point);
  vals = cJSON_AddObjectToObject(o, "values");
  flags = cJSON_AddObjectToObject(o, "flags");
  for (int k = 0; k < r->r.nvalues; k++) {
    const char *code = ph_catalog_at(cat, (size_t)r->v[k].metric)->code;
    cJSON_AddNumberToObject(vals, code, r->v[k].v);
    char f[2] = {r->v[k].flag, 0};
    cJSON_AddStringToObject(flags, code, f);
  }
  char *s = cJSON_PrintUnformatted(o);
  if (s) fprintf(out, "%s\n", s);
  cJSON_free(s);
  cJSON_Delete(o);
}

struct dump {
  const struct ph_catalog *cat;
  const struct ph_hj212_map *map;
  bool configured;
  long packets, records, refused, other, held;
  struct ph_hj212_packet pkt, whole;
  struct ph_hj212_data data;
  struct ph_hj212_records recs;
  struct ph_hj212_asm as;
};

#define DUMP_SPLIT_BYTES (64 * 1024)

static void one_frame(struct dump *d, const char *seg, size_t len, bool le, FILE *out) {
  struct ph_err err = {0};
  long n = ++d->packets;
  if (le) fprintf(out, "# packet %ld: CRC in the CRC-16/MODBUS low-byte-first form: set \"crc\": \"modbus-le\"\n", n);
  if (ph_hj212_parse(seg, len, &d->pkt, &err) || ph_hj212_map_check(d->map, &d->pkt, !d->configured, &err)) {
    d->refused++;
    fprintf(out, "# packet %ld: refused (%s): %s\n", n, ph_errname(err.code), err.msg);
    return;
  }
  int cmd = ph_hj212_data_command(d->pkt.cn);
  if (cmd < 0 || !(d->map->commands & (1u << cmd))) {
    d->other++;
    fprintf(out, "# packet %ld: MN %s CN %d: not published%s\n", n, d->pkt.mn, d->pkt.cn,
            ph_hj212_wants_ack(&d->pkt) ? " (answered)" : "");
    return;
  }
  const struct ph_hj212_packet *msg = &d->pkt;
  if (d->pkt.pnum > 1) { /* a part of a split message */
    bool sup = false;
    int rc = ph_hj212_asm_add(&d->as, &d->pkt, 0, &d->whole, &sup, &err);
    if (sup) fprintf(out, "# packet %ld: an unfinished split message was dropped: this part starts another\n", n);
    if (rc < 0) {
      d->refused++;
      fprintf(out, "# packet %ld: MN %s CN %d part %d of %d refused (%s): %s\n", n, d->pkt.mn, d->pkt.cn, d->pkt.pno,
              d->pkt.pnum, ph_errname(rc), err.msg);
      return;
    }
    if (rc == PH_HJ212_ASM_HELD) {
      d->held++;
      fprintf(out, "# packet %ld: MN %s CN %d part %d of %d held until the message is whole%s\n", n, d->pkt.mn,
              d->pkt.cn, d->pkt.pno, d->pkt.pnum, ph_hj212_wants_ack(&d->pkt) ? " (answered)" : "");
      return;
    }
    fprintf(out, "# packet %ld: MN %s CN %d part %d of %d completes the split message\n", n, d->pkt.mn, d->pkt.cn,
            d->pkt.pno, d->pkt.pnum);
    msg = &d->whole;
  }
  if (ph_hj212_map_data(d->map, msg, &d->data, &err) || ph_hj212_map_records(d->map, msg, &d->data, 0, &d->recs, &err)) {
    d->refused++;
    fprintf(out, "# packet %ld: MN %s CN %d refused (%s): %s\n", n, msg->mn, msg->cn, ph_errname(err.code), err.msg);
    return;
  }
  if (d->recs.unknown)
    fprintf(out, "# packet %ld (%s): %d code%s mapped to no metric: %s (%s: %s); map them in \"codes\" or ignore them "
            "with null\n", n, ph_hj212_version_name(d->recs.version), d->recs.unknown, d->recs.unknown == 1 ? "" : "s",
            d->recs.unknown_list, d->recs.unknown_code, d->recs.unknown_why);
  if (d->recs.refused)
    fprintf(out, "# packet %ld: %d value%s left out, first: %s\n", n, d->recs.refused, d->recs.refused == 1 ? "" : "s",
            d->recs.first_refusal.msg);
  int printed = 0;
  for (int i = 0; i < d->recs.nrec; i++)
    if (d->recs.rec[i].r.nvalues) {
      print_record(d->cat, &d->recs.rec[i], out);
      d->records++;
      printed++;
    }
  if (!printed && !d->recs.unknown && !d->recs.refused) /* named, never silent */
    fprintf(out, "# packet %ld: MN %s CN %d: no value to publish (no -%s or -Cou of a mapped code)\n", n, msg->mn,
            msg->cn, msg->cn == 2011 ? "Rtd" : "Avg");
}

static void run(struct dump *d, struct ph_hj212_framer *f, const char *p, size_t len, FILE *out) {
  size_t i = 0;
  for (;;) {
    const char *seg;
    size_t sl;
    struct ph_err err = {0};
    int rc;
    while ((rc = ph_hj212_framer_next(f, &seg, &sl, &err)) != 0) {
      if (rc == 1) {
        one_frame(d, seg, sl, f->frame_crc_le, out);
      } else {
        d->packets++;
        d->refused++;
        fprintf(out, "# packet %ld: refused (%s): %s\n", d->packets, ph_errname(rc), err.msg);
      }
    }
    if (i == len) break;
    i += ph_hj212_framer_feed(f, p + i, len - i);
  }
  if (f->len) {
    d->refused++;
    fprintf(out, "# %zu bytes at the end: an incomplete packet\n", f->len);
  }
}

int ph_hj212_dump(const char *path, const struct ph_catalog *cat, const struct ph_agent_config *cfg, FILE *out,
                  struct ph_err *err) {
  static struct dump d;
  static struct ph_hj212_map own;
  memset(&d, 0, sizeof d);
  d.cat = cat;
  bool own_map = false;
  for (int i = 0; cfg && i < cfg->nsources && !d.map; i++)
    if (cfg->sources[i].ops == &ph_src_hj212) {
      d.map = ph_src_hj212_map(cfg->sources[i].ctx, NULL);
      d.configured = true;
    }
  if (!d.map) {
    int rc = ph_hj212_map_init(&own, cat, NULL, "Asia/Shanghai", NULL, err);
    if (rc) return rc;
    d.map = &own;
    own_map = true;
  }
  size_t len = 0;
  char *buf = read_all(path, &len);
  int rc = 0;
  struct ph_hj212_framer f;
  if (!buf) {
    rc = ph_fail(err, PH_EIO, "%s: cannot be read", path);
  } else if ((rc = ph_hj212_framer_init(&f, PH_HJ212_MAX_DATA, PH_HJ212_CRC_ANY))) {
    ph_fail(err, rc, "out of memory");
  } else if ((rc = ph_hj212_asm_init(&d.as, DUMP_SPLIT_BYTES, PH_HJ212_SPLIT_MAX_PARTS))) {
    ph_hj212_framer_fini(&f);
    ph_fail(err, rc, "out of memory");
  } else {
    if (memmem(buf, len, "\r\n", 2)) {
      run(&d, &f, buf, len, out);
    } else { /* text: one packet per line */
      char *line = buf, *end = buf + len;
      static char pk[PH_HJ212_MAX_DATA + 64];
      while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (n >= 2 && line[0] == '#' && line[1] == '#' && n + 2 <= sizeof pk) {
          memcpy(pk, line, n);
          memcpy(pk + n, "\r\n", 2);
          run(&d, &f, pk, n + 2, out);
          ph_hj212_framer_reset(&f);
        }
        line += n + 1;
      }
    }
    ph_hj212_framer_fini(&f);
    if (d.as.busy) {
      char missing[96] = "";
      size_t k = 0;
      for (int i = 0; i < d.as.pnum && k + 8 < sizeof missing; i++)
        if (!(d.as.got & (1ull << i))) k += (size_t)snprintf(missing + k, sizeof missing - k, "%s%d", k ? "," : "", i + 1);
      fprintf(out, "# split message MN %s CN %d: part(s) %s of %d missing at the end of the capture\n", d.as.mn,
              d.as.cn, missing, d.as.pnum);
    }
    ph_hj212_asm_fini(&d.as);
    fprintf(out, "# %ld packets: %ld records, %ld refused, %ld not published, %ld split parts held\n", d.packets,
            d.records, d.refused, d.other, d.held);
  }
  ph_free(buf);
  if (own_map) ph_hj212_map_fini(&own);
  return rc;
}
