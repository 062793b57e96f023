// Compiled as C++ with -pedantic -Werror: the header must work there too.
#include <replyguard.h>

int main()
{
    rg_config cfg;
    rg_config_init(&cfg);
    rg_verdict v = RG_VERDICT_PASS;
    return cfg.size == sizeof cfg && v == RG_VERDICT_PASS ? 0 : 1;
}
