<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * One token that decided a classification (rg_clue), and what it says.
 */
final class Clue
{
    /**
     * @param string $token       the token: "free", "dom:example.com"
     * @param float  $probability Robinson's f(w): 0 hammy, 1 spammy
     * @param int    $spamCount   spam comments that had it
     * @param int    $hamCount    ham comments that had it
     */
    public function __construct(
        public readonly string $token,
        public readonly float $probability,
        public readonly int $spamCount,
        public readonly int $hamCount,
    ) {
    }
}
