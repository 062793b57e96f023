/*
 * Fuzz target: the JSON Lines reader of captcha-check (tools/cli-jsonl.c,
 * linked in), as train, classify and judge use it.
 *
 * Input: one byte, then the text the reader reads. When the byte is 0xff,
 * a run of 1 MiB - 8 spaces is put at the first newline (or the start),
 * so that a first line of 8 bytes is exactly at the 1 MiB limit, and
 * lines just under and over it come up (rarely: each costs tens of
 * milliseconds); when it is 0xa0 to 0xaf, a run of (byte & 15) * 8 KiB,
 * so that lines cross the reader's 64 KiB chunks.
 *
 * The text is read from an in-memory file (memfd, nothing on disk) opened
 * by path, as the tool opens its input. Invariants: the lines joined with
 * newlines give back the text (less a CR before each newline, a line over
 * the limit, which is reported and dropped, and a last newline); line
 * numbers count up from 1 and the byte count reaches the text's size; a
 * line parses as an object exactly when jansson alone, rejecting duplicate
 * keys, says it is one, and an empty or bad line has a reason without
 * control characters; an "id" is accepted only as a string or an integer
 * and written back as JSON that jansson reads as the same id; every string
 * member, written by cli_json_string(), is valid JSON that reads back as
 * itself (when cli_utf8_valid() says it is text it can write exactly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#include "cli-jsonl.h"

/* The reader's limit (cli-jsonl.c). */
#define LINE_LIMIT ((size_t)1024 * 1024)

static int memfd = -1;

static void write_all(int fd, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        FUZZ_CHECK(w > 0, "write to the memfd");
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

/* Writes s as cli_json_string() does and reads it back with jansson. */
static void check_string(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    FUZZ_CHECK(fp != NULL, "open_memstream");
    cli_json_string(fp, s);
    FUZZ_CHECK(fclose(fp) == 0, "fclose");

    json_error_t err;
    json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &err);
    FUZZ_CHECK(v && json_is_string(v), "cli_json_string wrote %s: %s", buf,
               err.text);
    if (cli_utf8_valid(s, strlen(s)))
        FUZZ_CHECK(json_string_length(v) == strlen(s) &&
                       memcmp(json_string_value(v), s, strlen(s)) == 0,
                   "'%s' written as %s", s, buf);
    json_decref(v);
    free(buf);
}

static void check_id(json_t *id)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    FUZZ_CHECK(fp != NULL, "open_memstream");
    fputc('{', fp);
    cli_jsonl_put_id(fp, id);
    fputs("\"x\":0}", fp);
    FUZZ_CHECK(fclose(fp) == 0, "fclose");

    json_error_t err;
    json_t *obj = json_loadb(buf, len, 0, &err);
    FUZZ_CHECK(obj != NULL, "id written as %s: %s", buf, err.text);
    json_t *back = json_object_get(obj, "id");
    if (json_is_integer(id) ||
        cli_utf8_valid(json_string_value(id), json_string_length(id)))
        FUZZ_CHECK(back && json_equal(back, id), "id written as %s", buf);
    json_decref(obj);
    free(buf);
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static void check_line(const char *line, size_t len)
{
    char why[256];
    json_t *root = NULL;
    int rc = cli_jsonl_parse(line, len, &root, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == 1, "parse: %d", rc);

    /* jansson alone agrees (checked up to 64 KiB: the longest lines parse
     * slowly under AddressSanitizer, and tell nothing new). */
    if (len <= 65536) {
        json_error_t err;
        json_t *plain = json_loadb(
            line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
        FUZZ_CHECK((rc == 1) == (plain && json_is_object(plain)),
                   "parse says %d, jansson %s", rc,
                   plain ? "an object" : "no object");
        json_decref(plain);
    }
    if (rc == 0) {
        FUZZ_CHECK(root == NULL && why[0] && printable(why), "reason '%s'",
                   why);
        return;
    }

    json_t *id = NULL;
    json_t *member = json_object_get(root, "id");
    bool ok = cli_jsonl_id(root, &id, why, sizeof why);
    bool expect = !member || json_is_null(member) || json_is_string(member) ||
                  json_is_integer(member);
    FUZZ_CHECK(ok == expect, "id accepted: %d", ok);
    if (ok && id)
        check_id(id);

    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        const char *s = NULL;
        bool is_string =
            cli_json_optional_string(root, key, &s, why, sizeof why);
        FUZZ_CHECK(is_string == (json_is_string(value) || json_is_null(value)),
                   "\"%s\" taken as a string: %d", key, is_string);
        if (s)
            check_string(s);
        check_string(key);
    }
    json_decref(root);
}

/*
 * The text with the run of spaces put in, in a malloc()ed buffer. Spaces,
 * because jansson skips them quickly, where it copies the bytes of a long
 * token one at a time (slow under AddressSanitizer).
 */
static char *make_text(const uint8_t *data, size_t size, size_t *out_len)
{
    uint8_t mode = size ? data[0] : 0;
    const char *body = size ? (const char *)data + 1 : "";
    size_t n = size ? size - 1 : 0;
    size_t run = mode == 0xff            ? LINE_LIMIT - 8
                 : (mode & 0xf0) == 0xa0 ? (size_t)(mode & 0x0f) * 8192
                                         : 0;

    char *text = malloc(n + run + 1);
    FUZZ_CHECK(text != NULL, "memory");
    const char *nl = memchr(body, '\n', n);
    size_t at = nl ? (size_t)(nl - body) : 0;
    memcpy(text, body, at);
    memset(text + at, ' ', run);
    memcpy(text + at + run, body + at, n - at);
    *out_len = n + run;
    text[*out_len] = '\0';
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        /* One memfd for the whole run, emptied for each input. */
        memfd = memfd_create("fuzz-cli-jsonl", MFD_CLOEXEC);
        FUZZ_CHECK(memfd >= 0, "memfd_create");
    }
    size_t len;
    char *text = make_text(data, size, &len);
    FUZZ_CHECK(ftruncate(memfd, 0) == 0 && lseek(memfd, 0, SEEK_SET) == 0,
               "empty the memfd");
    write_all(memfd, text, len);

    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    cli_reader r;
    uint64_t file_size = 0;
    FUZZ_CHECK(cli_reader_open(&r, path, &file_size) == 0, "open %s", path);
    FUZZ_CHECK(file_size == len, "size %llu, not %zu",
               (unsigned long long)file_size, len);

    /* Walk the text alongside the reader. */
    size_t pos = 0;
    uint64_t lines = 0;
    int rc;
    while ((rc = cli_reader_next(&r)) == 1) {
        lines++;
        FUZZ_CHECK(r.lineno == lines, "line %llu, not %llu",
                   (unsigned long long)r.lineno, (unsigned long long)lines);
        FUZZ_CHECK(pos < len, "a line after the end");
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t expect = end - pos;
        if (expect > 0 && text[end - 1] == '\r')
            expect--;
        if (end - pos > LINE_LIMIT) {
            FUZZ_CHECK(r.too_long && r.len == 0, "line of %zu bytes kept",
                       end - pos);
        } else {
            FUZZ_CHECK(!r.too_long && r.len == expect &&
                           memcmp(r.line, text + pos, expect) == 0 &&
                           r.line[r.len] == '\0',
                       "line %llu differs", (unsigned long long)lines);
            check_line(r.line, r.len);
        }
        pos = nl ? end + 1 : end;
        FUZZ_CHECK(r.bytes == pos, "%llu bytes read, not %zu",
                   (unsigned long long)r.bytes, pos);
    }
    FUZZ_CHECK(rc == 0, "cli_reader_next: %d", rc);
    FUZZ_CHECK(pos == len, "stopped at %zu of %zu", pos, len);
    cli_reader_close(&r);
    free(text);
    return 0;
}
