<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * The outcome of verifying one answer (rg_verdict): not an error, a
 * verdict. The values are the C library's names (rg_verdict_name()).
 *
 * Checked in this order: Malformed (not a token), Forged (unknown key, bad
 * tag or another form's token), Expired, TooFast (sooner than the minimum
 * solve time), Replayed (already answered), Wrong, Pass. Every authentic
 * attempt spends the token, right or wrong: one guess per token.
 */
enum Verdict: string
{
    case Pass = 'pass';
    case Wrong = 'wrong';
    case Expired = 'expired';
    case TooFast = 'too_fast';
    case Replayed = 'replayed';
    case Forged = 'forged';
    case Malformed = 'malformed';

    /**
     * The case for an rg_verdict number, in the C enum's order.
     *
     * @throws InvalidArgumentException for a number that is none.
     */
    public static function fromC(int $value): self
    {
        return self::cases()[$value] ?? throw new InvalidArgumentException(
            "invalid argument: no verdict $value",
            Exception::EINVAL,
        );
    }

    /** This verdict's rg_verdict number. */
    public function toC(): int
    {
        return (int) array_search($this, self::cases(), true);
    }

    /** True only for Pass: the answer was right and the token fresh. */
    public function passed(): bool
    {
        return $this === self::Pass;
    }
}
