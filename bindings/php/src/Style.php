<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * How the numbers of a question appear (rg_style): "nine + ten =" (Words,
 * the default), "9 + 10 =" (Digits), or each number at random (Mixed).
 */
enum Style: string
{
    case Words = 'words';
    case Digits = 'digits';
    case Mixed = 'mixed';

    /** This style's rg_style number. */
    public function toC(): int
    {
        return match ($this) {
            self::Words => 0,
            self::Digits => 1,
            self::Mixed => 2,
        };
    }
}
