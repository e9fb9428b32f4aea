/* The chunked body decoder (see http_parse.h): RFC 9112 7.1.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name
 *                     [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *
 * One byte at a time through a state machine, so that a body split
 * anywhere decodes the same; data bytes are skipped in bulk.  Every line
 * ends with CRLF: a bare LF in a chunk-size line is HTTP_ERR_CHUNK_CRLF, in
 * the trailers HTTP_ERR_BARE_LF, as in a head. */
#include "http_parse.h"

#include "../util.h"
#include "http_chars.h"

enum chunk_state {
	/* the chunk-size line: counted against HTTP_CHUNK_LINE_MAX */
	CH_SIZE_FIRST,	/* the first hex digit of a chunk size */
	CH_SIZE,	/* more hex digits, ';', BWS or CR */
	CH_SIZE_BWS,	/* whitespace after the size: ';' must follow */
	CH_EXT_PRE,	/* after ';': BWS, then a name */
	CH_EXT_NAME,	/* a name: more of it, BWS, '=', ';' or CR */
	CH_EXT_NAME_BWS,	/* BWS after a name: '=' or ';' */
	CH_EXT_VAL_PRE,	/* after '=': BWS, then a token or '"' */
	CH_EXT_TOKEN,	/* a token value: more of it, BWS, ';' or CR */
	CH_EXT_QUOTED,	/* inside a quoted-string */
	CH_EXT_QPAIR,	/* after a backslash in a quoted-string */
	CH_EXT_QEND,	/* after the closing '"': BWS, ';' or CR */
	CH_EXT_VAL_BWS,	/* BWS after a value: ';' */
	CH_SIZE_LF,	/* LF after the chunk-size line */
	/* the data */
	CH_DATA,	/* size bytes of data */
	CH_DATA_CR,	/* CR after the data */
	CH_DATA_LF,	/* LF after the data */
	/* the trailer section: counted against max_head_bytes */
	CH_TRAILER,	/* the start of a trailer line or the final CRLF */
	CH_TR_NAME,	/* a trailer field name */
	CH_TR_VALUE,	/* a trailer field value */
	CH_TR_LF,	/* LF after a trailer line's CR */
	CH_END_LF,	/* LF after the final CR */
	CH_DONE,
};

void http_chunked_init(struct http_chunked *d)
{
	*d = (struct http_chunked){ .state = CH_SIZE_FIRST };
}

static int bad(struct http_chunked *d, enum http_err err)
{
	d->err = err;
	return -1;
}

/* One hex digit h more of the chunk size. */
static int size_digit(struct http_chunked *d, int h,
		      const struct http_limits *lim)
{
	if (d->size > (UINT64_MAX >> 4))
		return bad(d, HTTP_ERR_CHUNK_OVERFLOW);
	uint64_t size = d->size << 4 | (uint64_t)h;
	if (size > lim->max_body_bytes - d->total)
		return bad(d, HTTP_ERR_BODY_TOO_LARGE);
	d->size = size;
	return CH_SIZE;
}

/* CH_SIZE_FIRST, CH_SIZE, CH_SIZE_BWS: the next state for c, or -1. */
static int size_step(struct http_chunked *d, char c,
		     const struct http_limits *lim)
{
	int h = hex_value(c);

	if (d->state == CH_SIZE_BWS) {
		if (is_ows(c))
			return CH_SIZE_BWS;
		if (c == ';')
			return CH_EXT_PRE;
	} else if (h >= 0) {
		return size_digit(d, h, lim);
	} else if (d->state == CH_SIZE) {
		if (c == ';')
			return CH_EXT_PRE;
		if (is_ows(c))
			return CH_SIZE_BWS;
		if (c == '\r')
			return CH_SIZE_LF;
	}
	return bad(d, c == '\n' && d->state == CH_SIZE ?
		   HTTP_ERR_CHUNK_CRLF : HTTP_ERR_CHUNK_SIZE);
}

/* What may follow a complete extension (a name or a value): BWS (to
 * bws), ';' or CR; -1 for anything else. */
static int after_ext(char c, int bws)
{
	if (is_ows(c))
		return bws;
	if (c == ';')
		return CH_EXT_PRE;
	if (c == '\r')
		return CH_SIZE_LF;
	return -1;
}

/* The extension states: the next state for c, or -1. */
static int ext_step(struct http_chunked *d, char c)
{
	bool tchar = hc(c, HC_TCHAR);
	int next = -1;

	switch (d->state) {
	case CH_EXT_PRE:
		next = is_ows(c) ? CH_EXT_PRE : tchar ? CH_EXT_NAME : -1;
		break;
	case CH_EXT_NAME:
		next = tchar ? CH_EXT_NAME : c == '=' ? CH_EXT_VAL_PRE :
		       after_ext(c, CH_EXT_NAME_BWS);
		break;
	case CH_EXT_NAME_BWS:
		next = is_ows(c) ? CH_EXT_NAME_BWS : c == '=' ? CH_EXT_VAL_PRE :
		       c == ';' ? CH_EXT_PRE : -1;
		break;
	case CH_EXT_VAL_PRE:
		next = is_ows(c) ? CH_EXT_VAL_PRE : c == '"' ? CH_EXT_QUOTED :
		       tchar ? CH_EXT_TOKEN : -1;
		break;
	case CH_EXT_TOKEN:
		next = tchar ? CH_EXT_TOKEN : after_ext(c, CH_EXT_VAL_BWS);
		break;
	case CH_EXT_QUOTED:
		next = c == '"' ? CH_EXT_QEND : c == '\\' ? CH_EXT_QPAIR :
		       hc(c, HC_QDTEXT) ? CH_EXT_QUOTED : -1;
		break;
	case CH_EXT_QPAIR:
		next = hc(c, HC_VALUE) ? CH_EXT_QUOTED : -1;
		break;
	case CH_EXT_QEND:
		next = after_ext(c, CH_EXT_VAL_BWS);
		break;
	case CH_EXT_VAL_BWS:
		next = is_ows(c) ? CH_EXT_VAL_BWS : c == ';' ? CH_EXT_PRE : -1;
		break;
	}
	if (next < 0)
		return bad(d, c == '\n' ? HTTP_ERR_CHUNK_CRLF :
			   HTTP_ERR_CHUNK_EXT);
	return next;
}

/* CH_TRAILER and the trailer field states: the next state for c, or -1. */
static int trailer_step(struct http_chunked *d, char c,
			const struct http_limits *lim)
{
	switch (d->state) {
	case CH_TRAILER:
		if (c == '\r')
			return CH_END_LF;
		if (c == '\n')
			return bad(d, HTTP_ERR_BARE_LF);
		if (is_ows(c))
			return bad(d, HTTP_ERR_OBS_FOLD);
		if (!hc(c, HC_TCHAR))
			return bad(d, c == '\0' ? HTTP_ERR_NUL :
				   HTTP_ERR_FIELD_NAME);
		if (d->ntrailers >= lim->max_headers)
			return bad(d, HTTP_ERR_TOO_MANY_HEADERS);
		d->ntrailers++;
		return CH_TR_NAME;
	case CH_TR_NAME:
		if (hc(c, HC_TCHAR))
			return CH_TR_NAME;
		if (c == ':')
			return CH_TR_VALUE;
		return bad(d, is_ows(c) ? HTTP_ERR_FIELD_NAME_WS :
			   c == '\r' || c == '\n' ? HTTP_ERR_NO_COLON :
			   c == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME);
	case CH_TR_VALUE:
		if (c == '\r')
			return CH_TR_LF;
		if (c == '\n')
			return bad(d, HTTP_ERR_BARE_LF);
		if (!hc(c, HC_VALUE))
			return bad(d, c == '\0' ? HTTP_ERR_NUL : HTTP_ERR_CTL);
		return CH_TR_VALUE;
	default:	/* CH_TR_LF, CH_END_LF */
		if (c != '\n')
			return bad(d, HTTP_ERR_BARE_CR);
		return d->state == CH_TR_LF ? CH_TRAILER : CH_DONE;
	}
}

/* The next state for byte c, or -1 with d->err set; does not consume c. */
static int chunk_step(struct http_chunked *d, char c,
		      const struct http_limits *lim)
{
	switch (d->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
	case CH_SIZE_BWS:
		return size_step(d, c, lim);
	case CH_SIZE_LF:
		if (c != '\n')
			return bad(d, HTTP_ERR_CHUNK_CRLF);
		return d->size ? CH_DATA : CH_TRAILER;
	case CH_DATA_CR:
		return c == '\r' ? CH_DATA_LF : bad(d, HTTP_ERR_CHUNK_CRLF);
	case CH_DATA_LF:
		return c == '\n' ? CH_SIZE_FIRST : bad(d, HTTP_ERR_CHUNK_CRLF);
	default:
		if (d->state >= CH_TRAILER)
			return trailer_step(d, c, lim);
		return ext_step(d, c);
	}
}

/* Counts a byte of a chunk-size line or of the trailers against its limit. */
static bool line_byte(struct http_chunked *d, const struct http_limits *lim)
{
	bool trailer = d->state >= CH_TRAILER;
	size_t max = trailer ? lim->max_head_bytes : HTTP_CHUNK_LINE_MAX;

	if (d->line >= max) {
		d->err = trailer ? HTTP_ERR_HEAD_TOO_LARGE :
			 HTTP_ERR_CHUNK_LINE_TOO_LONG;
		return false;
	}
	d->line++;
	return true;
}

int http_chunked_skip(struct http_chunked *d, const char *buf, size_t len,
		      const struct http_limits *lim, size_t *consumed)
{
	size_t i = 0;

	while (i < len && d->state != CH_DONE) {
		if (d->state == CH_DATA) {
			size_t n = len - i;
			if (n > d->size)
				n = (size_t)d->size;
			i += n;
			d->size -= n;
			d->total += n;
			if (d->size == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		bool counted = d->state <= CH_SIZE_LF || d->state >= CH_TRAILER;
		if (counted && !line_byte(d, lim)) {
			*consumed = i;
			return -1;
		}
		int next = chunk_step(d, buf[i], lim);
		if (next < 0) {
			if (counted)
				d->line--;	/* the byte stays unconsumed */
			*consumed = i;
			return -1;
		}
		i++;
		/* A new line to count: a chunk-size line or the trailers. */
		if (next == CH_DATA || next == CH_SIZE_FIRST ||
		    (next == CH_TRAILER && d->state == CH_SIZE_LF))
			d->line = 0;
		d->state = (uint8_t)next;
	}
	*consumed = i;
	return d->state == CH_DONE ? 1 : -2;
}
