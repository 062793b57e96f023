<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI\CData;

/**
 * The judge's decision on one submission (rg_decision): what to do, and
 * every reason.
 */
final class Decision
{
    /** Publish, hold for a moderator, or refuse and show the form again. */
    public readonly Action $action;

    /**
     * Every finding, by name: "honeypot", "captcha_wrong",
     * "captcha_expired", "captcha_too_fast", "captcha_replayed",
     * "captcha_forged", "captcha_malformed", "rate_limited", "spam",
     * "unsure", "store_unavailable" (rg_reason_name()). Empty for a plain
     * accept.
     *
     * @var list<string>
     */
    public readonly array $reasons;

    /** The same as RG_REASON_* bits. */
    public readonly int $reasonBits;

    /**
     * Whether the challenge was verified (its token spent). Not when the
     * decision was already reject before it, nor when the replay store
     * failed.
     */
    public readonly bool $verified;

    /** The challenge's verdict, or null when it was not verified. */
    public readonly ?Verdict $verdict;

    /** The content filter's score, 0 to 1, or null when it did not run. */
    public readonly ?float $spamicity;

    /** When rate limited: milliseconds until the client may post; else 0. */
    public readonly int $retryAfterMs;

    /** The minimum solve time applied to this client, in seconds. */
    public readonly int $minSolve;

    /**
     * @internal Guard::judge() makes decisions.
     *
     * @param CData $d the rg_decision the library wrote
     */
    public function __construct(CData $d)
    {
        $ffi = Library::ffi();
        $this->action = Action::fromC($d->action);
        $this->reasonBits = $d->reasons;
        $reasons = [];
        for ($bit = 1; $bit !== 0 && $bit <= $d->reasons; $bit <<= 1) {
            if (($d->reasons & $bit) !== 0) {
                $reasons[] = $ffi->rg_reason_name($bit);
            }
        }
        $this->reasons = $reasons;
        $this->verified = $d->verified !== 0;
        $this->verdict = $this->verified ? Verdict::fromC($d->verdict) : null;
        $this->spamicity = $d->spamicity < 0 ? null : $d->spamicity;
        $this->retryAfterMs = Library::u64($d->retry_after_ms);
        $this->minSolve = $d->min_solve_s;
    }

    /** True when the comment may be published as it is. */
    public function accepted(): bool
    {
        return $this->action === Action::Accept;
    }
}
