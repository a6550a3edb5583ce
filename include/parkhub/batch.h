/* batch.h — the event batch of DESIGN.md: model, decode + validation, encode.
 *
 *   {"v":1, "agent":"gw-01", "epoch":E, "seq":N, "oldest":M, "sent":"…Z",
 *    "records":[ {"ts","point","values":{…},"flags":{…},"state"} … ]}
 *
 * A batch holds records of one kind (the topic's …/ev/{kind}). Process and
 * emission records carry `values` (catalogue metrics in canonical units) and
 * optional `flags` (HJ 212 letters); process records may carry `state`.
 * Material records carry material, dir, qty_t and optional lot, supplier,
 * attrs. A material code is the plant's own: any id is accepted (the hub's
 * park registry, materials.h, says what it is; an undeclared code is
 * stored as unclassified), except a catalogue code of another kind.
 *
 * Memory: a struct ph_batch is caller-owned (init/fini); decode and
 * add_record reuse its arrays, growing them only up to the limits below, so
 * decoding a stream of batches allocates nothing once warmed up. The JSON
 * tokens live in a struct ph_batch_scratch that the decoding thread owns
 * (one per thread, not per batch: the hub's queue holds many batches) and
 * lends through ph_decode_opts.scratch.
 *
 * Invariants:
 *  1. decode either returns 0 with every record valid, or a refusal code
 *     with err->msg naming the JSON path; it never stores a partial record.
 *  2. when decode refuses but `header_ok` is set, agent/epoch/seq/oldest are
 *     valid, so the hub can still ack and log the refusal against the agent.
 *  3. every value in a decoded batch is finite, within its metric's
 *     plausible range, and of a metric whose kind is the batch's kind. A
 *     material record's code is an id that is not a catalogue metric of
 *     another kind; its qty_t is finite and within the catalogue material's
 *     range, or 0..PH_MATERIAL_QTY_MAX t for a code the catalogue lacks.
 *  4. the text must be strict JSON (RFC 8259): a bad number or literal
 *     (`01`, `1.`, `+1`, `tru`, `NaN`), a missing or extra separator, a raw
 *     control character or a lone surrogate in a string, nesting deeper
 *     than PH_JSON_MAX_DEPTH, or a duplicate key in any object (attrs
 *     included) is PH_EJSON, before any other check.
 */
#ifndef PARKHUB_BATCH_H
#define PARKHUB_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parkhub/catalog.h"
#include "parkhub/err.h"
#include "parkhub/ids.h"
#include "parkhub/kind.h"

#define PH_BATCH_VERSION 1
#define PH_BATCH_MAX_BYTES (256 * 1024)
/* The broker's max_packet_size: a batch of PH_BATCH_MAX_BYTES plus room for
 * the PUBLISH header and the longest topic (parkhub/v1/{park}/{ent}/{agent}/
 * ev/{kind}, ids of 64). The hub refuses a larger batch only after Paho has
 * read all of it into memory (Paho C 1.3.12 has no limit on what it reads,
 * and the hub speaks MQTT 3.1.1, which cannot tell the broker a maximum), so
 * the broker must refuse it first: deploy/production/make-park.sh,
 * deploy/demo.sh and the tests' broker (tests/support/broker.c) set
 * max_packet_size to this number; docs/security.md says why. */
#define PH_MQTT_MAX_PACKET_BYTES (PH_BATCH_MAX_BYTES + 1024)
#define PH_BATCH_MAX_RECORDS 1000
#define PH_RECORD_MAX_VALUES 64
#define PH_LOT_MAX 64
#define PH_SUPPLIER_MAX 128
#define PH_ATTRS_MAX 2048 /* bytes of attrs as compact JSON */
/* qty_t of a lot whose code the catalogue does not know: 0..this many t
 * (the catalogue's own materials allow 0..1000: a lorry or a railcar). */
#define PH_MATERIAL_QTY_MAX 1000.0
/* The agent's outbox.max_batches default: an agent holds at most this many
 * batches, so a seq further ahead of what the hub holds is not plausible
 * (the hub's parks[].enterprises[].max_seq_ahead defaults to it). */
#define PH_OUTBOX_MAX_BATCHES_DEFAULT 100000
#define PH_XSTR(x) PH_STR_(x)
#define PH_STR_(x) #x
#define PH_JSON_MAX_DEPTH 1000 /* nested arrays and objects (cJSON's limit, which applied before) */

/* HJ 212-2017 data flags; only N counts toward compliance averages. */
#define PH_FLAGS "NFMSDCTB"
bool ph_flag_valid(char f);

enum ph_state { PH_STATE_NONE, PH_STATE_RUNNING, PH_STATE_STARTUP, PH_STATE_SHUTDOWN, PH_STATE_STOPPED };
enum ph_dir { PH_DIR_IN, PH_DIR_OUT };

const char *ph_state_name(enum ph_state s); /* "" for NONE */
const char *ph_dir_name(enum ph_dir d);

struct ph_value {
  int32_t metric; /* catalogue index */
  char flag;      /* one of PH_FLAGS; 'N' when the record gave none */
  double v;
};

struct ph_record {
  int64_t ts_ms;
  char point[PH_ID_MAX + 1];
  /* process / emission */
  uint32_t value_off; /* first value in batch->values */
  uint16_t nvalues;
  enum ph_state state;
  /* material */
  char material[PH_ID_MAX + 1]; /* the material code: an id, in the catalogue or not */
  enum ph_dir dir;
  double qty_t;
  char lot[PH_LOT_MAX + 1];
  char supplier[PH_SUPPLIER_MAX + 1];
  int32_t attrs_off; /* offset of NUL-terminated JSON in batch->arena, or -1 */
};

struct ph_batch {
  int v;
  char agent[PH_ID_MAX + 1];
  int64_t epoch, seq, oldest;
  int64_t sent_ms;
  enum ph_kind kind;
  bool header_ok; /* inv. 2 */

  struct ph_record *records;
  size_t nrecords, records_cap;
  struct ph_value *values;
  size_t nvalues, values_cap;
  char *arena;
  size_t arena_len, arena_cap;
};

struct ph_decode_opts {
  const struct ph_catalog *cat; /* borrowed, required */
  enum ph_kind kind;            /* from the topic */
  int64_t now_ms;               /* 0: skip the time checks */
  int64_t max_future_ms;        /* a ts or sent later than now + this is PH_ESKEW */
  int64_t max_age_ms;           /* a ts earlier than now - this is PH_ESKEW; 0: no bound */
  size_t max_bytes;             /* 0: PH_BATCH_MAX_BYTES */
  size_t max_records;           /* 0: PH_BATCH_MAX_RECORDS */
  struct ph_batch_scratch *scratch; /* borrowed; NULL: a temporary one per call (allocates) */
  const char *skip_key;         /* agents' record lines: a top-level member of this name (their "kind"),
                                   decided by the caller, is passed over, at most once; NULL: none */
};

/* The decoder's token buffer (jsmn tokens), caller-owned: one per decoding
 * thread, reused for every batch it decodes. It grows to what the largest
 * text so far needed and never past max_bytes / 2 + 2 tokens of 20 bytes
 * (2.6 MB at the default limit; a valid JSON text of n bytes has at most
 * (n + 1) / 2 tokens), so in the steady state decoding allocates nothing. */
struct ph_batch_scratch {
  void *tok;  /* jsmntok_t[cap] */
  size_t cap; /* tokens */
};
void ph_batch_scratch_init(struct ph_batch_scratch *s);
void ph_batch_scratch_fini(struct ph_batch_scratch *s);

void ph_batch_init(struct ph_batch *b, enum ph_kind kind);
void ph_batch_fini(struct ph_batch *b);
/* Empties records and header, keeps the arrays for reuse. */
void ph_batch_reset(struct ph_batch *b, enum ph_kind kind);

/* buf (borrowed) need not be NUL-terminated; trailing white space and NUL
 * bytes after the JSON value are allowed. Returns 0 or a refusal code
 * (err.h); more than max_bytes is PH_ETOOLARGE, and so is a text that needs
 * more tokens than the scratch may hold (only invalid JSON can). */
int ph_batch_decode(const char *buf, size_t len, const struct ph_decode_opts *o,
                    struct ph_batch *b, struct ph_err *err);

/* Validates one record given as its JSON text (borrowed, len bytes, need
 * not be NUL-terminated; the same decoder and checks as a record of
 * ph_batch_decode) and appends it to b (of kind o->kind). On failure b is
 * unchanged (inv. 1). `where` prefixes err->msg, e.g. "line 17". */
int ph_batch_decode_record(struct ph_batch *b, const char *json, size_t len,
                           const struct ph_decode_opts *o, const char *where,
                           struct ph_err *err);

/* Copies r (and its n values; r->value_off is ignored) into b. attrs_json
 * (may be NULL) is copied into the arena. Values are not re-validated. */
int ph_batch_add_record(struct ph_batch *b, const struct ph_record *r,
                        const struct ph_value *vals, size_t n, const char *attrs_json);

/* Returns new: *out is a NUL-terminated compact JSON string (ph_free). */
int ph_batch_encode(const struct ph_batch *b, const struct ph_catalog *cat,
                    char **out, size_t *len);

/* Returns new: only the records array (the outbox stores this; the header
 * is added at publish time by ph_batch_wrap). */
int ph_batch_encode_records(const struct ph_batch *b, const struct ph_catalog *cat, char **out, size_t *len);

/* Composes a whole batch from its header fields and an encoded records
 * array (from ph_batch_encode_records) into buf. The header holds only ids,
 * integers and a timestamp, so it is formatted directly. PH_EFULL when cap
 * is short; PH_EINVAL on a bad agent id or time. */
int ph_batch_wrap(char *buf, size_t cap, const char *agent, int64_t epoch, int64_t seq, int64_t oldest,
                  int64_t sent_ms, const char *records, size_t len, size_t *out_len);

static inline const struct ph_value *ph_record_values(const struct ph_batch *b,
                                                      const struct ph_record *r) {
  return b->values + r->value_off;
}
static inline const char *ph_record_attrs(const struct ph_batch *b, const struct ph_record *r) {
  return r->attrs_off < 0 ? NULL : b->arena + r->attrs_off;
}

#endif
