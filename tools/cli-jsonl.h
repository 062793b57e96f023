/*
 * captcha-check: JSON Lines in and out, for train, classify and judge
 * (and JSON strings for issue --json). A reader of lines from a file
 * descriptor; a line parsed into a JSON object, with its "id" and the
 * reason when it is not one; and the pieces of a result line.
 */
#ifndef RG_CLI_JSONL_H
#define RG_CLI_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Why a line is bad when it is longer than the reader's limit, 1 MiB. */
#define CLI_LINE_TOO_LONG "longer than 1 MiB"

/* ---- Reading lines ---- */

/*
 * A reader of lines from a file descriptor. It reads in chunks with
 * read(2) rather than stdio so that it can bound a line without buffering
 * it, see byte counts for the progress bar, and flush standard output
 * before it waits for input (so classify and judge answer a program that
 * writes one line and waits for the result, without a line-buffering
 * option).
 *
 * A reader is used by one thread at a time.
 */
typedef struct cli_reader {
    int fd;
    const char *name;  /* for messages: the path, or "<stdin>" */
    bool flush_stdout; /* fflush(stdout) before each read */
    /* Called before each read, which may wait for more input. */
    void (*before_read)(void *arg);
    void *before_read_arg;
    char *chunk;       /* what read(2) gave, CHUNK_BYTES (cli-jsonl.c) */
    size_t start, end; /* unread bytes in chunk */
    bool eof;
    char *line; /* the current line, NUL-terminated, without its newline */
    size_t len, room;
    bool too_long;   /* the line was longer than 1 MiB: discarded */
    uint64_t lineno; /* of the current line, from 1 */
    uint64_t bytes;  /* consumed so far */
} cli_reader;

/*
 * Makes *r a reader that holds nothing, so that cli_reader_close() may be
 * called on it whether or not cli_reader_open() was.
 */
void cli_reader_init(cli_reader *r);

/*
 * Opens the input: `path`, or standard input when it is NULL or "-".
 * Returns CLI_EX_OK, or CLI_EX_NOINPUT after an error naming the file, or
 * CLI_EX_SOFTWARE when out of memory; either way the caller closes *r.
 * *size, unless size is NULL, is the input's size in bytes when it is a
 * regular file, else 0.
 */
int cli_reader_open(cli_reader *r, const char *path, uint64_t *size);

/*
 * Reads the next line: 1 when there is one (maybe too long, see
 * r->too_long), 0 at the end of input, -1 on a read error (errno set), -2
 * when out of memory. The last line needs no newline; a CR before the
 * newline is dropped.
 */
int cli_reader_next(cli_reader *r);

/* Closes the input unless it is standard input, and frees the buffers. */
void cli_reader_close(cli_reader *r);

/* Reports a bad line: "captcha-check: FILE:LINE: reason". */
void cli_reader_bad_line(const cli_reader *r, const char *why);

/*
 * Reports a failed cli_reader_next() (rc below 0); returns the exit
 * status: CLI_EX_SOFTWARE when out of memory, else CLI_EX_IOERR.
 */
int cli_reader_error(const cli_reader *r, int rc);

/* ---- Parsing a line ---- */

/* "an array", "a string", ... for messages. */
const char *cli_json_kind(const json_t *v);

/*
 * Says why jansson rejected some text, in words a moderator can act on,
 * without control characters.
 */
void cli_json_reason(const json_error_t *err, char *why, size_t why_size);

/*
 * Parses one line as a JSON object: returns 1 with *root, which the
 * caller releases with json_decref(); or 0 with the reason in why when the
 * line is empty, not JSON (which includes invalid UTF-8, a lone surrogate
 * escape, a NUL character and a duplicate key) or not an object; or -1
 * when out of memory.
 */
int cli_jsonl_parse(const char *line, size_t len, json_t **root, char *why,
                    size_t why_size);

/*
 * An optional string member: *out is its value, or NULL when it is absent
 * or null. False, with the reason in why, for any other type.
 */
bool cli_json_optional_string(const json_t *obj, const char *key,
                              const char **out, char *why, size_t why_size);

/*
 * The optional "id" member of a line, which its result line echoes: *id
 * is it, borrowed from obj, or NULL when it is absent or null. False, with
 * the reason in why, when it is neither a string nor an integer.
 */
bool cli_jsonl_id(json_t *obj, json_t **id, char *why, size_t why_size);

/* ---- Writing ---- */

/*
 * Writes s as a JSON string, quotes included: '"' and '\' escaped, control
 * characters as \u00XX, and bytes that are not UTF-8 as \ufffd (U+FFFD),
 * so that the output is always valid JSON: a clue's token, for one, is cut
 * to fit RG_CLUE_TOKEN_MAX, perhaps inside a character. Every other byte
 * is written as it is.
 */
void cli_json_string(FILE *fp, const char *s);

/*
 * True when the len bytes at s, which are followed by a NUL, are UTF-8
 * without a NUL among them: text that cli_json_string() writes exactly.
 */
bool cli_utf8_valid(const char *s, size_t len);

/*
 * Writes a number, such as a probability, with six decimals; JSON has no
 * NaN or infinity, so those are null.
 */
void cli_json_number(FILE *fp, double x);

/*
 * Writes "\"id\":" and the id that cli_jsonl_id() found, then a comma;
 * nothing when id is NULL.
 */
void cli_jsonl_put_id(FILE *fp, const json_t *id);

#endif
