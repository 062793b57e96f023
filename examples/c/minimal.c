/*
 * The smallest complete use of replyguard: issue a challenge, show it,
 * verify the answer. A blog engine does the same across two HTTP requests:
 * issue while rendering the form, verify when the comment is posted.
 *
 *   cc minimal.c $(pkg-config --cflags --libs replyguard) -o minimal
 *   ./minimal            (then type the answer)
 */
#include <replyguard.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    rg_config cfg;
    rg_guard *guard = NULL;
    rg_challenge ch;
    rg_verdict verdict;
    uint8_t key[RG_KEY_BYTES] = {0}; /* load a real key: rg_guard_load_keys */
    char answer[128] = "";

    rg_config_init(&cfg);
    cfg.min_solve_s = 0; /* a person at a terminal can be quick */
    if (rg_guard_new(&guard, &cfg) != RG_OK ||
        rg_guard_add_key(guard, 1, key, 1) != RG_OK)
        return 1;

    /* Issue: the question goes on the page, the token in a hidden field. */
    if (rg_challenge_issue(guard, "post-42", &ch) != RG_OK)
        return 1;
    printf("%s ", ch.question);
    fflush(stdout);

    /* Verify: with the answer the reader typed and the same binding. */
    if (!fgets(answer, sizeof answer, stdin))
        answer[0] = '\0';
    answer[strcspn(answer, "\n")] = '\0';
    if (rg_challenge_verify(guard, ch.token, answer, "post-42", &verdict) !=
        RG_OK)
        return 1;
    printf("%s\n", rg_verdict_name(verdict));

    rg_guard_free(guard);
    return verdict == RG_VERDICT_PASS ? 0 : 2;
}
