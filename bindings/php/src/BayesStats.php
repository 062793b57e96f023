<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * The content filter's model totals (rg_bayes_stats), from Bayes::stats().
 */
final class BayesStats
{
    /**
     * @param int $spamComments comments learned as spam, less unlearned
     * @param int $hamComments  comments learned as ham, less unlearned
     * @param int $tokens       distinct tokens with a count
     */
    public function __construct(
        public readonly int $spamComments,
        public readonly int $hamComments,
        public readonly int $tokens,
    ) {
    }
}
