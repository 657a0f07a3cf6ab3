/*
 * /v2.1/os-migrations (admin): kumo neither resizes nor migrates servers
 * yet, so there are no migration records; Nova's answer for a cloud
 * without any.
 */
#include "api/api.h"

enum api_rc migrations_list(struct api_req *r)
{
	return api_reply(r, 200, json_pack("{s:[]}", "migrations"));
}
