/*
 * kumo-api's JSON body validators: the body as the router parses it
 * (json_loadb, JSON_DECODE_ANY), then the server, flavor and keypair
 * create schemas at a microversion taken from the input, Glance's image
 * create, the quota_set of an update, a server action's body (Nova's
 * action_peek and each action's schema), and the shared v_ checks on the
 * body as a value. Every refusal must be a 400 with a message; what is
 * taken must fit its row (NUL-terminated, as the columns' C strings).
 */
#include "api/api.h"
#include "db/db.h"
#include "tests/fuzz/fuzz.h"

/* A refusal is `status` (or 400) with a message; a pass sets no error. */
static void refused_as(const struct api_req *r, int rc, int status)
{
	int st = api_err_status(r->err);

	if (rc == 0 && r->err != ERR_NONE)
		abort();
	if (rc != 0 && ((st != 400 && st != status) || r->err_msg[0] == '\0'))
		abort();
}

static void refused_well(const struct api_req *r, int rc)
{
	refused_as(r, rc, 400);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_req r;
	struct server_create sc;
	struct db_flavor fl;
	struct db_image img;
	struct db_keypair kp;
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
	r.mv = mv;
	str_copy(r.user_id, "fuzz-user", sizeof r.user_id);
	switch (data[1] % 9) {
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
	case 5:
		memset(&img, 0, sizeof img);
		/* Glance: a read-only attribute given is 403 */
		refused_as(&r, images_validate_create(&r, body, &img), 403);
		if (memchr(img.name, '\0', sizeof img.name) == NULL ||
		    memchr(img.properties, '\0', sizeof img.properties) == NULL)
			abort();
		break;
	case 6:
		refused_well(&r, keypairs_validate_create(&r, body, &kp, &b));
		if (memchr(kp.name, '\0', sizeof kp.name) == NULL ||
		    memchr(kp.public_key, '\0', sizeof kp.public_key) == NULL)
			abort();
		break;
	case 7:
		refused_well(&r, quotas_validate_update(&r, body));
		break;
	case 8:
		r.json_in = body;
		refused_well(&r, servers_action_validate(&r));
		break;
	default:
		refused_well(&r, v_bool_param(&r, "all_tenants", body, &b));
		break;
	}
	json_decref(body);
	return 0;
}
