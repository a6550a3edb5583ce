/* api_handlers.h — the HTTP API's data handlers, for the route table
 * (api_routes.c). Each fills r->out and returns the status; access, the
 * park and the format are settled before (api.c's dispatch). */
#ifndef PH_API_HANDLERS_H
#define PH_API_HANDLERS_H

struct api_req;

/* api_query.c */
int api_get_parks(struct api_req *r);
int api_get_enterprises(struct api_req *r);
int api_get_points(struct api_req *r);
/* api_series.c */
int api_get_series(struct api_req *r);
/* api_summary.c */
int api_get_summary(struct api_req *r);
/* api_alarms.c */
int api_get_alarms(struct api_req *r);
int api_post_ack(struct api_req *r);
int api_post_stack_test(struct api_req *r); /* api_stack_tests.c */
/* api_catalog.c (the dashboard's; their route lines go in api_routes.c:
 * "catalog" and "alarms/<star>/log") */
int api_get_catalog(struct api_req *r);
int api_get_alarm_log(struct api_req *r);
int api_get_report(struct api_req *r); /* api_report.c */
int api_get_region_report(struct api_req *r); /* api_report.c: across parks (API_RT_ACROSS) */
/* api_cems.c: CEMS means and exceedances */
int api_get_cems_hours(struct api_req *r);
int api_get_cems_days(struct api_req *r);
int api_get_cems_exceedances(struct api_req *r);
/* api_parks.c: across the parks a token covers (API_RT_ACROSS) */
int api_get_parks_summary(struct api_req *r);
int api_get_parks_exceedances(struct api_req *r);
int api_get_parks_alarms(struct api_req *r);

#endif
