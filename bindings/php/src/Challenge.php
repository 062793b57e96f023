<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * One challenge, ready for the form (rg_challenge): the question to show,
 * the same question in words for speech, and the signed token to send
 * back in a hidden field. Made by Guard::issue(). Holds no handle, so it
 * needs no closing and may outlive its guard.
 */
final class Challenge
{
    /** The question as shown, "nine + ten =", UTF-8. */
    public readonly string $question;

    /** The question wholly in words, "nine plus ten equals", for speech. */
    public readonly string $spoken;

    /** The token, base64url, for the hidden field. */
    public readonly string $token;

    /** The locale the question is in, "en". */
    public readonly string $locale;

    /** When it was issued, Unix seconds. */
    public readonly int $issuedAt;

    /** When its token stops verifying, Unix seconds. */
    public readonly int $expiresAt;

    /** The C struct, kept for rg_form_html() and rg_form_json(). */
    private CData $c;

    /**
     * @internal Guard::issue() makes challenges.
     *
     * @param CData $c an rg_challenge the library wrote
     */
    public function __construct(CData $c)
    {
        $this->c = $c;
        $this->question = FFI::string($c->question);
        $this->spoken = FFI::string($c->spoken);
        $this->token = FFI::string($c->token);
        $this->locale = FFI::string($c->locale);
        $this->issuedAt = Library::u64($c->issued_at);
        $this->expiresAt = Library::u64($c->expires_at);
    }

    /**
     * The challenge's part of a comment form as an HTML fragment
     * (rg_form_html()): the question as the label of the answer box, the
     * token in a hidden field, and the honeypot. Everything in it is
     * escaped; it has no script and no style attribute, so it works without
     * JavaScript and under a strict Content-Security-Policy. Print it inside
     * your own <form>. docs/form.md shows it.
     *
     * Null field names keep the defaults rg_answer, rg_token and rg_note;
     * a form that renames them must give the same names when it reads the
     * POST.
     *
     * @throws InvalidArgumentException for a bad field name.
     */
    public function html(
        ?string $answerField = null,
        ?string $tokenField = null,
        ?string $honeypotField = null,
    ): string {
        return $this->render('rg_form_html', $answerField, $tokenField, $honeypotField);
    }

    /**
     * The same as html() as one JSON object (rg_form_json()), for engines
     * that render their own form: {"question", "spoken", "token", "locale",
     * "expires_at", "fields": {"answer", "token", "honeypot"}}.
     *
     * @throws InvalidArgumentException for a bad field name.
     */
    public function json(
        ?string $answerField = null,
        ?string $tokenField = null,
        ?string $honeypotField = null,
    ): string {
        return $this->render('rg_form_json', $answerField, $tokenField, $honeypotField);
    }

    private function render(
        string $function,
        ?string $answerField,
        ?string $tokenField,
        ?string $honeypotField,
    ): string {
        $ffi = Library::ffi();
        $names = $ffi->new('rg_form_config');
        $ffi->rg_form_config_init(FFI::addr($names));
        // The buffers must live until the call returns.
        $keep = [];
        foreach (
            [
                'answer_field' => $answerField,
                'token_field' => $tokenField,
                'honeypot_field' => $honeypotField,
            ] as $field => $value
        ) {
            if ($value !== null) {
                $keep[$field] = Library::cString($value);
                $names->{$field} = Library::pointer($keep[$field]);
            }
        }
        $size = $ffi->RG_FFI_FORM_MAX;
        $out = $ffi->new("char[$size]");
        $rc = $ffi->{$function}(FFI::addr($this->c), FFI::addr($names), $out, $size);
        Library::check($rc, $function);
        return FFI::string($out);
    }
}
