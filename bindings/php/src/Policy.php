<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * Which layers Guard::judge() runs and what each finding leads to
 * (rg_policy). The limiters and the filter are the caller's: the policy
 * uses them and never closes them, and null turns a layer off. Null
 * settings keep the library's defaults, which docs/judge.md lists: every
 * finding rejects, but `unsure` and `store_unavailable`, which moderate.
 *
 * One policy may serve every request:
 *
 *     $policy = new Policy(
 *         limiter: new Limiter('sqlite:/var/lib/blog/limits', 1 / 60, 4),
 *         bayes: new Bayes('sqlite:/var/lib/blog/model.sqlite'),
 *     );
 */
final class Policy
{
    /** rg_policy's action fields, by property. */
    private const ACTIONS = [
        'onHoneypot' => 'on_honeypot',
        'onCaptchaWrong' => 'on_captcha_wrong',
        'onCaptchaExpired' => 'on_captcha_expired',
        'onCaptchaTooFast' => 'on_captcha_too_fast',
        'onCaptchaReplayed' => 'on_captcha_replayed',
        'onCaptchaForged' => 'on_captcha_forged',
        'onCaptchaMalformed' => 'on_captcha_malformed',
        'onRateLimited' => 'on_rate_limited',
        'onSpam' => 'on_spam',
        'onUnsure' => 'on_unsure',
        'onStoreUnavailable' => 'on_store_unavailable',
    ];

    /**
     * @param ?Limiter $limiter        every submission takes 1, per client
     *                                 (an IPv4 address or an IPv6 /64)
     * @param ?Bayes   $bayes          the content filter
     * @param ?Limiter $failures       counts each client's failed
     *                                 challenges, for the time trap's
     *                                 escalation
     * @param ?Limiter $limiterIpv6_56 also per IPv6 /56
     * @param ?Limiter $limiterIpv6_48 also per IPv6 /48
     * @param LimitBy  $limitBy        whose submissions count together
     * @param ?int     $failureCost    what a failed challenge takes from
     *                                 the limits, 1 to 1000 (default 3)
     * @param ?int     $escalationStep seconds added to the minimum solve
     *                                 time per failure counted (default 10)
     * @param ?int     $escalationCap  the most it grows to (default 300)
     */
    public function __construct(
        public ?Limiter $limiter = null,
        public ?Bayes $bayes = null,
        public ?Limiter $failures = null,
        public ?Limiter $limiterIpv6_56 = null,
        public ?Limiter $limiterIpv6_48 = null,
        public LimitBy $limitBy = LimitBy::Client,
        public ?int $failureCost = null,
        public ?int $escalationStep = null,
        public ?int $escalationCap = null,
        public ?Action $onHoneypot = null,
        public ?Action $onCaptchaWrong = null,
        public ?Action $onCaptchaExpired = null,
        public ?Action $onCaptchaTooFast = null,
        public ?Action $onCaptchaReplayed = null,
        public ?Action $onCaptchaForged = null,
        public ?Action $onCaptchaMalformed = null,
        public ?Action $onRateLimited = null,
        public ?Action $onSpam = null,
        public ?Action $onUnsure = null,
        public ?Action $onStoreUnavailable = null,
    ) {
    }

    /**
     * The rg_policy. Its handles belong to the Limiter and Bayes objects,
     * which this policy holds for as long as it exists.
     *
     * @internal
     *
     * @throws InvalidArgumentException for a closed handle or a setting
     *                                  out of range.
     */
    public function toC(): CData
    {
        $ffi = Library::ffi();
        $p = $ffi->new('rg_policy');
        $ffi->rg_policy_init(FFI::addr($p));
        foreach (self::ACTIONS as $property => $field) {
            if ($this->{$property} !== null) {
                $p->{$field} = $this->{$property}->toC();
            }
        }
        $p->limiter = $this->limiter?->handle();
        $p->limiter_ipv6_56 = $this->limiterIpv6_56?->handle();
        $p->limiter_ipv6_48 = $this->limiterIpv6_48?->handle();
        $p->failures = $this->failures?->handle();
        $p->bayes = $this->bayes?->handle();
        $p->limit_by = $this->limitBy->toC();
        if ($this->failureCost !== null) {
            $p->failure_cost = Library::unsigned($this->failureCost, 'failureCost');
        }
        if ($this->escalationStep !== null) {
            $p->escalation_step_s = Library::unsigned($this->escalationStep, 'escalationStep');
        }
        if ($this->escalationCap !== null) {
            $p->escalation_cap_s = Library::unsigned($this->escalationCap, 'escalationCap');
        }
        return $p;
    }

    /**
     * Throws what a limiter's PHP clock threw during the last judgement.
     *
     * @internal
     */
    public function rethrowClocks(): void
    {
        foreach ([$this->limiter, $this->limiterIpv6_56, $this->limiterIpv6_48, $this->failures] as $l) {
            $l?->rethrowClock();
        }
    }
}
