/* token_cmd.c — `parkhub hash-token [--new]` (token_cmd.h).
 *
 * Invariants:
 *  1. a token read from stdin loses only its line end; anything else that
 *     is not a printable ASCII character refuses it (a token must fit in an
 *     Authorization header unchanged).
 *  2. --new draws 32 bytes from getrandom(2): 64 hex digits of token.
 */
#include "api/token_cmd.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "api/api.h"

#define NEW_TOKEN_BYTES 32

static const char usage[] =
    "Usage: parkhub hash-token [--new]\n"
    "  Reads an API bearer token from standard input (one line) and prints the\n"
    "  SHA-256 to put in the hub config's http.tokens[].sha256.\n"
    "  --new   make a random token instead and print it and its hash:\n"
    "          token <64 hex>  sha256 <64 hex>\n";

static int new_token(char tok[2 * NEW_TOKEN_BYTES + 1]) {
  unsigned char raw[NEW_TOKEN_BYTES];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof raw; i++) {
    tok[2 * i] = hex[raw[i] >> 4];
    tok[2 * i + 1] = hex[raw[i] & 15];
  }
  tok[2 * sizeof raw] = '\0';
  return 0;
}

static int read_token(char *tok, size_t cap) {
  if (!fgets(tok, (int)cap, stdin)) return -1;
  size_t n = strcspn(tok, "\r\n");
  if (tok[n] == '\0' && n == cap - 1) return -1; /* longer than a token may be */
  tok[n] = '\0';
  if (n == 0) return -1;
  for (size_t i = 0; i < n; i++)
    if (tok[i] < 0x21 || tok[i] > 0x7e) return -1;
  return 0;
}

int ph_token_cmd_main(int argc, char **argv) {
  int fresh = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--new")) fresh = 1;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return fputs(usage, stdout), 0;
    else return fprintf(stderr, "parkhub hash-token: unexpected argument %s\n%s", argv[i], usage), 2;
  }
  char tok[PH_API_TOKEN_MAX + 2], hash[2 * PH_API_SHA256_LEN + 1];
  if (fresh ? new_token(tok) : read_token(tok, sizeof tok)) {
    fprintf(stderr, "parkhub hash-token: %s\n",
            fresh ? "no random bytes from the kernel"
                  : "standard input must hold one token: 1 to 512 printable ASCII characters, no spaces");
    return 1;
  }
  if (ph_api_token_hash_hex(tok, hash)) return fputs("parkhub hash-token: hashing failed\n", stderr), 1;
  if (fresh) printf("token %s\nsha256 %s\n", tok, hash);
  else printf("%s\n", hash);
  return 0;
}
