#!/usr/bin/env python3
"""Cross-validate replyguard's content filter against bogofilter.

Ten-fold cross-validation on the fixed folds of the YouTube Spam Collection
and the SMS Spam Collection (../shared/data), for replyguard (in process
with a memory: and a sqlite: model, and through the captcha-check CLI) and,
in the same run, for bogofilter with its default settings. Prints one
Markdown table per corpus, the speed ratios against bogofilter and the
filter's targets, and writes them with ROC plots and every score to the
output directory. docs/evaluation.md says what it measures and why.

Python 3 standard library only. Exits 0 when the run completed, whether or
not the targets were met; 2 on a harness error (missing program, data that
does not match its README, a system that fails or loses messages).
"""

import argparse
import csv
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What the corpora's READMEs state; a mismatch stops the run.
CORPORA = {
    "youtube": {
        "dir": "youtube-spam",
        "title": "YouTube Spam Collection",
        "files": {
            "Youtube01-Psy.csv":
                "19797e6c77690e3c8809cfd2853ae7341390636367ba66cf5d4f4083f0b88535",
            "Youtube02-KatyPerry.csv":
                "902c614f8ef24f987d6f614d7e6111aa5160b89a0646b68e007bd6044a3d123b",
            "Youtube03-LMFAO.csv":
                "702ef589860a1831956f527760a3d9737ef8a07ab36c7de35b92b8898b8c3928",
            "Youtube04-Eminem.csv":
                "92f54eb6b22fdf3b7ae85e1f500e5aa7442edd025e504b988a97078756187e76",
            "Youtube05-Shakira.csv":
                "1d8ab47b71e8037c51183b2fc62f0591a48a4b54f3a4f5d9d3043113b274e98e",
            "folds.csv":
                "a1f9c1ec02b14813fc52dd7fca74bbd6aeb663b43ac3bc6a1fd8e6857f94a827",
        },
        "total": 1956, "spam": 1005, "ham": 951,
        "fold_size": (195, 196), "fold_spam": (100, 101), "fold_ham": (95, 96),
        "targets": {"mcc": 0.88, "auc": 0.975},
    },
    "sms": {
        "dir": "sms-spam",
        "title": "SMS Spam Collection",
        "files": {
            "SMSSpamCollection":
                "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d",
            "folds.csv":
                "c019f6abaebdc692ba7f32a4b6ccad1430f528c619d214371ef8213ee21ae4a6",
        },
        "total": 5574, "spam": 747, "ham": 4827,
        "fold_size": (557, 558), "fold_spam": (74, 75), "fold_ham": (482, 483),
        "targets": {"mcc": 0.90, "auc": 0.985},
    },
}
NFOLDS = 10
HAM_MARKED_SPAM_MAX = 0.01
SPEED_TARGETS = [  # (what, system, phase, at least this many times bogofilter)
    ("in-process classify", "memory", "classify", 10.0),
    ("in-process train", "memory", "train", 5.0),
    ("CLI classify", "cli", "classify", 3.0),
]
SYSTEMS = ["memory", "sqlite", "cli", "bogofilter"]
LABELS = {
    "memory": "replyguard (memory:)",
    "sqlite": "replyguard (sqlite:)",
    "cli": "replyguard CLI (sqlite:)",
    "bogofilter": "bogofilter 1.2 (defaults)",
}

# Bogofilter: no configuration file (-C), so its compiled-in defaults hold
# (Debian's /etc/bogofilter.cf is all comments anyway). The terse format only
# changes how the score is printed: the verdict letter (S/H/U from its
# default cutoffs), the score in %e for precision near 0 and in %f for
# precision near 1 (its own format code truncates longer fields).
BOGO_BASE = ["bogofilter", "-C"]
BOGO_TERSE = "%1.1c %.10e %0.16f"
MBOX_FROM = "From replyguard-eval Thu Jan  1 00:00:00 1970\n"
MBOX_HEADER = "Content-Type: text/plain; charset=utf-8\n"


class HarnessError(Exception):
    pass


# ---- Data --------------------------------------------------------------


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def clean(text):
    """The comment text as the systems see it: U+FEFF removed (its presence
    depends on video and class in the YouTube files, a label leak)."""
    return text.replace("\ufeff", "")


def load_youtube(d, spec):
    """Rows in file order: dicts with file, row, label, text."""
    rows = []
    for name in sorted(n for n in spec["files"] if n != "folds.csv"):
        with open(d / name, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            if header != ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]:
                raise HarnessError(f"{name}: unexpected header {header}")
            for i, rec in enumerate(reader):
                if len(rec) != 5 or rec[4] not in ("0", "1"):
                    raise HarnessError(f"{name}: record {i}: malformed")
                # Only CONTENT and CLASS: COMMENT_ID, AUTHOR and DATE leak
                # the label (README) and are never read.
                rows.append({"file": name, "row": i,
                             "label": "spam" if rec[4] == "1" else "ham",
                             "text": clean(rec[3])})
    return rows


def load_sms(d, spec):
    rows = []
    data = (d / "SMSSpamCollection").read_text(encoding="utf-8")
    lines = data.split("\n")  # not splitlines(): it also splits on U+2028
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        label, sep, text = line.partition("\t")
        if not sep or label not in ("ham", "spam"):
            raise HarnessError(f"SMSSpamCollection: line {i + 1}: malformed")
        rows.append({"file": "SMSSpamCollection", "row": i, "label": label,
                     "text": clean(text)})
    return rows


def load_corpus(data_dir, name):
    spec = CORPORA[name]
    d = data_dir / spec["dir"]
    if not d.is_dir():
        raise HarnessError(f"{d}: no such directory (see --data)")
    for fname, digest in spec["files"].items():
        if sha256_of(d / fname) != digest:
            raise HarnessError(f"{d / fname}: sha256 differs from the README")
    rows = load_youtube(d, spec) if name == "youtube" else load_sms(d, spec)

    folds = {}
    with open(d / "folds.csv", encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            key = (rec["file"], int(rec["row_index"]))
            if key in folds:
                raise HarnessError(f"folds.csv: {key} twice")
            folds[key] = int(rec["fold"])
    for r in rows:
        key = (r["file"], r["row"])
        if key not in folds:
            raise HarnessError(f"folds.csv: no fold for {key}")
        r["fold"] = folds.pop(key)
    if folds:
        raise HarnessError(f"folds.csv: {len(folds)} rows match no comment")

    def check(what, got, want):
        if isinstance(want, tuple):
            ok = want[0] <= got <= want[1]
        else:
            ok = got == want
        if not ok:
            raise HarnessError(f"{name}: {what} is {got}, README says {want}")

    check("comments", len(rows), spec["total"])
    check("spam", sum(r["label"] == "spam" for r in rows), spec["spam"])
    check("ham", sum(r["label"] == "ham" for r in rows), spec["ham"])
    for k in range(NFOLDS):
        fr = [r for r in rows if r["fold"] == k]
        check(f"fold {k} size", len(fr), spec["fold_size"])
        check(f"fold {k} spam", sum(r["label"] == "spam" for r in fr),
              spec["fold_spam"])
        check(f"fold {k} ham", sum(r["label"] == "ham" for r in fr),
              spec["fold_ham"])
    for i, r in enumerate(rows):
        r["id"] = str(i)  # the harness's own id: never the corpus's
    return rows


# ---- Writing the inputs of one fold ------------------------------------


def write_jsonl(path, rows, with_label):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            obj = {"id": r["id"]}
            if with_label:
                obj["label"] = r["label"]
            obj["body"] = r["text"]
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")


FROM_LINE = re.compile(r"^(>*From )", re.M)


def write_mbox(path, rows):
    """One message per comment: the envelope line, one Content-Type header,
    the text as its body (mboxrd-quoted so no line can start a message)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            body = r["text"].replace("\r\n", "\n").replace("\r", "\n")
            body = FROM_LINE.sub(r">\1", body)
            f.write(MBOX_FROM + MBOX_HEADER + "\n" + body + "\n\n")


# ---- Running the systems ------------------------------------------------


def run(cmd, stdin_path=None, what=None, ok_codes=(0,), env=None):
    """Runs cmd; returns (stdout, seconds of wall clock)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
        secs = time.perf_counter() - t0
    finally:
        if stdin_path:
            stdin.close()
    if p.returncode not in ok_codes:
        err = p.stderr.decode("utf-8", "replace").strip()
        raise HarnessError(f"{what or cmd[0]}: exit {p.returncode}: "
                           f"{' '.join(map(str, cmd))}\n{err[-2000:]}")
    return p.stdout.decode("utf-8"), secs


def parse_tsv_scores(out, test_rows, what):
    got = {}
    for line in out.splitlines():
        ident, score, verdict = line.split("\t")
        got[ident] = (float(score), verdict)
    return match_scores(got, test_rows, what)


def match_scores(got, test_rows, what):
    want = {r["id"] for r in test_rows}
    if set(got) != want or len(got) != len(test_rows):
        raise HarnessError(f"{what}: scored {len(got)} comments, expected "
                           f"{len(test_rows)} (ids differ)")
    for ident, (score, verdict) in got.items():
        if not (0.0 <= score <= 1.0) or verdict not in ("ham", "unsure",
                                                        "spam"):
            raise HarnessError(f"{what}: bad score line for {ident}")
    return got


def run_bayes_cv(exe, store, train, test, test_rows, tmp, what):
    stats_path = tmp / "stats.json"
    out, _ = run([str(exe), "--store", store, "--stats", str(stats_path),
                  str(train), str(test)], what=what)
    stats = json.loads(stats_path.read_text())
    scores = parse_tsv_scores(out, test_rows, what)
    return scores, stats


def run_cli(exe, db_path, train_spam, train_ham, test, test_rows):
    db = "sqlite:" + str(db_path)
    _, t1 = run([str(exe), "train", "--db", db, "--spam", str(train_spam)],
                what="captcha-check train --spam")
    _, t2 = run([str(exe), "train", "--db", db, "--ham", str(train_ham)],
                what="captcha-check train --ham")
    out, t3 = run([str(exe), "classify", "--db", db, str(test)],
                  what="captcha-check classify")
    got = {}
    for n, line in enumerate(out.splitlines(), 1):
        try:
            obj = json.loads(line)
            got[str(obj["id"])] = (float(obj["spamicity"]), obj["verdict"])
        except (KeyError, TypeError, ValueError) as e:
            raise HarnessError(f"captcha-check classify: output line {n}: "
                               f"{e!r}")
    return match_scores(got, test_rows, "captcha-check classify"), t1 + t2, t3


def probe_cli(exe, tmp):
    """None when `captcha-check train`/`classify` work, else why not."""
    if not exe.is_file():
        return f"{exe} not built"
    probe = tmp / "probe.jsonl"
    probe.write_text('{"id": "p", "body": "probe"}\n')
    db = "sqlite:" + str(tmp / "probe.sqlite")
    for cmd in ([str(exe), "train", "--db", db, "--ham", str(probe)],
                [str(exe), "classify", "--db", db, str(probe)]):
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            return (f"`captcha-check {cmd[1]}` not available yet "
                    f"(exit {p.returncode}: "
                    f"{err[0] if err else 'no message'})")
    try:
        obj = json.loads(p.stdout.decode("utf-8").splitlines()[0])
        float(obj["spamicity"])
        obj["verdict"]
        obj["id"]
    except (IndexError, KeyError, TypeError, ValueError):
        return "`captcha-check classify` output does not follow the contract"
    return None


def bogo_msg_count(db_dir):
    out, _ = run(["bogoutil", "-w", str(db_dir), ".MSG_COUNT"],
                 what="bogoutil -w")
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == ".MSG_COUNT":
            return int(f[1]), int(f[2])
    raise HarnessError(f"bogoutil -w: no .MSG_COUNT in {out!r}")


def run_bogofilter(db, k, spam_mbox, ham_mbox, n_spam, n_ham, test_mbox,
                   test_rows):
    db.mkdir()
    _, t1 = run(BOGO_BASE + ["-d", str(db), "-s", "-M"], spam_mbox,
                what="bogofilter -s")
    _, t2 = run(BOGO_BASE + ["-d", str(db), "-n", "-M"], ham_mbox,
                what="bogofilter -n")
    # Each comment must have been learned as a message of its own.
    if bogo_msg_count(db) != (n_spam, n_ham):
        raise HarnessError(f"bogofilter fold {k}: learned "
                           f"{bogo_msg_count(db)} (spam, ham) messages, "
                           f"gave it {(n_spam, n_ham)}")
    # Exit codes 0/1/2 are spam/ham/unsure (of the last message); 3 is an
    # error.
    out, t3 = run(BOGO_BASE + ["-d", str(db), "-M", "-t",
                               "--terse-format=" + BOGO_TERSE],
                  test_mbox, what="bogofilter -M -t", ok_codes=(0, 1, 2))
    lines = out.splitlines()
    if len(lines) != len(test_rows):
        raise HarnessError(f"bogofilter fold {k}: {len(lines)} results for "
                           f"{len(test_rows)} messages")
    got = {}
    verdicts = {"S": "spam", "H": "ham", "U": "unsure"}
    for r, line in zip(test_rows, lines):
        letter, e_score, f_score = line.split()
        score = float(f_score)
        if score < 0.5:
            score = float(e_score)
        got[r["id"]] = (score, verdicts[letter])
    return match_scores(got, test_rows, "bogofilter"), t1 + t2, t3


# ---- Metrics ------------------------------------------------------------


def confusion(labels, verdicts):
    """Binary counts with "unsure" counted as ham."""
    tp = fn = fp = tn = 0
    for y, v in zip(labels, verdicts):
        if y == "spam":
            if v == "spam":
                tp += 1
            else:
                fn += 1
        elif v == "spam":
            fp += 1
        else:
            tn += 1
    return tp, fn, fp, tn


def roc_auc(labels, scores):
    """Mann-Whitney U / (n_spam * n_ham), ties given average ranks (so a
    tie between a spam and a ham counts one half)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for m in range(i, j + 1):
            ranks[order[m]] = avg
        i = j + 1
    n_pos = sum(1 for y in labels if y == "spam")
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    r_pos = sum(r for r, y in zip(ranks, labels) if y == "spam")
    return (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_points(labels, scores):
    """(FPR, TPR) at every distinct threshold, from (0,0) to (1,1)."""
    pairs = sorted(zip(scores, labels), key=lambda p: -p[0])
    n_pos = sum(1 for y in labels if y == "spam")
    n_neg = len(labels) - n_pos
    pts, tp, fp, i = [(0.0, 0.0)], 0, 0, 0
    while i < len(pairs):
        s = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == s:
            if pairs[i][1] == "spam":
                tp += 1
            else:
                fp += 1
            i += 1
        pts.append((fp / n_neg, tp / n_pos))
    return pts


def div(a, b):
    return a / b if b else float("nan")


def metrics(labels, scores, verdicts):
    tp, fn, fp, tn = confusion(labels, verdicts)
    prec, rec = div(tp, tp + fp), div(tp, tp + fn)
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    three = {(y, v): 0 for y in ("ham", "spam")
             for v in ("ham", "unsure", "spam")}
    for y, v in zip(labels, verdicts):
        three[(y, v)] += 1
    n_ham = tn + fp
    return {
        "n": len(labels), "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "accuracy": div(tp + tn, len(labels)),
        "recall": rec,
        "fpr": div(fp, n_ham),
        "precision": prec,
        "f1": div(2 * prec * rec, prec + rec),
        "mcc": (tp * tn - fp * fn) / den if den else 0.0,
        "auc": roc_auc(labels, scores),
        "three_way": {f"{y}->{v}": c for (y, v), c in three.items()},
        "ham_marked_spam": div(three[("ham", "spam")], n_ham),
        "ham_unsure": div(three[("ham", "unsure")], n_ham),
        "spam_unsure": div(three[("spam", "unsure")], tp + fn),
    }


# ---- One corpus ---------------------------------------------------------


def sqlite_bytes(path):
    """A SQLite model's size: the file, its write-ahead log and its model
    image (PATH-image, written by `captcha-check train`)."""
    return sum(p.stat().st_size
               for p in (path, Path(f"{path}-wal"), Path(f"{path}-image"))
               if p.exists())


def run_system(s, k, rnd, fd, build, train, test, spam, ham):
    """One system on one fold: a dict with scores ({id: (score, verdict)}),
    train_s, classify_s, and what is known of the model's size."""
    got = {"mem_kb": None, "rss_kb": None, "disk_bytes": None}
    if s in ("memory", "sqlite"):
        model = fd / f"model-{rnd}.sqlite"
        store = "memory:" if s == "memory" else "sqlite:" + str(model)
        got["scores"], st = run_bayes_cv(
            build / "bench" / "bayes-cv", store, fd / "train.jsonl",
            fd / "test.jsonl", test, fd, f"bayes-cv --store {s}: fold {k}")
        if (st["model_spam"], st["model_ham"]) != (len(spam), len(ham)):
            raise HarnessError(f"bayes-cv --store {s} fold {k}: the model "
                               f"holds {st['model_spam']} spam and "
                               f"{st['model_ham']} ham, not {len(spam)} and "
                               f"{len(ham)}")
        got["train_s"] = st["train_seconds"]
        got["classify_s"] = st["classify_seconds"]
        # The same work without threads, for comparison (memory: only
        # trains twice).
        got["classify1_s"] = st["classify_one_by_one_seconds"]
        if st["train_one_thread_seconds"] >= 0:
            got["train1_s"] = st["train_one_thread_seconds"]
        got["mem_kb"] = st["peak_rss_increase_kb"]
        got["rss_kb"] = st["rss_increase_kb"]
        if s == "sqlite":
            got["disk_bytes"] = sqlite_bytes(model)
    elif s == "cli":
        db = fd / f"cli-{rnd}.sqlite"
        got["scores"], got["train_s"], got["classify_s"] = run_cli(
            build / "tools" / "captcha-check", db, fd / "train-spam.jsonl",
            fd / "train-ham.jsonl", fd / "test.jsonl", test)
        got["disk_bytes"] = sqlite_bytes(db)
    else:
        db = fd / f"bogo-{rnd}"
        got["scores"], got["train_s"], got["classify_s"] = run_bogofilter(
            db, k, fd / "train-spam.mbox", fd / "train-ham.mbox", len(spam),
            len(ham), fd / "test.mbox", test)
        got["disk_bytes"] = sum(f.stat().st_size for f in db.iterdir()
                                if f.name.endswith(".db"))
    return got


def evaluate(name, rows, systems, build, out_dir, rounds, notes):
    """Cross-validates every system on one corpus. Each fold runs every
    system `rounds` times, taking turns, and keeps each phase's fastest
    time (machines are noisy); the scores must not change between rounds."""
    res = {s: {"scores": {}, "train_s": 0.0, "classify_s": 0.0,
               "train_n": 0, "classify_n": 0, "mem_kb": [], "rss_kb": [],
               "disk_bytes": [], "per_fold": []} for s in systems}
    dup_in_train = 0
    with tempfile.TemporaryDirectory(prefix=f"rg-eval-{name}-") as td:
        tmp = Path(td)
        for k in range(NFOLDS):
            fd = tmp / f"fold{k}"
            fd.mkdir()
            train = [r for r in rows if r["fold"] != k]
            test = [r for r in rows if r["fold"] == k]
            if {r["id"] for r in train} & {r["id"] for r in test}:
                raise HarnessError(f"fold {k}: train and test overlap")
            train_texts = {r["text"] for r in train}
            dup_in_train += sum(r["text"] in train_texts for r in test)
            spam = [r for r in train if r["label"] == "spam"]
            ham = [r for r in train if r["label"] == "ham"]
            # Test inputs carry the harness's id and the text, no label.
            write_jsonl(fd / "train.jsonl", train, True)
            write_jsonl(fd / "test.jsonl", test, False)
            if "cli" in systems:
                write_jsonl(fd / "train-spam.jsonl", spam, False)
                write_jsonl(fd / "train-ham.jsonl", ham, False)
            if "bogofilter" in systems:
                write_mbox(fd / "train-spam.mbox", spam)
                write_mbox(fd / "train-ham.mbox", ham)
                write_mbox(fd / "test.mbox", test)

            print(f"eval-bayes: {name} fold {k + 1}/{NFOLDS}", file=sys.stderr,
                  flush=True)
            best = {}
            for rnd in range(rounds):
                for s in systems:
                    got = run_system(s, k, rnd, fd, build, train, test, spam,
                                     ham)
                    if s not in best:
                        best[s] = got
                        continue
                    b = best[s]
                    if got["scores"] != b["scores"]:
                        notes.append(f"{LABELS[s]}, {name} fold {k}: scores "
                                     f"changed between rounds (first round "
                                     f"kept)")
                    for key in ("train_s", "classify_s", "train1_s",
                                "classify1_s"):
                        if key in got:
                            b[key] = min(b[key], got[key])
                    for key in ("mem_kb", "rss_kb"):
                        if got[key] is not None:
                            b[key] = max(b[key], got[key])
            for s in systems:
                r, b = res[s], best[s]
                r["scores"].update(b["scores"])
                r["train_s"] += b["train_s"]
                r["classify_s"] += b["classify_s"]
                for key in ("train1_s", "classify1_s"):
                    if key in b:
                        r[key] = r.get(key, 0.0) + b[key]
                r["train_n"] += len(train)
                r["classify_n"] += len(test)
                for key in ("mem_kb", "rss_kb", "disk_bytes"):
                    if b[key] is not None:
                        r[key].append(b[key])
                r["per_fold"].append(metrics(
                    [t["label"] for t in test],
                    [b["scores"][t["id"]][0] for t in test],
                    [b["scores"][t["id"]][1] for t in test]))
            shutil.rmtree(fd)

    labels = [r["label"] for r in rows]
    summary = {}
    for s in systems:
        r = res[s]
        m = metrics(labels, [r["scores"][x["id"]][0] for x in rows],
                    [r["scores"][x["id"]][1] for x in rows])
        m["train_per_s"] = div(r["train_n"], r["train_s"])
        m["classify_per_s"] = div(r["classify_n"], r["classify_s"])
        m["train_s"], m["classify_s"] = r["train_s"], r["classify_s"]
        for key, n in (("train1", r["train_n"]), ("classify1",
                                                  r["classify_n"])):
            if key + "_s" in r:
                m[key + "_per_s"] = div(n, r[key + "_s"])
        m["model_peak_kb"] = max(r["mem_kb"]) if r["mem_kb"] else None
        m["model_rss_kb"] = max(r["rss_kb"]) if r["rss_kb"] else None
        m["model_disk_bytes"] = (max(r["disk_bytes"]) if r["disk_bytes"]
                                 else None)
        m["per_fold"] = r["per_fold"]
        m["scores"] = r["scores"]
        summary[s] = m

    write_scores(out_dir / f"scores-{name}.tsv", rows, systems, res)
    plot = plot_roc(out_dir, name, rows, systems, res)
    return summary, dup_in_train, plot


def write_scores(path, rows, systems, res):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["id", "file", "row_index", "fold", "label"] +
                   [f"{s}_{c}" for s in systems for c in ("score",
                                                           "verdict")])
        for r in rows:
            cells = [r["id"], r["file"], r["row"], r["fold"], r["label"]]
            for s in systems:
                score, verdict = res[s]["scores"][r["id"]]
                cells += [repr(score), verdict]
            w.writerow(cells)


# ---- ROC plot -----------------------------------------------------------


def gnuplot_terminal():
    """The best PNG terminal this gnuplot has, or None for SVG only."""
    try:
        p = subprocess.run(["gnuplot", "-e", "set terminal"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except FileNotFoundError:
        return "missing"
    names = {l.split()[0] for l in p.stdout.decode(errors="replace")
             .splitlines() if l.strip()}
    for t in ("pngcairo", "png"):
        if t in names:
            return t
    return None


def plot_roc(out_dir, name, rows, systems, res):
    """Writes OUT/roc-<name>.png (or .svg); returns its path or a note."""
    plotted = [s for s in ("memory", "bogofilter") if s in systems]
    if not plotted:
        return "no ROC plot: neither replyguard nor bogofilter ran"
    labels = [r["label"] for r in rows]
    files = []
    for s in plotted:
        pts = roc_points(labels, [res[s]["scores"][r["id"]][0] for r in rows])
        p = out_dir / f"roc-{name}-{s}.dat"
        with open(p, "w") as f:
            f.write("# fpr tpr\n")
            for x, y in pts:
                f.write(f"{x:.6f} {y:.6f}\n")
        auc = roc_auc(labels, [res[s]["scores"][r["id"]][0] for r in rows])
        files.append((p.name, f"{LABELS[s]}, AUC {auc:.4f}"))
    term = gnuplot_terminal()
    if term == "missing":
        return "no ROC plot: gnuplot is not installed"
    png = out_dir / f"roc-{name}.png"
    svg = out_dir / f"roc-{name}.svg"
    target = png if term else svg
    termline = (f"set terminal {term} size 1200,560 font 'sans,11'" if term
                else "set terminal svg size 1200,560 font 'sans,11'")
    colours = ["#1f77b4", "#d62728"]
    curves = ", ".join(
        f"'{fn}' using 1:2 with lines lw 2 lc rgb '{colours[i]}' "
        f"title '{t}'" for i, (fn, t) in enumerate(files))
    script = f"""{termline}
set output '{target.name}'
set multiplot layout 1,2 title "ROC, {CORPORA[name]['title']}, \\
10-fold cross-validation pooled ({len(rows)} comments)"
set xlabel 'false-positive rate (ham scored above the threshold)'
set ylabel 'true-positive rate (spam recall)'
set grid
set key right bottom
set size ratio -1
set xrange [0:1]
set yrange [0:1]
plot {curves}, x with lines dt 2 lc rgb 'gray' notitle
set title 'zoom: false-positive rate up to 10%'
set rmargin 5
set xtics 0.02
set size noratio
set xrange [0:0.1]
set yrange [0.5:1]
plot {curves}
unset multiplot
"""
    gp = out_dir / f"roc-{name}.gp"
    gp.write_text(script)
    p = subprocess.run(["gnuplot", gp.name], cwd=out_dir,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise HarnessError("gnuplot: " + p.stderr.decode(errors="replace"))
    if target == svg and shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
        target = png
    data = target.read_bytes()
    if target == png and (data[:8] != b"\x89PNG\r\n\x1a\n" or
                          len(data) < 2000):
        raise HarnessError(f"{png}: not a sensible PNG")
    return str(target)


# ---- Report -------------------------------------------------------------


def fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def rate(x):
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:,.0f}"


def table(summary, systems):
    head = ("| system | accuracy | spam recall | ham FPR | precision | F1 | "
            "MCC | ROC AUC | ham: H/U/S | spam: H/U/S | ham marked spam | "
            "train c/s | classify c/s | model size |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for s in systems:
        m = summary[s]
        t = m["three_way"]
        if m["model_peak_kb"] is not None:
            mem = f"{m['model_peak_kb'] / 1024:.1f} MiB RSS"
        elif m["model_disk_bytes"] is not None:
            mem = f"{m['model_disk_bytes'] / 1048576:.1f} MiB file"
        else:
            mem = "n/a"
        lines.append(
            f"| {LABELS[s]} | {fmt(m['accuracy'])} | {fmt(m['recall'])} | "
            f"{fmt(m['fpr'])} | {fmt(m['precision'])} | {fmt(m['f1'])} | "
            f"{fmt(m['mcc'])} | {fmt(m['auc'])} | "
            f"{t['ham->ham']}/{t['ham->unsure']}/{t['ham->spam']} | "
            f"{t['spam->ham']}/{t['spam->unsure']}/{t['spam->spam']} | "
            f"{100 * m['ham_marked_spam']:.2f}% | {rate(m['train_per_s'])} | "
            f"{rate(m['classify_per_s'])} | {mem} |")
    return "\n".join(lines)


def per_fold_table(summary, systems):
    lines = ["| fold | " + " | ".join(f"{LABELS[s]} MCC / AUC"
                                      for s in systems) + " |",
             "|---|" + "---|" * len(systems)]
    for k in range(NFOLDS):
        cells = [f"{fmt(summary[s]['per_fold'][k]['mcc'], 3)} / "
                 f"{fmt(summary[s]['per_fold'][k]['auc'], 3)}"
                 for s in systems]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def checks(name, summary, systems):
    """Speed ratios and target checks as Markdown list lines."""
    out = []
    bogo = summary.get("bogofilter")
    if bogo:
        for what, s, phase, want in SPEED_TARGETS:
            if s not in summary:
                out.append(f"- {what}: not measured ({LABELS[s]} did not run)")
                continue
            ours, theirs = summary[s][f"{phase}_per_s"], bogo[f"{phase}_per_s"]
            ratio = div(ours, theirs)
            out.append(f"- {what} vs bogofilter: {ratio:.1f}x "
                       f"({rate(ours)} vs {rate(theirs)} comments/s; "
                       f"target >= {want:g}x): {verdict(ratio >= want)}")
        rg = summary.get("memory")
        for key, what in (("classify1", "one rg_bayes_classify() per "
                           "comment"), ("train1", "training on one thread")):
            if rg and key + "_per_s" in rg:
                ratio = div(rg[key + "_per_s"], bogo[key[:-1] + "_per_s"])
                out.append(f"- in-process, {what}: {rate(rg[key + '_per_s'])}"
                           f" comments/s, {ratio:.1f}x bogofilter (no target;"
                           f" the figures above use threads on "
                           f"{os.cpu_count()} CPUs)")
        for s in ("sqlite",):
            if s in summary:
                for phase in ("train", "classify"):
                    ratio = div(summary[s][f"{phase}_per_s"],
                                bogo[f"{phase}_per_s"])
                    out.append(f"- {LABELS[s]} {phase} vs bogofilter: "
                               f"{ratio:.1f}x (no target)")
    rg = summary.get("memory")
    if rg:
        t = CORPORA[name]["targets"]
        out.append(f"- MCC {fmt(rg['mcc'])} >= {t['mcc']}: "
                   f"{verdict(rg['mcc'] >= t['mcc'])}")
        out.append(f"- ROC AUC {fmt(rg['auc'])} >= {t['auc']}: "
                   f"{verdict(rg['auc'] >= t['auc'])}")
        out.append(f"- ham marked spam {100 * rg['ham_marked_spam']:.2f}% "
                   f"<= {100 * HAM_MARKED_SPAM_MAX:g}%: "
                   f"{verdict(rg['ham_marked_spam'] <= HAM_MARKED_SPAM_MAX)}")
        if bogo:
            better = rg["mcc"] > bogo["mcc"] and rg["auc"] > bogo["auc"]
            out.append(f"- better than bogofilter on MCC "
                       f"({fmt(rg['mcc'])} vs {fmt(bogo['mcc'])}) and AUC "
                       f"({fmt(rg['auc'])} vs {fmt(bogo['auc'])}): "
                       f"{verdict(better)}")
    # The same model through three front ends should score alike (the CLI
    # may print fewer digits).
    for s in ("sqlite", "cli"):
        if rg and s in summary:
            a, b = rg["scores"], summary[s]["scores"]
            verdicts = sum(a[i][1] != b[i][1] for i in a)
            diff = max(abs(a[i][0] - b[i][0]) for i in a)
            out.append(f"- {LABELS[s]} agrees with memory: "
                       f"{'yes' if not verdicts and diff <= 1e-6 else 'NO'} "
                       f"({verdicts} verdicts differ; largest score "
                       f"difference {diff:.1e})")
    return out


def default_build():
    for b in ("build/plain", "build/release"):
        if (ROOT / b / "bench" / "bayes-cv").is_file():
            return ROOT / b
    return ROOT / "build/plain"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None,
                    help="the corpora (default: ../shared/data from the "
                         "project root)")
    ap.add_argument("--build", type=Path, default=None,
                    help="the meson build directory with bench/bayes-cv and "
                         "tools/captcha-check (default: build/plain or "
                         "build/release)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where tables, plots and scores go "
                         "(default: build/eval)")
    ap.add_argument("--corpus", choices=["youtube", "sms", "all"],
                    default="all")
    ap.add_argument("--systems", default=",".join(SYSTEMS),
                    help="comma-separated subset of " + ",".join(SYSTEMS))
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs of each system per fold; the fastest time "
                         "of each phase counts (default 3)")
    a = ap.parse_args()

    data = (a.data or (ROOT / ".." / "shared" / "data")).resolve()
    build = a.build or default_build()
    out_dir = a.out or (ROOT / "build" / "eval")
    systems = [s for s in SYSTEMS if s in a.systems.split(",")]
    unknown = set(a.systems.split(",")) - set(SYSTEMS)
    if unknown or not systems:
        ap.error(f"--systems: unknown {sorted(unknown)}")
    corpora = ["youtube", "sms"] if a.corpus == "all" else [a.corpus]
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")

    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    try:
        if {"memory", "sqlite"} & set(systems) and not (
                build / "bench" / "bayes-cv").is_file():
            raise HarnessError(f"{build}/bench/bayes-cv not found: build it "
                               f"(ninja -C BUILD) or pass --build")
        if "bogofilter" in systems:
            for prog in ("bogofilter", "bogoutil"):
                if not shutil.which(prog):
                    raise HarnessError(f"{prog} not found: apt-get install "
                                       f"bogofilter")
        out_dir.mkdir(parents=True, exist_ok=True)
        notes = []
        if "cli" in systems:
            with tempfile.TemporaryDirectory(prefix="rg-eval-probe-") as td:
                why = probe_cli(build / "tools" / "captcha-check", Path(td))
            if why:
                systems.remove("cli")
                notes.append(f"replyguard CLI skipped: {why}")
        if "bogofilter" in systems:
            v = subprocess.run(["bogofilter", "-V"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT).stdout.decode()
            LABELS["bogofilter"] = (f"bogofilter {v.split()[2]} (defaults)"
                                    if len(v.split()) > 2 else "bogofilter")

        body, results = [], {}
        for name in corpora:
            rows = load_corpus(data, name)
            t0 = time.perf_counter()
            summary, dups, plot = evaluate(name, rows, systems, build,
                                           out_dir, a.rounds, notes)
            secs = time.perf_counter() - t0
            n_spam = sum(r["label"] == "spam" for r in rows)
            body += [f"## {CORPORA[name]['title']} ({len(rows)} comments: "
                     f"{n_spam} spam, {len(rows) - n_spam} ham)", "",
                     table(summary, systems), ""]
            body += checks(name, summary, systems) + [""]
            body += [f"{dups} test comments repeat a text of their training "
                     f"folds exactly (the corpus's own duplicates, kept as "
                     f"in the literature). ROC plot: `{plot}`. Corpus "
                     f"time: {secs:.1f} s.", ""]
            body += ["<details><summary>per fold</summary>", "",
                     per_fold_table(summary, systems), "", "</details>", ""]
            results[name] = {"systems": {s: {k: v for k, v in m.items()
                                             if k != "scores"}
                                         for s, m in summary.items()},
                             "duplicates_in_train": dups,
                             "seconds": secs, "plot": plot}
        report = ["# replyguard content filter vs bogofilter: 10-fold "
                  "cross-validation", "",
                  f"Data: `{data}`. Build: `{build}`. Metrics pooled over "
                  f"the 10 fixed folds, at each system's default cutoffs, "
                  f"\"unsure\" counted as ham (so ham FPR is the share of "
                  f"ham marked spam). Three-way counts are true class -> "
                  f"ham/unsure/spam. Speeds are comments per second over "
                  f"all folds (train: nine folds each; classify: the test "
                  f"fold), each phase the fastest of {a.rounds} round(s). "
                  f"Model size: resident memory the model added, or the "
                  f"size of its file.", ""]
        report += [f"Machine: {os.cpu_count()} CPUs, load average "
                   f"{load_start:.2f} at the start and "
                   f"{os.getloadavg()[0]:.2f} at the end (other work on the "
                   f"machine slows all systems, not always alike).", ""]
        report += [f"Note: {n}" for n in notes] + ([""] if notes else [])
        report += body
        total = time.perf_counter() - started
        report.append(f"Total run time: {total:.1f} s.")
        text = "\n".join(report) + "\n"
        sys.stdout.write(text)
        (out_dir / "report.md").write_text(text)
        (out_dir / "results.json").write_text(
            json.dumps({"notes": notes, "corpora": results}, indent=1,
                       default=str) + "\n")
    except (HarnessError, OSError, ValueError, subprocess.SubprocessError) \
            as e:
        print(f"eval-bayes: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
