/*
 * The three lines of replyguard that a comment form needs: a guard with a
 * key, a challenge for the page, and the verdict on the answer. (A blog
 * engine issues while it renders the form and verifies when the comment
 * is posted; here both happen at once, with the answer from the command
 * line.)
 *
 *   cc quickstart.c $(pkg-config --cflags --libs replyguard) -o quickstart
 *   ./quickstart 19
 */
#include <replyguard.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    static const uint8_t key[RG_KEY_BYTES] = {1}; /* use a key file */
    rg_config cfg;
    rg_guard *guard;
    rg_challenge ch;
    rg_verdict verdict;

    rg_config_init(&cfg);
    cfg.min_solve_s = 0; /* answered at once here: no time trap */

    /* quickstart: begin */
    if (rg_guard_new(&guard, &cfg) != RG_OK ||
        rg_guard_add_key(guard, 1, key, 1) != RG_OK ||
        rg_challenge_issue(guard, "post-42", &ch) != RG_OK ||
        rg_challenge_verify(guard, ch.token, argc > 1 ? argv[1] : "",
                            "post-42", &verdict) != RG_OK)
        return 1;
    printf("%s %s\n", ch.question, rg_verdict_name(verdict));
    /* quickstart: end */

    rg_guard_free(guard);
    return 0;
}
