/* na_reasons.h — every reason a figure of the hub is "not available": the
 * one table of them (issue #18; session 8: never a 0 for missing data, the
 * true reason instead). The limit tables (common/limits.c), the domain
 * figures (hub/domain/) and the annual report (hub/report/) take their
 * reasons from here and from nowhere else, so that the report's words
 * (hub/report/report_words.c) can be checked against the whole list
 * (tests/unit/test_hub_report_words.c: each has a zh-CN entry).
 *
 * Each entry is the English text, which is also its key in the words
 * tables (as gettext's msgid). Parts that vary are "%s" only, numbers
 * formatted by the caller, so that a translation can put them where its
 * language wants them; a reason may hold another reason in a "%s" (it is
 * translated in turn).
 *
 * Threads: any (constant). Memory: static strings.
 */
#ifndef PARKHUB_NA_REASONS_H
#define PARKHUB_NA_REASONS_H

#define PH_NA_REASONS(X)                                                                                            \
  /* ---- generic, and the joins of several reasons ---- */                                                        \
  X(NOT_AVAILABLE, "not available")                                                                                \
  X(JOIN, "%s; %s")                                                                                                \
  X(AT, "%s: %s") /* a point (kept as it is) and its reason */                                                     \
  X(INCOMPLETE, "incomplete: %s")                                                                                  \
  /* ---- limits (common/limits.c, hub/domain/water.c, report_compliance.c, report_inventory.c) ---- */            \
  X(NO_LIMIT, "no limit")                                                                                          \
  X(NO_VERIFIED_LIMIT, "no verified limit")                                                                        \
  X(LIMIT_NOT_IN_FORCE, "not in force")                                                                            \
  X(STANDARD_NOT_LOADED, "standard not loaded")                                                                    \
  X(STANDARD_X_NOT_LOADED, "standard %s is not loaded")                                                            \
  X(STANDARD_X_NOT_LOADED_CFG, "standard %s is not loaded (hub config: limit_files)")                              \
  X(NO_PCDD_F_LIMIT_ON_DATE, "no PCDD/F limit in force on that date")                                              \
  X(NO_LIMIT_ANY_ENT, "no enterprise's standard sets a limit for it in the year")                                  \
  X(NO_LIMIT_THE_ENT, "the enterprise's standard sets no limit for it in the year")                                \
  X(LIMIT_RANGE, "%s to %s %s") /* lowest, highest, unit */                                                        \
  X(LIMIT_DIFFERS, "differs between enterprises: %s")                                                              \
  X(LIMIT_CHANGED, "changed during the year: %s")                                                                  \
  X(LIMIT_A_RANGE, "a range: %s to %s")                                                                            \
  /* ---- monitoring periods and compliance (hub/domain/compliance.c, report_compliance.c) ---- */                 \
  X(NOT_MONITORED_IN_PERIOD, "not monitored in the period (no data and no configured monitoring_since)")           \
  X(STOPPED_EVERY_HOUR, "the plant was stopped in every monitored hour")                                           \
  X(NO_CLOSED_HOUR, "no closed hour in the monitoring period yet")                                                 \
  X(NO_VALID_HOURLY_MEAN, "no valid hourly mean yet")                                                              \
  X(NO_VALID_DAILY_MEAN, "no valid daily mean yet")                                                                \
  X(NO_LIMIT_HOURLY_MEANS, "no limit in force for the valid hourly means")                                         \
  X(NO_LIMIT_DAILY_MEANS, "no limit in force for the valid daily means")                                           \
  X(NO_VALID_MEAN_WITH_LIMIT, "no valid mean with a limit")                                                        \
  X(NO_CONTINUOUS_WITH_LIMIT_X, "no pollutant with a limit in %s is measured continuously")                        \
  X(NO_CONTINUOUS_WITH_LIMIT_PARK, "no pollutant with a limit is measured continuously in the park")               \
  /* ---- emitted mass (hub/domain/emission_mass.c, report_mass.c) ---- */                                         \
  X(NOT_MEASURED, "not measured")                                                                                  \
  X(NO_HOUR_CONC_AND_FLOW, "no hour with both a valid concentration and a valid flow")                             \
  X(NO_CONTINUOUS_CONCENTRATION, "no continuously measured pollutant concentration on record")                     \
  /* ---- the report's head and monitoring plan (report_json.c, report_monitoring.c) ---- */                       \
  X(CEMS_NOT_PAST_YEAR_START, "the CEMS tables are not processed past the start of the year")                      \
  X(CEMS_NO_HOUR_YET, "the hub has not processed any CEMS hour yet")                                               \
  X(NO_STACK_TEST_ON_RECORD, "no stack test on record")                                                            \
  X(NOT_MONITORED_NO_SINCE, "not monitored: no data and no configured monitoring_since")                           \
  X(NOT_MONITORED, "not monitored")                                                                                \
  X(STILL_MONITORED, "still monitored")                                                                            \
  X(NOT_MONITORED_IN_YEAR, "not monitored in the year")                                                            \
  /* ---- PCDD/F inventory (hub/domain/inventory.c, report_inventory.c) ---- */                                     \
  X(NO_TOOLKIT_CLASS, "no UNEP Toolkit class configured")                                                          \
  X(NO_TOOLKIT_CLASS_FOR, "no UNEP Toolkit class configured for %s to %s")                                         \
  X(CLASS_X_NOT_IN_TABLE, "class %s is not in the factor table %s")                                                \
  X(CLASS_X_NO_AIR_FACTOR, "class %s has no air factor (ND) for %s to %s")                                         \
  X(CLASS_X_NO_RESIDUE_FACTOR, "class %s has no residue factor (ND) for %s to %s")                                 \
  X(CLASS_NOT_IN_TABLE, "class not in the factor table")                                                           \
  X(NO_CLASS, "no class")                                                                                          \
  X(NO_FACTOR, "no factor")                                                                                        \
  X(ND_NO_FACTOR, "ND (no factor)")                                                                                \
  X(NO_FACTOR_PART_OF_YEAR, "no factor for part of the year")                                                      \
  X(NO_LEDGER_OF_BASIS, "no material (weighbridge) record of the factor's basis in the year")                      \
  X(NO_STACK_TEST_IN_YEAR, "no stack test in the year")                                                            \
  X(NO_MONITORED_HOUR_CLOSED, "no hour of the monitoring period has closed yet")                                   \
  X(NO_VALID_FLOW_HOUR, "no valid flow hour in the monitored period")                                              \
  X(NO_TEST_NO_FLOW, "no stack test and no flow on a PCDD/F stack in the year")                                    \
  X(A_STACK_HAS_NO_FIGURE, "a PCDD/F stack has no figure (see its row)")                                           \
  X(MONITORED_DAYS, "monitored %s of %s days (share %s < %s)")                                                     \
  X(MEASURED_ESTIMATED, "measured: %s; estimated: %s")                                                             \
  X(NO_MEASURED_FIGURE, "no measured figure")                                                                      \
  X(NO_BASELINE, "no baseline configured")                                                                         \
  X(NO_BASELINE_FIGURE, "no figure for the baseline year")                                                         \
  X(BASELINE_X_NO_FIGURE, "baseline year %s has neither a complete measured figure nor an estimated one")          \
  X(BASELINE_IS_CONFIGURED, "the baseline is a configured figure")                                                 \
  X(NEEDS_BASELINE_AND_CURRENT, "needs both the baseline and the current figure")                                  \
  X(NEEDS_MEASURED_BOTH_YEARS, "needs complete measured figures in both years")                                    \
  X(NEEDS_ESTIMATED_BOTH_YEARS, "needs estimated air releases in both years")                                      \
  X(ENTS_WITHOUT_FIGURE, "%s of %s enterprises have no such figure (see their rows)")                              \
  /* notes beside a figure that say what is missing (report_inventory.c) */                                        \
  X(STACK_TESTS_LISTED, "%s: the first %s of %s tests are listed (all are used)")                                  \
  X(BASELINE_X_NO_LEDGER, "baseline year %s has no material (weighbridge) record: its estimate is 0 from 0 t")      \
  /* ---- material balance and indicators (hub/domain/indicators.c, report_indicators.c) ---- */                   \
  X(NO_BASELINE_YEAR, "no baseline year configured")                                                               \
  X(ONE_ENT_NO_BASELINE_YEAR, "%s enterprise has no baseline year")                                                \
  X(ENTS_NO_BASELINE_YEAR, "%s enterprises have no baseline year")                                                 \
  X(NO_MATERIAL_BASELINE_YEAR, "no material record in the baseline year")                                          \
  X(NO_MATERIAL_BASELINE_YEARS, "no material record in the baseline years")                                        \
  X(NO_PRODUCT_BASELINE_YEAR, "no product in the baseline year")                                                   \
  X(NO_PRODUCT_BASELINE_YEARS, "no product in the baseline years")                                                 \
  X(NO_LEDGER_IN_YEAR, "no material (weighbridge) record in the year")                                             \
  X(NO_DATA_IN_YEAR, "no data in the year")                                                                        \
  X(NO_DATA_IN_BASELINE_YEAR, "no data in the baseline year")                                                      \
  X(NO_PRODUCT_WEIGHED, "no product weighed in the period")                                                        \
  X(NO_COPPER_IN_FEED, "no copper in feed")                                                                        \
  X(NEEDS_BOTH_FIGURES, "needs both figures")                                                                      \
  X(BASELINE_FIGURE_ZERO, "the baseline figure is 0")                                                              \
  /* ---- water outlets (hub/domain/water.c, report_water.c) ---- */                                               \
  X(NO_VALID_DAY_20H, "no valid day (20 valid hours)")                                                             \
  X(NO_VALID_HOUR, "no valid hour")                                                                                \
  X(NO_VALID_DAY, "no valid day")                                                                                  \
  X(NOT_MG_PER_L, "not a concentration in mg/L")                                                                   \
  X(NO_FLOW_AT_OUTLET, "no flow (w_flow) at the outlet")                                                           \
  X(NO_FLOW_SERIES_AT_OUTLET, "no flow (w_flow) series at the outlet")                                             \
  X(OUTLETS_WITHOUT_FLOW, "%s of %s outlets have no flow series")                                                  \
  X(NO_VERIFIED_LIMIT_ANY_OUTLET, "no verified limit applied at any outlet")                                       \
  X(OUTLETS_WITHOUT_LOAD, "%s of %s outlets have no load figure")                                                  \
  X(NO_LOAD_FIGURE, "no load figure (no flow, or not a concentration in mg/L)")                                    \
  X(NO_WATER_OUTLET_CONFIGURED, "no water outlet configured (point_media with medium water)")                      \
  X(NO_WATER_OUTLET_IN_PARK, "no water outlet configured in the park")                                             \
  /* ---- an empty table in the report (report_html_sections.c) ---- */                                            \
  X(NO_DATA, "no data")                                                                                            \
  X(NO_WATER_OUTLET, "no water outlet")                                                                            \
  X(NO_WATER_POLLUTANT, "no water pollutant on record")                                                            \
  X(NO_POINT, "no point on record")                                                                                \
  X(NO_PCDD_F_STACK, "no PCDD/F stack on record in the year")                                                      \
  X(NO_PART_OF_YEAR, "no part of the year")                                                                        \
  X(NO_ENTERPRISE, "no enterprise")                                                                                \
  X(NO_INDICATOR, "no indicator")                                                                                  \
  X(NO_MATERIAL_IN_YEAR, "no material record in the year")                                                        \
  /* ---- the region report (hub/report/report_region.c) ---- */                                                   \
  X(REGION_PARKS_WITHOUT_FIGURE, "not available for park(s) %s (see each park's own figure)")                     \
  X(REGION_NO_PARK_HAS_FIGURE, "no park has the figure")                                                           \
  X(REGION_NO_HOUR_WITH_LIMIT, "no valid hour with a limit in any of the parks")                                   \
  X(REGION_NO_DAY_WITH_LIMIT, "no valid day with a limit in any of the parks")                                     \
  /* ---- the park summary (hub/api/api_summary.c) ---- */                                                         \
  X(NOT_MONITORED_NO_DATA, "not monitored (no data and no configured monitoring_since)")                            \
  X(NOTHING_EXPECTED, "nothing expected in the period")                                                            \
  X(NA_FOR_N_OF_M_ENTS, "not available for %s of %s enterprises (see each one's value_na)")

enum ph_na_reason {
#define PH_NA_ENUM(id, text) PH_NA_##id,
  PH_NA_REASONS(PH_NA_ENUM)
#undef PH_NA_ENUM
      PH_NA_COUNT
};

/* The English text of each reason, by enum ph_na_reason. */
extern const char *const ph_na_reasons[PH_NA_COUNT];

/* The text of reason PH_NA_<id>: PH_NA(NO_LIMIT) is "no limit". */
#define PH_NA(id) (ph_na_reasons[PH_NA_##id])

#endif
