/* na_reasons.c — the texts of the "not available" reasons (na_reasons.h),
 * one array built from the one list. Callers: common/limits.c, hub/domain/,
 * hub/report/, tests. Threads: any (constant). Owns nothing. */
#include "parkhub/na_reasons.h"

const char *const ph_na_reasons[PH_NA_COUNT] = {
#define PH_NA_TEXT(id, text) [PH_NA_##id] = text,
    PH_NA_REASONS(PH_NA_TEXT)
#undef PH_NA_TEXT
};
