/* Compiled with -std=c99 -pedantic -Werror: the header must stand alone. */
#include <replyguard.h>

int main(void)
{
    rg_config cfg;
    rg_config_init(&cfg);
    return cfg.size == sizeof cfg && RG_OK == 0 ? 0 : 1;
}
