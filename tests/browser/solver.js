'use strict';
/*
 * Works out the answer to a replyguard question the way a reader would: from
 * the text on the page. Knows English number words from zero to nine hundred
 * and ninety-nine ("one hundred and five" too), digits, the operators + −
 * (U+2212) × (U+00D7) and their words plus, minus, times, and the phrasings
 * of docs/challenges.md: "nine + ten =", "What is nine plus ten?", "How much
 * is nine plus ten?", and a missing term ("nine + ? = nineteen", "Which
 * number is missing? …", spoken "nine plus what equals nineteen").
 */

const SMALL = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight',
  'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen',
  'sixteen', 'seventeen', 'eighteen', 'nineteen',
];
const TENS = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};
const OPS = {
  '+': '+', plus: '+',
  '-': '-', '\u2212': '-', minus: '-',
  '*': '*', x: '*', '\u00d7': '*', times: '*',
};

/* Splits a question into words, numbers and symbols, lower case, without
 * the phrasing around the sum. */
function tokens(question) {
  return question
    .toLowerCase()
    .replace(/^\s*(what is|how much is|fill in the missing number:|which number is missing\?)\s/, ' ')
    .replace(/[\u2212\u00d7+=?*]/g, ' $& ')
    .replace(/-/g, ' ')
    .split(/[\s:,.]+/)
    .filter((w) => w !== '');
}

/* Reads one number starting at words[i]: digits, or words up to 999.
 * Returns [value, next index], or null when words[i] starts no number. */
function readNumber(words, i) {
  if (/^\d+$/.test(words[i])) return [Number(words[i]), i + 1];
  let value = null;
  let j = i;
  const small = SMALL.indexOf(words[j]);
  if (small >= 0 && words[j + 1] === 'hundred') {
    value = small * 100;
    j += 2;
    if (words[j] === 'and') j++;
  }
  if (TENS[words[j]] !== undefined) {
    value = (value || 0) + TENS[words[j]];
    j++;
    const unit = SMALL.indexOf(words[j]);
    if (unit > 0 && unit < 10) {
      value += unit;
      j++;
    }
  } else if (SMALL.indexOf(words[j]) >= 0) {
    value = (value || 0) + SMALL.indexOf(words[j]);
    j++;
  } else if (value !== null && words[j - 1] === 'and') {
    j--; /* "one hundred and" with nothing after: not ours */
  }
  return value === null ? null : [value, j];
}

/* The answer as a number, or throws when the question is not understood. */
function solve(question) {
  const words = tokens(question);
  const left = []; /* terms, with null for the unknown */
  const ops = [];
  let result = null;
  let afterEquals = false;
  for (let i = 0; i < words.length;) {
    const w = words[i];
    if (w === '=' || w === 'equals') {
      afterEquals = true;
      i++;
    } else if (OPS[w] !== undefined) {
      ops.push(OPS[w]);
      i++;
    } else if (w === '?' || w === 'what') {
      /* A "?" ends "What is …?" unless a term is expected here. */
      if (left.length === ops.length && !afterEquals) left.push(null);
      i++;
    } else {
      const n = readNumber(words, i);
      if (!n) throw new Error(`solver: cannot read "${w}" in "${question}"`);
      if (afterEquals) result = n[0];
      else left.push(n[0]);
      i = n[1];
    }
  }
  if (left.length < 2 || ops.length !== left.length - 1)
    throw new Error(`solver: not a sum: "${question}"`);
  const calc = (terms) =>
    terms.reduce((acc, t, k) => {
      if (k === 0) return t;
      const op = ops[k - 1];
      return op === '+' ? acc + t : op === '-' ? acc - t : acc * t;
    }, 0);
  const unknown = left.indexOf(null);
  if (unknown < 0) return calc(left);
  if (result === null) throw new Error(`solver: no result in "${question}"`);
  /* The missing term is at most 999: try them all. */
  for (let v = 0; v <= 999; v++) {
    const terms = left.slice();
    terms[unknown] = v;
    if (calc(terms) === result) return v;
  }
  throw new Error(`solver: no missing term fits "${question}"`);
}

module.exports = { solve };
