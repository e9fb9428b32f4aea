/* Latency histograms, totals and the three outputs: a table for people,
 * one JSON object, a CSV header and row.  No I/O besides the FILE given. */
#include <inttypes.h>
#include <string.h>

#include "evbench.h"

const char *const bench_err_keys[ERR_MAX] = {
	[ERR_CONNECT] = "connect",
	[ERR_RESET] = "reset",
	[ERR_TIMEOUT] = "timeout",
	[ERR_MISMATCH] = "mismatch",
	[ERR_EOF] = "eof",
	[ERR_STATUS] = "status",
};

const struct hist_layout bench_lat_layout = { .sub_bits = LAT_SUB_BITS,
					.max_bits = LAT_MAX_BITS };

_Static_assert(LAT_BUCKETS == HIST_BUCKETS(LAT_SUB_BITS, LAT_MAX_BITS),
	       "lat_hist buckets follow the layout");

/* ---- histograms and totals ----------------------------------------------- */

void lat_merge(struct lat_hist *dst, const struct lat_hist *src)
{
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (unsigned i = 0; i < LAT_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

void lat_summarize(const struct lat_hist *h, struct lat_summary *s)
{
	static const double q[] = { 0.5, 0.9, 0.99, 0.999 };
	double *out[] = { &s->p50, &s->p90, &s->p99, &s->p999 };

	*s = (struct lat_summary){ 0 };
	if (h->count == 0)
		return;
	for (unsigned i = 0; i < 4; i++)
		*out[i] = (double)hist_quantile(bench_lat_layout, h->buckets, q[i],
						h->max_ns) / 1e3;
	s->max = (double)h->max_ns / 1e3;
	s->mean = (double)h->sum_ns / (double)h->count / 1e3;
}

void result_merge(struct bench_result *dst, const struct bench_result *src)
{
	dst->c.requests += src->c.requests;
	for (unsigned k = 0; k < ERR_MAX; k++)
		dst->c.errors[k] += src->c.errors[k];
	dst->c.bytes_sent += src->c.bytes_sent;
	dst->c.bytes_received += src->c.bytes_received;
	dst->c.connects += src->c.connects;
	dst->c.retried += src->c.retried;
	dst->c.exchange_ns += src->c.exchange_ns;
	dst->c.exchange_blocks += src->c.exchange_blocks;
	lat_merge(&dst->lat, &src->lat);
	lat_merge(&dst->connect, &src->connect);
	if (src->elapsed_s > dst->elapsed_s)
		dst->elapsed_s = src->elapsed_s;
	dst->limit_hit |= src->limit_hit;
}

uint64_t result_errors(const struct bench_result *r)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < ERR_MAX; k++)
		n += r->c.errors[k];
	return n;
}

int result_exit_status(const struct bench_result *r)
{
	if (r->limit_hit)
		return BEXIT_LIMIT;
	return result_errors(r) ? BEXIT_ERRORS : BEXIT_OK;
}

/* ---- derived figures ----------------------------------------------------- */

static double per_s(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static bool has_connect_hist(const struct bench_opts *o)
{
	return o->mode == MODE_CPR || o->mode == MODE_SEED001;
}

/* seed001: the mean connect time, and the mean time of one connection's M
 * exchanges, in ms. */
static double connect_ms_mean(const struct bench_result *r)
{
	return r->connect.count ?
		       (double)r->connect.sum_ns / (double)r->connect.count / 1e6 :
		       0;
}

static double exchange_ms_mean(const struct bench_result *r)
{
	return r->c.exchange_blocks ? (double)r->c.exchange_ns /
					      (double)r->c.exchange_blocks / 1e6 :
				      0;
}

/* What the run counts, and so what its rate is per: "requests", or
 * "connections" for --messages 0 (connect and close, nothing sent). */
static const char *unit(const struct bench_opts *o)
{
	return o->connect_only ? "connections" : "requests";
}

/* ---- the table ----------------------------------------------------------- */

/* A duration given in microseconds, in the unit that suits it. */
static const char *fmt_us(double us, char buf[24])
{
	if (us < 1e3)
		snprintf(buf, 24, "%.1fus", us);
	else if (us < 1e6)
		snprintf(buf, 24, "%.2fms", us / 1e3);
	else
		snprintf(buf, 24, "%.3fs", us / 1e6);
	return buf;
}

static void table_lat(FILE *out, const char *name, const struct lat_hist *h)
{
	static const char *const label[] = { "p50", "p90", "p99", "p99.9",
					     "max", "mean" };
	struct lat_summary s;
	char buf[24];

	lat_summarize(h, &s);
	if (h->count == 0) {
		fprintf(out, "  %-13s none\n", name);
		return;
	}
	const double v[] = { s.p50, s.p90, s.p99, s.p999, s.max, s.mean };
	fprintf(out, "  %-13s", name);
	for (unsigned i = 0; i < 6; i++)
		fprintf(out, "%s%s %s", i ? "  " : " ", label[i],
			fmt_us(v[i], buf));
	fputc('\n', out);
}

void report_table(FILE *out, const struct bench_opts *o,
		  const struct bench_result *r)
{
	const struct bench_counts *c = &r->c;

	fprintf(out, "evbench: %s %s", bench_mode_names[o->mode],
		o->mode == MODE_SEED001 || o->mode == MODE_CPR ? "mode" :
								   "loop");
	if (o->connect_only)
		fprintf(out, ", connect and close (--messages 0), %s",
			bench_proto_names[o->proto]);
	else if (o->proto == BP_ECHO)
		fprintf(out, ", echo %" PRIu64 " bytes", o->size);
	else if (o->proto == BP_HTTP)
		fprintf(out, ", http GET %s", o->path);
	else if (o->proto == BP_ZMTP && o->call)
		fprintf(out, ", zmtp %s %s", o->zmtp_req ? "req" : "dealer",
			o->call);
	else if (o->proto == BP_ZMTP)
		fprintf(out, ", zmtp %s echo %" PRIu64 " bytes",
			o->zmtp_req ? "req" : "dealer", o->size);
	else
		fprintf(out, ", resp %s", o->command);
	fprintf(out, ", %s\n", o->target);
	if (o->mode == MODE_SEED001)
		fprintf(out, "  %-13s %" PRIu64 " workers x %" PRIu64
			" connections x %" PRIu64 " exchanges, %" PRIu64
			" thread%s\n", "load", o->workers, o->actions,
			o->messages, o->threads, o->threads == 1 ? "" : "s");
	else
		fprintf(out, "  %-13s %" PRIu64 " connection%s, %" PRIu64
			" thread%s, pipeline %" PRIu64 "%s\n", "load", o->conns,
			o->conns == 1 ? "" : "s", o->threads,
			o->threads == 1 ? "" : "s", o->pipeline,
			o->mode == MODE_CPR ? ", a new connection per request" :
					      "");
	if (o->mode == MODE_OPEN)
		fprintf(out, "  %-13s %.1f requests/s for %.3f s\n", "rate",
			o->rate, o->duration_s);
	fprintf(out, "  %-13s %.3f s%s\n", "duration", r->elapsed_s,
		r->limit_hit ? " (stopped by the hard limit -T)" : "");
	if (o->connect_only)
		fprintf(out, "  %-13s %" PRIu64 " (%.1f/s), each connect + "
			"close, no request sent\n  %-13s 0 (the unit is the "
			"connection)\n", "connections", c->connects,
			per_s(c->connects, r->elapsed_s), "requests");
	else
		fprintf(out, "  %-13s %" PRIu64 " (%.1f/s)\n", "requests",
			c->requests, per_s(c->requests, r->elapsed_s));
	fprintf(out, "  %-13s %" PRIu64 " sent, %" PRIu64 " received\n",
		"bytes", c->bytes_sent, c->bytes_received);
	fprintf(out, "  %-13s %" PRIu64, "errors", result_errors(r));
	for (unsigned k = 0; k < ERR_MAX; k++)
		fprintf(out, "%s%s %" PRIu64, k ? ", " : " (", bench_err_keys[k],
			c->errors[k]);
	fputs(")\n", out);
	if (c->retried)
		fprintf(out, "  %-13s %" PRIu64 " (sent again on a new connection "
			"after a reply with Connection: close)\n", "retried",
			c->retried);
	if (!o->connect_only)
		table_lat(out, "latency", &r->lat);
	if (has_connect_hist(o) && !o->connect_only)
		fprintf(out, "  %-13s %" PRIu64 " (%.1f/s)\n", "connections",
			c->connects, per_s(c->connects, r->elapsed_s));
	if (has_connect_hist(o))
		table_lat(out, "connect", &r->connect);
	if (o->connect_only)
		fprintf(out, "  %-13s connect %.5f ms, send/recv %.5f ms (no "
			"exchange: close(2) alone), total %.5f ms\n",
			"seed001 means", connect_ms_mean(r), exchange_ms_mean(r),
			connect_ms_mean(r) + exchange_ms_mean(r));
	else if (o->mode == MODE_SEED001)
		fprintf(out, "  %-13s connect %.5f ms, send/recv %.5f ms (%"
			PRIu64 " exchanges), total %.5f ms\n", "seed001 means",
			connect_ms_mean(r), exchange_ms_mean(r), o->messages,
			connect_ms_mean(r) + exchange_ms_mean(r));
}

/* ---- JSON ---------------------------------------------------------------- */

/* A JSON string of printable ASCII (what opts.c lets through). */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void json_lat(FILE *out, const char *key, const struct lat_hist *h)
{
	struct lat_summary s;

	lat_summarize(h, &s);
	fprintf(out, ",\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
		"\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}", key, s.p50, s.p90,
		s.p99, s.p999, s.max, s.mean);
}

void report_json(FILE *out, const struct bench_opts *o,
		 const struct bench_result *r)
{
	const struct bench_counts *c = &r->c;

	fprintf(out, "{\"mode\":\"%s\",\"unit\":\"%s\",\"proto\":\"%s\","
		"\"target\":", bench_mode_names[o->mode], unit(o),
		bench_proto_names[o->proto]);
	json_str(out, o->target);
	if (o->proto == BP_ECHO)
		fprintf(out, ",\"size\":%" PRIu64, o->size);
	else if (o->proto == BP_HTTP)
		fputs(",\"path\":", out), json_str(out, o->path);
	else if (o->proto == BP_ZMTP && o->call)
		fputs(",\"call\":", out), json_str(out, o->call);
	else if (o->proto == BP_ZMTP)
		fprintf(out, ",\"size\":%" PRIu64, o->size);
	else
		fputs(",\"command\":", out), json_str(out, o->command);
	if (o->proto == BP_ZMTP)
		fprintf(out, ",\"socket\":\"%s\"", o->zmtp_req ? "req" :
							      "dealer");
	fprintf(out, ",\"connections\":%" PRIu64 ",\"threads\":%" PRIu64
		",\"pipeline\":%" PRIu64 ",\"rate\":%.3f,\"duration_s\":%.6f,"
		"\"requests\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
		",\"bytes_received\":%" PRIu64 ",\"errors\":{", o->conns,
		o->threads, o->pipeline, o->rate, r->elapsed_s, c->requests,
		c->bytes_sent, c->bytes_received);
	for (unsigned k = 0; k < ERR_MAX; k++)
		fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", bench_err_keys[k],
			c->errors[k]);
	fprintf(out, "},\"throughput_rps\":%.3f",
		per_s(c->requests, r->elapsed_s));
	json_lat(out, "latency_us", &r->lat);
	fprintf(out, ",\"connects\":%" PRIu64 ",\"retried\":%" PRIu64
		",\"limit_hit\":%s", c->connects, c->retried,
		r->limit_hit ? "true" : "false");
	if (o->mode == MODE_SEED001)
		fprintf(out, ",\"workers\":%" PRIu64 ",\"actions\":%" PRIu64
			",\"messages\":%" PRIu64 ",\"connect_ms_mean\":%.6f,"
			"\"exchange_ms_mean\":%.6f", o->workers, o->actions,
			o->messages, connect_ms_mean(r), exchange_ms_mean(r));
	if (has_connect_hist(o)) {
		json_lat(out, "connect_us", &r->connect);
		fprintf(out, ",\"connections_per_s\":%.3f",
			per_s(c->connects, r->elapsed_s));
	}
	fputs("}\n", out);
}

/* ---- CSV ----------------------------------------------------------------- */

static const char *const lat_cols[] = { "p50", "p90", "p99", "p999", "max",
					"mean" };

static void csv_lat(FILE *out, const struct lat_hist *h, bool present)
{
	struct lat_summary s;

	lat_summarize(h, &s);
	const double vals[] = { s.p50, s.p90, s.p99, s.p999, s.max, s.mean };
	for (unsigned i = 0; i < 6; i++) {
		if (present)
			fprintf(out, ",%.3f", vals[i]);
		else
			fputc(',', out);
	}
}

void report_csv(FILE *out, const struct bench_opts *o,
		const struct bench_result *r)
{
	const struct bench_counts *c = &r->c;
	bool seed = o->mode == MODE_SEED001, conn = has_connect_hist(o);

	fputs("mode,proto,target,connections,threads,pipeline,rate,duration_s,"
	      "requests,bytes_sent,bytes_received", out);
	for (unsigned k = 0; k < ERR_MAX; k++)
		fprintf(out, ",errors_%s", bench_err_keys[k]);
	fputs(",throughput_rps", out);
	for (unsigned i = 0; i < 6; i++)
		fprintf(out, ",latency_us_%s", lat_cols[i]);
	fputs(",connects,retried,limit_hit", out);
	for (unsigned i = 0; i < 6; i++)
		fprintf(out, ",connect_us_%s", lat_cols[i]);
	fputs(",connect_ms_mean,exchange_ms_mean,connections_per_s,unit\n",
	      out);

	fprintf(out, "%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%.6f,%"
		PRIu64 ",%" PRIu64 ",%" PRIu64, bench_mode_names[o->mode],
		bench_proto_names[o->proto], o->target, o->conns, o->threads,
		o->pipeline, o->rate, r->elapsed_s, c->requests, c->bytes_sent,
		c->bytes_received);
	for (unsigned k = 0; k < ERR_MAX; k++)
		fprintf(out, ",%" PRIu64, c->errors[k]);
	fprintf(out, ",%.3f", per_s(c->requests, r->elapsed_s));
	csv_lat(out, &r->lat, true);
	fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%s", c->connects, c->retried,
		r->limit_hit ? "true" : "false");
	csv_lat(out, &r->connect, conn);
	if (seed)
		fprintf(out, ",%.6f,%.6f", connect_ms_mean(r),
			exchange_ms_mean(r));
	else
		fputs(",,", out);
	if (conn)
		fprintf(out, ",%.3f", per_s(c->connects, r->elapsed_s));
	else
		fputc(',', out);
	fprintf(out, ",%s\n", unit(o));
}
