/* test_agent_mqttlib.c — mqttlib.h: the build asked for is loaded and fully
 * resolved, opening again is idempotent, and a second build is refused
 * (inv. 1). Criterion runs each Test in a process of its own, so each one
 * starts with nothing loaded. */
#include <criterion/criterion.h>
#include <string.h>

#include "publish/mqttlib.h"

static void expect_complete(const struct ph_mqttlib *m)
{
	cr_assert(m->global_init && m->create && m->set_callbacks && m->connect && m->disconnect && m->is_connected &&
		  m->subscribe && m->send && m->wait && m->free_message && m->free && m->destroy);
}

Test(mqttlib, plain_build_loads_and_resolves)
{
	const struct ph_mqttlib *m = NULL, *again = NULL;
	struct ph_err err = {0};

	cr_assert_eq(ph_mqttlib_open(false, &m, &err), 0, "%s", err.msg);
	cr_assert_str_eq(m->soname, PH_MQTTLIB_PLAIN);
	cr_assert_not(m->tls);
	expect_complete(m);
	cr_assert_eq(ph_mqttlib_open(false, &again, &err), 0, "%s", err.msg);
	cr_assert_eq(again, m, "opening the same build again returns the same table");
}

Test(mqttlib, tls_build_loads_and_resolves)
{
	const struct ph_mqttlib *m = NULL;
	struct ph_err err = {0};

	cr_assert_eq(ph_mqttlib_open(true, &m, &err), 0, "%s", err.msg);
	cr_assert_str_eq(m->soname, PH_MQTTLIB_TLS);
	cr_assert(m->tls);
	expect_complete(m);
}

Test(mqttlib, a_second_build_is_refused)
{
	const struct ph_mqttlib *m = NULL, *other = NULL;
	struct ph_err err = {0};

	cr_assert_eq(ph_mqttlib_open(false, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(ph_mqttlib_open(true, &other, &err), PH_EINVAL);
	cr_assert_null(other, "no table handed out");
	cr_assert(strstr(err.msg, PH_MQTTLIB_PLAIN) && strstr(err.msg, "TLS"), "%s", err.msg);
}
