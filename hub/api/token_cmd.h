/* token_cmd.h — `parkhub hash-token`: turns an API bearer token into the
 * value its http.tokens[] entry holds (SHA-256, hex), or makes a new random
 * token and prints both. The token is read from standard input, never from
 * the command line (which other users can read in /proc). */
#ifndef PARKHUB_TOKEN_CMD_H
#define PARKHUB_TOKEN_CMD_H

/* argv[0] is "hash-token". Exit code: 0, 1 failure, 2 bad command line. */
int ph_token_cmd_main(int argc, char **argv);

#endif
