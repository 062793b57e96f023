<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * What the judge decides about a submission (rg_action): publish it, hold
 * it for a moderator, or refuse it and show the form again. The values are
 * rg_action_name()'s. Cases are in order of severity: a decision is the
 * most severe action of its findings.
 */
enum Action: string
{
    case Accept = 'accept';
    case Moderate = 'moderate';
    case Reject = 'reject';

    /**
     * The case for an rg_action number.
     *
     * @throws InvalidArgumentException for a number that is none.
     */
    public static function fromC(int $value): self
    {
        return self::cases()[$value] ?? throw new InvalidArgumentException(
            "invalid argument: no action $value",
            Exception::EINVAL,
        );
    }

    /** This action's rg_action number. */
    public function toC(): int
    {
        return (int) array_search($this, self::cases(), true);
    }
}
