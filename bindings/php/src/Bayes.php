<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * The content filter (rg_bayes): a Bayesian classifier trained from
 * moderation. Mark comments spam or ham with learn(); classify() scores new
 * ones. docs/bayes.md has the tokenizer, the maths and the defaults.
 *
 *     $filter = new Bayes('sqlite:/var/lib/blog/model.sqlite');
 *     $filter->learn('Cheap pills at http://pills.example.com', spam: true);
 *     $result = $filter->classify($comment);   // ->spamicity, ->verdict
 *
 * A comment is a string (its body), an array with the keys body, author,
 * email and url, or a Comment. Pass the filter to a Policy to have
 * Guard::judge() use it.
 */
final class Bayes
{
    /** rg_bayes *, or null once closed. */
    private ?CData $handle;

    /** The filter's max_clues: the library never writes more clues. */
    private int $maxClues;

    /**
     * Opens a filter on a model store (rg_bayes_open()).
     *
     * @param string $url        'memory:' (gone with the process),
     *                           'sqlite:PATH' (created if missing) or
     *                           'redis://…'
     * @param ?float $hamCutoff  below it, ham (default 0.20)
     * @param ?float $spamCutoff at or above it, spam (default 0.90)
     * @param ?float $strength   Robinson's s, the weight of the prior
     *                           (default 1.0)
     * @param ?float $prior      Robinson's x, an unknown token's
     *                           probability (default 0.5)
     * @param ?float $minDeviation tokens with |p - 0.5| below it are
     *                           ignored (default 0.2)
     * @param ?int   $maxClues   the most extreme tokens combined (default
     *                           150)
     * @param ?int   $threads    threads that tokenize a batch of 128 or more
     *                           (default 0: one per CPU, at most 8)
     *
     * @throws StoreException           for a bad or failing store.
     * @throws InvalidArgumentException for cutoffs out of order or range.
     */
    public function __construct(
        string $url = 'memory:',
        ?float $hamCutoff = null,
        ?float $spamCutoff = null,
        ?float $strength = null,
        ?float $prior = null,
        ?float $minDeviation = null,
        ?int $maxClues = null,
        ?int $threads = null,
    ) {
        $this->handle = null;
        $ffi = Library::ffi();
        $cfg = $ffi->new('rg_bayes_config');
        $ffi->rg_bayes_config_init(FFI::addr($cfg));
        if ($hamCutoff !== null) {
            $cfg->ham_cutoff = $hamCutoff;
        }
        if ($spamCutoff !== null) {
            $cfg->spam_cutoff = $spamCutoff;
        }
        foreach (['strength' => $strength, 'prior' => $prior, 'min_deviation' => $minDeviation] as $field => $value) {
            if ($value !== null) {
                $cfg->{$field} = $value;
            }
        }
        if ($maxClues !== null) {
            $cfg->max_clues = Library::unsigned($maxClues, 'maxClues');
        }
        if ($threads !== null) {
            $cfg->threads = Library::unsigned($threads, 'threads');
        }
        $out = $ffi->new('rg_bayes *');
        $rc = $ffi->rg_bayes_open(FFI::addr($out), Library::text($url), FFI::addr($cfg));
        Library::check($rc, "new Bayes('$url')");
        $this->handle = $out;
        $this->maxClues = $cfg->max_clues;
    }

    /**
     * Learns one comment as spam (the default) or ham (rg_bayes_learn()).
     *
     * @param string|array<string, ?string>|Comment $comment
     *
     * @throws StoreException when the store fails or a memory model is full.
     */
    public function learn(string|array|Comment $comment, bool $spam = true): void
    {
        $ffi = Library::ffi();
        $keep = [];
        $c = Comment::of($comment)->toC($keep);
        $rc = $ffi->rg_bayes_learn($this->handle(), FFI::addr($c), $spam ? 1 : 0);
        Library::check($rc, 'learn');
    }

    /**
     * Takes back exactly what learn() taught for this comment and class
     * (rg_bayes_unlearn()). To move a comment from ham to spam, unlearn it
     * as ham and learn it as spam.
     *
     * @param string|array<string, ?string>|Comment $comment
     *
     * @throws NotLearnedException when it was never learned as that class
     *                             (the model is left as it was).
     */
    public function unlearn(string|array|Comment $comment, bool $spam = true): void
    {
        $ffi = Library::ffi();
        $keep = [];
        $c = Comment::of($comment)->toC($keep);
        $rc = $ffi->rg_bayes_unlearn($this->handle(), FFI::addr($c), $spam ? 1 : 0);
        Library::check($rc, 'unlearn');
    }

    /**
     * Learns many comments in one atomic step (rg_bayes_learn_batch()):
     * with sqlite:, one transaction, so all of them or none are kept.
     *
     * @param list<string|array<string, ?string>|Comment> $comments
     * @param bool|list<bool> $spam one class for all, or one per comment
     *
     * @throws InvalidArgumentException for a class that is not a bool, or
     *                                  a list of another length; nothing is
     *                                  learned then.
     */
    public function learnBatch(array $comments, bool|array $spam = true): void
    {
        $this->batch($comments, $spam, false);
    }

    /**
     * Unlearns many comments in one atomic step; see learnBatch().
     *
     * @param list<string|array<string, ?string>|Comment> $comments
     * @param bool|list<bool> $spam
     */
    public function unlearnBatch(array $comments, bool|array $spam = true): void
    {
        $this->batch($comments, $spam, true);
    }

    /**
     * Scores a comment (rg_bayes_classify()); with $clues > 0, also the
     * tokens that decided, most extreme first (never more than the filter's
     * maxClues, so a huge $clues costs nothing). An empty model gives 0.5,
     * unsure.
     *
     * @param string|array<string, ?string>|Comment $comment
     *
     * @throws InvalidArgumentException for a negative $clues.
     */
    public function classify(string|array|Comment $comment, int $clues = 0): BayesResult
    {
        $ffi = Library::ffi();
        $keep = [];
        $c = Comment::of($comment)->toC($keep);
        $r = $ffi->new('rg_bayes_result');
        $max = min(Library::unsigned($clues, 'clues', 64), $this->maxClues);
        $buf = $max > 0 ? $ffi->new("rg_clue[$max]") : null;
        $rc = $ffi->rg_bayes_classify($this->handle(), FFI::addr($c), FFI::addr($r), $buf, $max);
        Library::check($rc, 'classify');
        $list = [];
        for ($i = 0; $buf !== null && $i < $r->nclues; $i++) {
            $clue = $buf[$i];
            $list[] = new Clue(
                FFI::string($clue->token),
                $clue->probability,
                $clue->spam_count,
                $clue->ham_count,
            );
        }
        return new BayesResult($r->spamicity, BayesVerdict::fromC($r->verdict), $list);
    }

    /**
     * Scores many comments at once, without clues
     * (rg_bayes_classify_batch()): for a moderation queue or an import.
     *
     * @param list<string|array<string, ?string>|Comment> $comments
     *
     * @return list<BayesResult> in the order of $comments
     */
    public function classifyBatch(array $comments): array
    {
        $ffi = Library::ffi();
        $n = count($comments);
        if ($n === 0) {
            return [];
        }
        $keep = [];
        $cs = $this->comments(array_values($comments), $keep);
        $rs = $ffi->new("rg_bayes_result[$n]");
        $rc = $ffi->rg_bayes_classify_batch($this->handle(), $cs, $n, $rs);
        Library::check($rc, 'classifyBatch');
        $out = [];
        for ($i = 0; $i < $n; $i++) {
            $out[] = new BayesResult($rs[$i]->spamicity, BayesVerdict::fromC($rs[$i]->verdict));
        }
        return $out;
    }

    /**
     * The model's totals (rg_bayes_stats_get()): comments learned as spam
     * and as ham (less those unlearned), and distinct tokens.
     */
    public function stats(): BayesStats
    {
        $ffi = Library::ffi();
        $s = $ffi->new('rg_bayes_stats');
        Library::check($ffi->rg_bayes_stats_get($this->handle(), FFI::addr($s)), 'stats');
        return new BayesStats(
            Library::u64($s->spam_comments),
            Library::u64($s->ham_comments),
            Library::u64($s->tokens),
        );
    }

    /**
     * Writes the sqlite: model's image after bulk training, for handles
     * that classify batches (rg_bayes_optimize()). Does nothing with
     * memory:.
     */
    public function optimize(): void
    {
        Library::check(Library::ffi()->rg_bayes_optimize($this->handle()), 'optimize');
    }

    /**
     * Reads the whole model into the handle now rather than as lookups come
     * (rg_bayes_preload()): for a worker that would rather pay at start.
     */
    public function preload(): void
    {
        Library::check(Library::ffi()->rg_bayes_preload($this->handle()), 'preload');
    }

    /**
     * Closes the filter and its store (rg_bayes_close()). Further calls
     * throw; closing again does nothing. A Policy that holds this filter
     * then throws too.
     */
    public function close(): void
    {
        if ($this->handle !== null) {
            Library::ffi()->rg_bayes_close($this->handle);
            $this->handle = null;
        }
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * The rg_bayes pointer.
     *
     * @internal
     *
     * @throws InvalidArgumentException once closed.
     */
    public function handle(): CData
    {
        return $this->handle ?? throw new InvalidArgumentException(
            'invalid argument: the Bayes filter is closed',
            Exception::EINVAL,
        );
    }

    /**
     * @param list<string|array<string, ?string>|Comment> $comments
     * @param bool|list<bool> $spam
     */
    private function batch(array $comments, bool|array $spam, bool $unlearn): void
    {
        $ffi = Library::ffi();
        $comments = array_values($comments);
        $n = count($comments);
        if (is_array($spam) && count($spam) !== $n) {
            throw new InvalidArgumentException(
                "invalid argument: $n comments but " . count($spam) . ' classes',
                Exception::EINVAL,
            );
        }
        if ($n === 0) {
            return;
        }
        $keep = [];
        $cs = $this->comments($comments, $keep);
        $classes = $ffi->new("rg_class[$n]");
        $spam = is_array($spam) ? array_values($spam) : array_fill(0, $n, $spam);
        foreach ($spam as $i => $isSpam) {
            // A truthy 'no' would otherwise learn the comment as spam.
            if (!is_bool($isSpam)) {
                throw new InvalidArgumentException(
                    "invalid argument: spam[$i] must be a bool",
                    Exception::EINVAL,
                );
            }
            $classes[$i] = $isSpam ? 1 : 0;
        }
        $rc = $ffi->rg_bayes_learn_batch($this->handle(), $cs, $classes, $n, $unlearn ? 1 : 0);
        Library::check($rc, $unlearn ? 'unlearnBatch' : 'learnBatch');
    }

    /**
     * An rg_comment array; its strings go to $keep.
     *
     * @param list<string|array<string, ?string>|Comment> $comments
     * @param array<CData> $keep
     */
    private function comments(array $comments, array &$keep): CData
    {
        $ffi = Library::ffi();
        $n = count($comments);
        $cs = $ffi->new("rg_comment[$n]");
        foreach ($comments as $i => $comment) {
            $ffi->rg_comment_init(FFI::addr($cs[$i]));
            Comment::of($comment)->fill($cs[$i], $keep);
        }
        return $cs;
    }
}
