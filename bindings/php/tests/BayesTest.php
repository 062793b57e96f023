<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\Bayes;
use ReplyGuard\BayesVerdict;
use ReplyGuard\Comment;
use ReplyGuard\Exception;
use ReplyGuard\InvalidArgumentException;
use ReplyGuard\NotLearnedException;
use ReplyGuard\StoreException;

/**
 * Bayes: learning, unlearning, scores, batches, stores and errors.
 */
final class BayesTest extends TestCase
{
    private const SPAM = [
        'Cheap pills online, buy viagra now at http://pills.example.com',
        'Casino bonus! Win money fast http://casino.example.net',
        'Buy cheap replica watches, best price http://watches.example.org',
        'Earn money from home, click http://money.example.com now',
    ];

    private const HAM = [
        'Thanks for the article, the part about compost was really helpful.',
        'I tried the recipe last night and my family loved it.',
        'Great photos of the mountains, which lens did you use?',
        'I disagree with the second point, but the argument is well made.',
    ];

    private function trained(string $url = 'memory:'): Bayes
    {
        $filter = new Bayes($url);
        foreach (self::SPAM as $text) {
            $filter->learn($text, spam: true);
        }
        foreach (self::HAM as $text) {
            $filter->learn($text, spam: false);
        }
        return $filter;
    }

    public function testClassify(): void
    {
        $filter = $this->trained();
        $spam = $filter->classify('buy cheap pills, casino money http://pills.example.com');
        $ham = $filter->classify('Thanks, the compost article was helpful and the photos great.');
        $this->assertGreaterThan(0.9, $spam->spamicity);
        $this->assertSame(BayesVerdict::Spam, $spam->verdict);
        $this->assertLessThan(0.2, $ham->spamicity);
        $this->assertSame(BayesVerdict::Ham, $ham->verdict);
        $this->assertSame([], $spam->clues);
    }

    public function testEmptyModelIsUnsure(): void
    {
        $r = (new Bayes())->classify('anything at all');
        $this->assertEqualsWithDelta(0.5, $r->spamicity, 1e-9);
        $this->assertSame(BayesVerdict::Unsure, $r->verdict);
    }

    public function testClues(): void
    {
        $r = $this->trained()->classify('cheap pills', clues: 3);
        $this->assertNotEmpty($r->clues);
        $this->assertLessThanOrEqual(3, count($r->clues));
        $byToken = [];
        foreach ($r->clues as $clue) {
            $byToken[$clue->token] = $clue;
        }
        $this->assertArrayHasKey('cheap', $byToken);
        $this->assertGreaterThan(0.5, $byToken['cheap']->probability);
        $this->assertSame(2, $byToken['cheap']->spamCount);
        $this->assertSame(0, $byToken['cheap']->hamCount);
    }

    public function testCommentFields(): void
    {
        $filter = new Bayes();
        $filter->learn(['body' => 'hello', 'url' => 'http://spam.example.com', 'author' => 'Pills']);
        $filter->learn(new Comment(body: 'hello', author: 'Anna'), spam: false);
        $this->assertSame(1, $filter->stats()->spamComments);
        $this->assertSame(1, $filter->stats()->hamComments);
        $this->assertGreaterThan(0, $filter->stats()->tokens);
        $this->expectException(InvalidArgumentException::class);
        $filter->learn(['comment' => 'a typo of body']);
    }

    public function testUnlearnRestoresTheModel(): void
    {
        $filter = $this->trained();
        $before = $filter->stats();
        $filter->learn('a brand new comment about birds');
        $this->assertSame($before->spamComments + 1, $filter->stats()->spamComments);
        $filter->unlearn('a brand new comment about birds');
        $this->assertEquals($before, $filter->stats());
    }

    public function testUnlearnNeverLearned(): void
    {
        $filter = $this->trained();
        $before = $filter->stats();
        try {
            $filter->unlearn('never seen words zyzzyva quokka', spam: false);
            $this->fail('no exception');
        } catch (NotLearnedException $e) {
            $this->assertSame(Exception::ENOTLEARNED, $e->getCode());
            $this->assertStringContainsString('never learned', $e->getMessage());
        }
        $this->assertEquals($before, $filter->stats());
    }

    public function testBatches(): void
    {
        $filter = new Bayes();
        $filter->learnBatch(self::SPAM, true);
        $filter->learnBatch(self::HAM, array_fill(0, count(self::HAM), false));
        $this->assertSame(4, $filter->stats()->spamComments);
        $this->assertSame(4, $filter->stats()->hamComments);

        $one = $this->trained();
        $texts = [self::SPAM[0], self::HAM[0], 'pills and compost'];
        $batch = $filter->classifyBatch($texts);
        $this->assertCount(3, $batch);
        foreach ($texts as $i => $text) {
            $this->assertEqualsWithDelta($one->classify($text)->spamicity, $batch[$i]->spamicity, 1e-12);
        }
        $this->assertSame([], $filter->classifyBatch([]));

        $filter->unlearnBatch(self::HAM, false);
        $this->assertSame(0, $filter->stats()->hamComments);

        $this->expectException(InvalidArgumentException::class);
        $filter->learnBatch(['a', 'b'], [true]);
    }

    public function testSqliteModelPersists(): void
    {
        $url = 'sqlite:' . Support::scratch() . '/model.sqlite';
        $filter = $this->trained($url);
        $filter->optimize();
        $filter->close();
        $again = new Bayes($url);
        $again->preload();
        $this->assertSame(4, $again->stats()->spamComments);
        $this->assertSame(BayesVerdict::Spam, $again->classify(self::SPAM[1])->verdict);
    }

    public function testCutoffs(): void
    {
        $filter = new Bayes(hamCutoff: 0.0, spamCutoff: 1.0);
        $filter->learn('pills');
        $this->assertSame(BayesVerdict::Unsure, $filter->classify('pills')->verdict);
        $this->expectException(InvalidArgumentException::class);
        new Bayes(hamCutoff: 0.9, spamCutoff: 0.1);
    }

    public function testBadUrl(): void
    {
        try {
            new Bayes('mongodb://localhost/');
            $this->fail('no exception');
        } catch (StoreException $e) {
            $this->assertSame(Exception::EURL, $e->getCode());
        }
    }

    public function testClose(): void
    {
        $filter = new Bayes();
        $filter->close();
        $filter->close();
        $this->expectException(InvalidArgumentException::class);
        $filter->classify('x');
    }
}
