/*
 * kumo-api's JSON body validators: the body as the router parses it
 * (json_loadb, JSON_DECODE_ANY), then the server and flavor create
 * schemas at a microversion taken from the input, and the shared
 * v_ checks on the body as a value. Every refusal must be a 400 with a
 * message.
 */
#include "api/api.h"
#include "db/db.h"
#include "tests/fuzz/fuzz.h"

static void refused_well(const struct api_req *r, int rc)
{
	if (rc == 0 && r->err != ERR_NONE)
		abort();
	if (rc != 0 && (api_err_status(r->err) != 400 || r->err_msg[0] == '\0'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_req r;
	struct server_create sc;
	struct db_flavor fl;
	char name[256];
	int64_t n;
	bool b;
	json_t *body;
	int mv;

	if (size < 2)
		return 0;
	mv = API_MV_MIN + data[0] % (API_MV_MAX - API_MV_MIN + 1);
	body = json_loadb((const char *)data + 2, size - 2, JSON_DECODE_ANY, NULL);
	if (body == NULL)
		return 0;
	memset(&r, 0, sizeof r);
	switch (data[1] % 5) {
	case 0:
		refused_well(&r, servers_validate_create(&r, body, mv, &sc));
		servers_guest_free(&sc.guest);
		break;
	case 1:
		memset(&fl, 0, sizeof fl);
		refused_well(&r, flavors_validate_create(&r, body, mv, &fl));
		break;
	case 2:
		refused_well(&r, v_name(&r, "name", body, name, sizeof name));
		break;
	case 3:
		refused_well(&r, v_int_param(&r, "limit", body, 0, INT32_MAX, &n));
		break;
	default:
		refused_well(&r, v_bool_param(&r, "all_tenants", body, &b));
		break;
	}
	json_decref(body);
	return 0;
}
