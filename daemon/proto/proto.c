#include "proto.h"

#include <stdio.h>
#include <string.h>

extern const struct evd_proto evd_proto_echo;
extern const struct evd_proto evd_proto_http;
extern const struct evd_proto evd_proto_resp;
extern const struct evd_proto evd_proto_zmtp;

const struct evd_proto *const evd_protos[] = {
	&evd_proto_echo,
	&evd_proto_http,
	&evd_proto_resp,
	&evd_proto_zmtp,
	NULL,
};

const struct evd_proto *proto_find(const char *name)
{
	for (size_t i = 0; evd_protos[i]; i++)
		if (strcmp(evd_protos[i]->name, name) == 0)
			return evd_protos[i];
	return NULL;
}

const char *proto_names(void)
{
	static char list[128];

	if (!list[0]) {
		size_t used = 0;
		for (size_t i = 0; evd_protos[i] && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s%s", i ? ", " : "",
						 evd_protos[i]->name);
	}
	return list;
}
