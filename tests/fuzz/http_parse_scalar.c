/* The HTTP request parser built again without its SSE2 scans, under other
 * names, for fuzz_http.c: the fast and the byte-at-a-time scans must give
 * the same result for every input. */
#define HTTP_SCAN_SCALAR 1
#define http_class http_class_scalar
#define http_err_text http_err_text_scalar
#define http_request_init http_request_init_scalar
#define http_parse_request http_parse_request_scalar
#include "../../daemon/proto/http_parse.c"
