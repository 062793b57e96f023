/*
 * main() for one Check suite. Each tests/test-<module>.c exports
 * Suite *<module>_suite(void); meson compiles this file with
 * -DRG_SUITE=<module>_suite for each of them.
 */
#include <check.h>
#include <stdlib.h>

#ifndef RG_SUITE
#error "build with -DRG_SUITE=<module>_suite"
#endif

Suite *RG_SUITE(void);

int main(void)
{
    SRunner *runner = srunner_create(RG_SUITE());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
