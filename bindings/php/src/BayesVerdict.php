<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * The content filter's three-way verdict (rg_bayes_verdict), from the
 * spamicity and the filter's cutoffs: Ham below hamCutoff, Spam at or
 * above spamCutoff, Unsure in between (for a moderator). The values are
 * rg_bayes_verdict_name()'s.
 */
enum BayesVerdict: string
{
    case Ham = 'ham';
    case Unsure = 'unsure';
    case Spam = 'spam';

    /**
     * The case for an rg_bayes_verdict number.
     *
     * @throws InvalidArgumentException for a number that is none.
     */
    public static function fromC(int $value): self
    {
        return self::cases()[$value] ?? throw new InvalidArgumentException(
            "invalid argument: no content verdict $value",
            Exception::EINVAL,
        );
    }
}
