<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

/**
 * A clock the test moves by hand, for Guard's and Limiter's `clock`.
 */
final class ManualClock
{
    public function __construct(public int $now = 1750000000)
    {
    }

    public function __invoke(): int
    {
        return $this->now;
    }

    public function advance(int $seconds): void
    {
        $this->now += $seconds;
    }
}
