#include <stdio.h>
#include <string.h>

#include "../model.h"

extern const struct evd_model evd_model_iterative;
extern const struct evd_model evd_model_select;
extern const struct evd_model evd_model_poll;
extern const struct evd_model evd_model_epoll;
extern const struct evd_model evd_model_fork;
extern const struct evd_model evd_model_thread;
extern const struct evd_model evd_model_prefork;
extern const struct evd_model evd_model_prethread;
extern const struct evd_model evd_model_select_prethread;
extern const struct evd_model evd_model_async;
extern const struct evd_model evd_model_reuseport;
extern const struct evd_model evd_model_uring;

const struct evd_model *const evd_models[] = {
	&evd_model_iterative,
	&evd_model_select,
	&evd_model_poll,
	&evd_model_epoll,
	&evd_model_fork,
	&evd_model_thread,
	&evd_model_prefork,
	&evd_model_prethread,
	&evd_model_select_prethread,
	&evd_model_async,
	&evd_model_reuseport,
	&evd_model_uring,
	NULL,
};

const struct evd_model *model_find(const char *name)
{
	for (size_t i = 0; evd_models[i]; i++)
		if (strcmp(evd_models[i]->name, name) == 0)
			return evd_models[i];
	return NULL;
}

const char *model_names(void)
{
	static char list[256];

	if (!list[0]) {
		size_t used = 0;
		for (size_t i = 0; evd_models[i] && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s%s", i ? ", " : "",
						 evd_models[i]->name);
	}
	return list;
}

unsigned model_one_slot(const struct config *cfg)
{
	(void)cfg;
	return 1;
}

void model_list_with(unsigned flags, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; evd_models[i] && used < len; i++)
		if ((evd_models[i]->flags & flags) == flags)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "",
						 evd_models[i]->name);
}
