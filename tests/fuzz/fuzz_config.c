/* libFuzzer target: the configuration reader (daemon/config_file.c) and
 * the value parsers behind it.  Any bytes may be a file: the parser must
 * not crash, read out of bounds or leak, whatever it reports.  Then the
 * property evd -t promises: the configuration it prints reads back without
 * an error, and prints the same again (quoting included).
 *
 * The models and protocols are stand-ins (config.c only looks them up by
 * name and reads their flags), so that the target links config*.c alone. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/config.h"
#include "../../daemon/config_int.h"
#include "../../daemon/model.h"
#include "../../daemon/proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stand-ins for models.c and proto.c -------------------------------- */

static const struct evd_model fake_models[] = {
	{ .name = "epoll", .flags = 0 },
	{ .name = "prefork", .flags = MODEL_BLOCKING | MODEL_USES_WORKERS |
				     MODEL_PREFORK_KEYS | MODEL_PINNABLE },
	{ .name = "reuseport", .flags = MODEL_USES_WORKERS | MODEL_PINNABLE },
};
static const struct evd_proto fake_protos[] = {
	{ .name = "echo" }, { .name = "http" }, { .name = "resp" },
};

const struct evd_model *model_find(const char *name)
{
	for (size_t i = 0; i < sizeof(fake_models) / sizeof(fake_models[0]); i++)
		if (strcmp(fake_models[i].name, name) == 0)
			return &fake_models[i];
	return NULL;
}

const char *model_names(void)
{
	return "epoll, prefork, reuseport";
}

void model_list_with(unsigned flags, char *out, size_t len)
{
	snprintf(out, len, "models with flags %#x", flags);
}

const struct evd_proto *proto_find(const char *name)
{
	for (size_t i = 0; i < sizeof(fake_protos) / sizeof(fake_protos[0]); i++)
		if (strcmp(fake_protos[i].name, name) == 0)
			return &fake_protos[i];
	return NULL;
}

const char *proto_names(void)
{
	return "echo, http, resp";
}

/* ---- the target --------------------------------------------------------- */

/* What config_print() writes for cfg, in a new NUL-terminated buffer. */
static char *printed(const struct config *cfg, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	assert(f);
	config_print(cfg, f);
	assert(fclose(f) == 0);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg, back;
	static struct config_errors errs, warns;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	config_defaults(&cfg);
	memset(&errs, 0, sizeof(errs));
	int rc = config_parse_text(&cfg, "fuzz.ini", text, size, &errs);
	free(text);
	assert((rc == 0) == (errs.n == 0 && errs.dropped == 0));
	if (rc == 0) {
		memset(&warns, 0, sizeof(warns));
		config_finish(&cfg, &errs, &warns);
	}
	/* Whatever was read, what evd -t prints reads back as itself. */
	size_t len1;
	char *p1 = printed(&cfg, &len1);
	config_defaults(&back);
	memset(&errs, 0, sizeof(errs));
	rc = config_parse_text(&back, "printed.ini", p1, len1, &errs);
	if (rc != 0)
		fprintf(stderr, "printed config does not read back: %s\n%s",
			errs.msg[0], p1);
	assert(rc == 0);
	/* The same values, key by key (the origins differ). */
	static char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];
	unsigned changed = config_compare(&cfg, &back, names);
	if (changed)
		fprintf(stderr, "read back differently: %s %s %s\n%s",
			names[0], names[1], names[2], p1);
	assert(changed == 0);
	free(p1);
	return 0;
}
