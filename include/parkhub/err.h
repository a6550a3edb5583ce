/* err.h — error codes shared by every parkhub module.
 *
 * Functions return 0 on success or a negative PH_E* code. Where a person
 * must be told why (config, batch validation), a struct ph_err carries the
 * code and a message with the context (file, JSON path, key, value).
 * Each distinct refusal of outside input has its own code so it can be
 * counted per reason.
 */
#ifndef PARKHUB_ERR_H
#define PARKHUB_ERR_H

#include <stddef.h>

#define PH_ERRORS(X)                                                          \
  /* generic */                                                               \
  X(PH_ENOMEM,       -1,  "out of memory")                                    \
  X(PH_EINVAL,       -2,  "invalid argument")                                 \
  X(PH_EIO,          -3,  "I/O error")                                        \
  X(PH_ENOTFOUND,    -4,  "not found")                                        \
  X(PH_EFULL,        -5,  "full")                                             \
  X(PH_EDB,          -6,  "database error")                                   \
  X(PH_EMQTT,        -7,  "MQTT error")                                       \
  X(PH_ECONFIG,      -8,  "invalid configuration")                            \
  X(PH_ETIMEOUT,     -9,  "timed out")                                        \
  X(PH_ECLOSED,      -10, "closed")                                           \
  X(PH_EAGAIN,       -11, "try again")                                        \
  X(PH_EALREADY,     -12, "already done")                                     \
  /* refusals of outside input: one code per reason (counted per reason) */  \
  X(PH_EJSON,        -20, "not valid JSON")                                   \
  X(PH_ETOOLARGE,    -21, "payload too large")                                \
  X(PH_EVERSION,     -22, "unsupported version")                              \
  X(PH_EMISSING,     -23, "required field missing")                           \
  X(PH_ETYPE,        -24, "wrong type")                                       \
  X(PH_EUNKNOWNKEY,  -25, "unknown field")                                    \
  X(PH_EBADID,       -26, "bad identifier")                                   \
  X(PH_ESEQ,         -27, "bad epoch/seq/oldest")                             \
  X(PH_ETIME,        -28, "bad timestamp")                                    \
  X(PH_ESKEW,        -29, "timestamp outside the allowed skew")               \
  X(PH_EEMPTY,       -30, "no records")                                       \
  X(PH_ETOOMANY,     -31, "too many records or values")                       \
  X(PH_EMETRIC,      -32, "unknown metric")                                   \
  X(PH_EKIND,        -33, "metric or record of the wrong kind for this batch")\
  X(PH_ENONFINITE,   -34, "value is NaN or infinite")                         \
  X(PH_ERANGE,       -35, "value outside its plausible range")                \
  X(PH_EFLAG,        -36, "bad data flag")                                    \
  X(PH_EENUM,        -37, "value not one of the allowed words")               \
  X(PH_ESTRLEN,      -38, "string too long")                                  \
  X(PH_ETOPIC,       -39, "bad topic")                                        \
  X(PH_EIDENTITY,    -40, "identity mismatch")                             \
  /* HJ 212 and Modbus sources */                                             \
  X(PH_EFRAME,       -41, "bad packet framing")                               \
  X(PH_ECRC,         -42, "CRC mismatch")                                     \
  X(PH_EPASSWORD,    -43, "wrong access password")                            \
  X(PH_ECOMM,        -44, "communication fault")                              \
  /* refusals that need the stream's state (the hub's writer) */              \
  X(PH_ESEQAHEAD,    -45, "seq or oldest further ahead than an outbox holds")

enum ph_errcode {
#define PH_ERR_ENUM(name, val, text) name = val,
  PH_ERRORS(PH_ERR_ENUM)
#undef PH_ERR_ENUM
};

#define PH_ERR_MSG_MAX 256

struct ph_err {
  int code;
  char msg[PH_ERR_MSG_MAX];
};

/* Text for a code; never NULL ("unknown error" for codes not in the table). */
const char *ph_strerror(int code);
/* Symbolic name of a code ("PH_ERANGE"), or NULL when unknown. */
const char *ph_errname(int code);
/* Reverse of ph_errname; 0 when the name is unknown. */
int ph_errcode_by_name(const char *name);

/* Sets err (may be NULL) and returns code, so callers can `return ph_fail(...)`. */
int ph_fail(struct ph_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ph_err_clear(struct ph_err *err);

#endif
