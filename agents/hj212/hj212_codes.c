/* hj212_codes.c — the HJ 212 factor codes the agent knows (hj212.h):
 * for each HJ 212-2017 code of the catalogue's metrics (air Table B.2,
 * water Table B.1), its HJ/T 212-2005 code, its Chinese name, the unit the
 * standard gives its values and its -Cou (cumulative) values, and the
 * catalogue metric its -Cou becomes (only where the catalogue has the
 * quantity: the discharged water volume).
 *
 * Callers: hj212_map.c (resolving a packet's codes), hj212_dump.c and the
 * tests. Threads: any; the tables are constant.
 *
 * Sources (docs/hj212.md lists them with what each confirmed):
 *  [T]  HJ 212-2017 Tables B.1/B.2 as transcribed with the old (2005) codes
 *       in https://github.com/srdgame/lua-HJ212/blob/35025e90e5bce45a9eeb48ce819636a4dbed5473/hj212.csv
 *  [R]  /work/shared/reference/hj212-2017.md §1.9 (air codes, old codes, units;
 *       read from the standard)
 *  [B]  a data-logger maker's code lists, 2005 and 2017:
 *       https://github.com/lingkejia/bocon-operation-app/blob/378d6a72e5de242a6cc0e08a159ebb5ac6925451/src/lib/polcodeList05.js
 *       and src/lib/polcodeList17.js in the same repository
 *  [F]  real HJ/T 212-2005 captures whose -Cou/-Avg ratios fix the flow units
 *       (B01 L/s with Cou in m3; B02 m3/s; pollutant Cou in kg):
 *       https://github.com/xiaoyao9184/hj-t212-parser/blob/409d9a85ee017655070d2ae05c1af4d7535d491d/hj-t212-parser/src/test/resources/AllData/2016-08-24%2005.h212
 *
 * Invariants:
 *  1. a 2005 code is listed only where its 2005 unit is confirmed ([B] and,
 *     for flows and Cou, [F]); the water metals whose 2017 unit is ug/L
 *     (total Hg 020, Cd 022, Cr(VI) 024, As 026, Pb 027) have no 2005 entry:
 *     their 2005 unit could not be confirmed, and a wrong guess is a factor
 *     of 1000. A logger sending them is configured with "codes".
 *  2. 2005 and 2017 codes never collide (2017: a letter and 5 digits;
 *     2005: 2 or 3 characters), so a code names its own table.
 */
#include <string.h>

#include "hj212/hj212.h"

/* Units are written as the catalogue writes them (ASCII): ug/L, m3, degC. */
static const struct ph_hj212_factor factors[] = {
    /* water, HJ 212-2017 Table B.1 [T], 2005 units [B], flows [F] */
    {"w00000", "B01", "污水 (流量)", "L/s", "m3", "L/s", "w_volume"},
    {"w01001", "001", "pH值", "pH", NULL, "pH", NULL},
    {"w01010", NULL, "水温", "degC", NULL, NULL, NULL},
    {"w01012", "003", "悬浮物", "mg/L", "kg", "mg/L", NULL},
    {"w01018", "011", "化学需氧量", "mg/L", "kg", "mg/L", NULL},
    {"w20111", "020", "总汞", "ug/L", "g", NULL, NULL},
    {"w20115", "022", "总镉", "ug/L", "g", NULL, NULL},
    {"w20116", "023", "总铬", "mg/L", "kg", "mg/L", NULL},
    {"w20117", "024", "六价铬", "ug/L", "g", NULL, NULL},
    {"w20119", "026", "总砷", "ug/L", "g", NULL, NULL},
    {"w20120", "027", "总铅", "ug/L", "g", NULL, NULL},
    {"w20121", "028", "总镍", "mg/L", "kg", "mg/L", NULL},
    {"w20122", "029", "总铜", "mg/L", "kg", "mg/L", NULL},
    {"w20123", "030", "总锌", "mg/L", "kg", "mg/L", NULL},
    {"w21001", "065", "总氮", "mg/L", "kg", "mg/L", NULL},
    {"w21003", "060", "氨氮", "mg/L", "kg", "mg/L", NULL},
    {"w21011", "101", "总磷", "mg/L", "kg", "mg/L", NULL},
    {"w22001", "080", "石油类", "mg/L", "kg", "mg/L", NULL},
    /* air, HJ 212-2017 Table B.2 [R][T], 2005 units [B], B02 [F] */
    {"a00000", "B02", "废气 (流量)", "m3/s", "m3", "m3/s", NULL},
    {"a01011", "S02", "烟气流速", "m/s", NULL, "m/s", NULL},
    {"a01012", "S03", "烟气温度", "degC", NULL, "degC", NULL},
    {"a01013", "S08", "烟气压力", "kPa", NULL, "kPa", NULL},
    {"a01014", "S05", "烟气湿度", "%", NULL, "%", NULL},
    {"a19001", "S01", "氧气含量", "%", NULL, "%", NULL},
    {"a34013", "01", "烟尘", "mg/m3", "kg", "mg/m3", NULL},
    {"a21026", "02", "二氧化硫", "mg/m3", "kg", "mg/m3", NULL},
    {"a21002", "03", "氮氧化物", "mg/m3", "kg", "mg/m3", NULL},
    {"a21005", "04", "一氧化碳", "mg/m3", "kg", "mg/m3", NULL},
    {"a21018", "06", "氟化物", "mg/m3", "kg", "mg/m3", NULL},
    {"a21024", "08", "氯化氢", "mg/m3", "kg", "mg/m3", NULL},
    {"a34039", "14", "硫酸雾", "mg/m3", "kg", "mg/m3", NULL},
    {"a20043", "32", "铅及其化合物", "mg/m3", "kg", "mg/m3", NULL},
    {"a20025", "33", "镉及其化合物", "mg/m3", "kg", "mg/m3", NULL},
    {"a20091", "34", "锡及其化合物", "mg/m3", "kg", "mg/m3", NULL},
    {"a20007", NULL, "砷", "ng/m3", "g", NULL, NULL},
};

#define NFACTORS (sizeof factors / sizeof factors[0])

size_t ph_hj212_factor_count(void) { return NFACTORS; }

const struct ph_hj212_factor *ph_hj212_factor_at(size_t i) { return i < NFACTORS ? &factors[i] : NULL; }

const struct ph_hj212_factor *ph_hj212_factor_2017(const char *code) {
  for (size_t i = 0; i < NFACTORS; i++)
    if (strcmp(factors[i].code, code) == 0) return &factors[i];
  return NULL;
}

static const struct ph_hj212_factor *find_2005(const char *code, bool mapped) {
  for (size_t i = 0; i < NFACTORS; i++)
    if (factors[i].code2005 && strcmp(factors[i].code2005, code) == 0 && (factors[i].unit2005 != NULL) == mapped)
      return &factors[i];
  return NULL;
}

const struct ph_hj212_factor *ph_hj212_factor_2005(const char *code) { return find_2005(code, true); }

const struct ph_hj212_factor *ph_hj212_factor_2005_unmapped(const char *code) { return find_2005(code, false); }

bool ph_hj212_code_is_2017(const char *code) {
  if (strlen(code) != 6 || !((code[0] >= 'a' && code[0] <= 'z') || (code[0] >= 'A' && code[0] <= 'Z'))) return false;
  for (int i = 1; i < 6; i++)
    if (code[i] < '0' || code[i] > '9') return false;
  return true;
}

const char *ph_hj212_version_name(int v) {
  switch (v) {
  case PH_HJ212_V2005: return "HJ/T 212-2005";
  case PH_HJ212_V2017: return "HJ 212-2017";
  case PH_HJ212_V2025: return "HJ 212-2025";
  case PH_HJ212_V_AUTO: return "auto";
  }
  return "unknown version";
}

int ph_hj212_packet_version(const struct ph_hj212_packet *p, int configured) {
  if (configured != PH_HJ212_V_AUTO) return configured;
  if (p->flag < 0) return PH_HJ212_V2005; /* 2005 packets carry no Flag */
  switch (p->flag >> 2) {
  case 0: return PH_HJ212_V2005;
  case 1: return PH_HJ212_V2017;
  case 2: return PH_HJ212_V2025;
  }
  return PH_HJ212_V_UNKNOWN;
}
