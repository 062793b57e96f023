<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * What the content filter says about a comment (rg_bayes_result): the
 * score, the verdict from the cutoffs, and the clues asked for.
 */
final class BayesResult
{
    /**
     * @param float        $spamicity 0 (ham) to 1 (spam); 0.5 from an
     *                                empty model
     * @param BayesVerdict $verdict   from the filter's cutoffs
     * @param list<Clue>   $clues     the tokens that decided, most extreme
     *                                first, when asked for
     */
    public function __construct(
        public readonly float $spamicity,
        public readonly BayesVerdict $verdict,
        public readonly array $clues = [],
    ) {
    }
}
