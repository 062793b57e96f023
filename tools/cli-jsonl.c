/*
 * captcha-check: JSON Lines in and out, see cli-jsonl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli-jsonl.h"
#include "cli.h"

/* A longer line is a bad line; it is read to its end but never buffered.
 * CLI_LINE_TOO_LONG says so. */
#define LINE_LIMIT (1024 * 1024)

/* Input is read in chunks of this many bytes. */
#define CHUNK_BYTES (64 * 1024)

/* ---- Reading lines ---- */

/* Reads the next chunk; false with errno set on a read error. */
static bool reader_fill(cli_reader *r)
{
    if (r->before_read)
        r->before_read(r->before_read_arg);
    if (r->flush_stdout)
        fflush(stdout); /* errors are seen by ferror() later */
    for (;;) {
        ssize_t n = read(r->fd, r->chunk, CHUNK_BYTES);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        r->start = 0;
        r->end = (size_t)n;
        r->eof = n == 0;
        return true;
    }
}

/* Appends to the current line, or drops the line once it is too long.
 * False when out of memory. */
static bool reader_append(cli_reader *r, const char *p, size_t n)
{
    if (r->too_long)
        return true;
    if (n > LINE_LIMIT - r->len) {
        r->too_long = true;
        r->len = 0;
        return true;
    }
    if (r->len + n + 1 > r->room) {
        size_t room = r->room;
        while (room < r->len + n + 1)
            room *= 2;
        if (room > LINE_LIMIT + 1)
            room = LINE_LIMIT + 1;
        char *line = realloc(r->line, room);
        if (!line)
            return false;
        r->line = line;
        r->room = room;
    }
    memcpy(r->line + r->len, p, n);
    r->len += n;
    return true;
}

int cli_reader_next(cli_reader *r)
{
    bool any = false;

    r->len = 0;
    r->too_long = false;
    for (;;) {
        if (r->start == r->end) {
            if (r->eof)
                break;
            if (!reader_fill(r))
                return -1;
            if (r->eof)
                break;
        }
        const char *p = r->chunk + r->start;
        size_t avail = r->end - r->start;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;

        any = true;
        if (!reader_append(r, p, take))
            return -2;
        take += nl != NULL;
        r->start += take;
        r->bytes += take;
        if (nl)
            break;
    }
    if (!any)
        return 0;
    if (r->len > 0 && r->line[r->len - 1] == '\r')
        r->len--;
    r->line[r->len] = '\0';
    r->lineno++;
    return 1;
}

void cli_reader_init(cli_reader *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

int cli_reader_open(cli_reader *r, const char *path, uint64_t *size)
{
    struct stat st;

    cli_reader_init(r);
    if (!path || strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
        r->name = "<stdin>";
    } else {
        r->name = path;
        r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r->fd < 0) {
            cli_error("%s: %s", path, strerror(errno));
            return CLI_EX_NOINPUT;
        }
    }
    if (size)
        *size = 0;
    if (fstat(r->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            cli_error("%s: %s", r->name, strerror(EISDIR));
            return CLI_EX_NOINPUT;
        }
        if (size && S_ISREG(st.st_mode))
            *size = (uint64_t)st.st_size;
    }
    r->chunk = malloc(CHUNK_BYTES);
    r->room = 256;
    r->line = malloc(r->room);
    if (!r->chunk || !r->line) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    return CLI_EX_OK;
}

void cli_reader_close(cli_reader *r)
{
    if (r->fd > STDIN_FILENO)
        close(r->fd);
    free(r->chunk);
    free(r->line);
}

void cli_reader_bad_line(const cli_reader *r, const char *why)
{
    cli_error("%s:%" PRIu64 ": %s", r->name, r->lineno, why);
}

int cli_reader_error(const cli_reader *r, int rc)
{
    if (rc == -2) {
        cli_error("out of memory");
        return CLI_EX_SOFTWARE;
    }
    cli_error("%s: %s", r->name, strerror(errno));
    return CLI_EX_IOERR;
}

/* ---- Parsing a line ---- */

const char *cli_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

void cli_json_reason(const json_error_t *err, char *why, size_t why_size)
{
    char text[JSON_ERROR_TEXT_LENGTH];

    /* jansson may quote the line in its text: no control characters, so
     * that a message cannot play tricks on a terminal. */
    cli_for_message(err->text, text, sizeof text);
    if (json_error_code(err) == json_error_null_character)
        /* jansson's own text names a flag of its API. */
        snprintf(why, why_size,
                 "a string holds a NUL character (\\u0000), at column %d",
                 err->column);
    else if (json_error_code(err) == json_error_duplicate_key)
        snprintf(why, why_size, "%s", text);
    else
        snprintf(why, why_size, "not valid JSON: %s, at column %d", text,
                 err->column);
}

int cli_jsonl_parse(const char *line, size_t len, json_t **root, char *why,
                    size_t why_size)
{
    json_error_t err;

    *root = NULL;
    if (strspn(line, " \t") == len) {
        snprintf(why, why_size, "empty line");
        return 0;
    }
    json_t *v =
        json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!v) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return -1;
        cli_json_reason(&err, why, why_size);
        return 0;
    }
    if (!json_is_object(v)) {
        snprintf(why, why_size, "not a JSON object but %s", cli_json_kind(v));
        json_decref(v);
        return 0;
    }
    *root = v;
    return 1;
}

bool cli_json_optional_string(const json_t *obj, const char *key,
                              const char **out, char *why, size_t why_size)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        snprintf(why, why_size, "\"%s\" is %s, not a string", key,
                 cli_json_kind(v));
        return false;
    }
    *out = json_string_value(v);
    return true;
}

bool cli_jsonl_id(json_t *obj, json_t **id, char *why, size_t why_size)
{
    /* The id is echoed as given: a string, or an integer that jansson
     * holds exactly (json_int_t is 64 bits; larger ones fail to parse). */
    json_t *v = json_object_get(obj, "id");

    *id = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) && !json_is_integer(v)) {
        snprintf(why, why_size, "\"id\" is %s, not a string or an integer",
                 cli_json_kind(v));
        return false;
    }
    *id = v;
    return true;
}

/* ---- Writing ---- */

/* The length of the UTF-8 sequence at p, or 0 when it is not valid. */
static size_t utf8_length(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80;
        unsigned hi = p[0] == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80;
        unsigned hi = p[0] == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
                       (p[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

bool cli_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    /* utf8_length() stops at the NUL after s (no continuation byte), so it
     * never reads past it; a NUL inside is not text that JSON can carry
     * here (the readers refuse \u0000). */
    while (p < end) {
        size_t n = *p ? utf8_length(p) : 0;
        if (n == 0 || n > (size_t)(end - p))
            return false;
        p += n;
    }
    return true;
}

void cli_json_string(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    putc('"', fp);
    while (*p) {
        size_t n = utf8_length(p);
        if (n == 0) {
            fputs("\\ufffd", fp);
            p++;
        } else if (n > 1) {
            fwrite(p, 1, n, fp);
            p += n;
        } else {
            if (*p == '"' || *p == '\\')
                fprintf(fp, "\\%c", *p);
            else if (*p < 0x20)
                fprintf(fp, "\\u%04x", (unsigned)*p);
            else
                putc(*p, fp);
            p++;
        }
    }
    putc('"', fp);
}

void cli_json_number(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.6f", x);
    else
        fputs("null", fp);
}

void cli_jsonl_put_id(FILE *fp, const json_t *id)
{
    if (!id)
        return;
    fputs("\"id\":", fp);
    if (json_is_string(id))
        cli_json_string(fp, json_string_value(id));
    else
        fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    putc(',', fp);
}
