"""Read the open German NER corpora into spaCy Docs with kg's tokenizer and PER/ORG/LOC/MISC.

Shared by ``scripts/train-de-ner`` and ``scripts/eval-de-ner``. The corpora stay in
``../shared/data`` (or ``--data``); nothing here copies them into the project.

Label conventions (decided once, applied to training and evaluation alike):

* GermEval 2014 (outer level): PER, ORG, LOC; OTH -> MISC. ``*deriv`` ("deutsche") is not a
  name (O). ``*part`` tokens ("Siemens-Chef") are *missing*: kg splits hyphen compounds, so the
  name inside is an entity at run time, but GermEval does not say which piece it is.
* SmartData and MobIE: PERSON -> PER; ORGANIZATION, ORGANIZATION_COMPANY -> ORG; LOCATION,
  LOCATION_CITY, LOCATION_STREET, LOCATION_STOP -> LOC (GermEval also tags streets and
  stations as LOC). LOCATION_ROUTE ("S4", "A7", "Linie 5") is *missing*: a route is neither
  clearly a name nor clearly not one in the other corpora. Dates, numbers, triggers,
  disaster types, positions etc. are O.

With ``harmonise`` (the default of the training script), two SmartData/MobIE habits that
GermEval does not share are undone in the *training* data only: a LOC mention starting with a
lower-case word ("deutschen", "beiden Richtungen") becomes O (GermEval: LOCderiv / nothing),
and a one-word mention that GermEval's training part uses as a plain word ("Gruppe",
"Konzern": at least 3 times outside any entity mid-sentence and never inside one) becomes
missing (SmartData marks such coreferent nouns as entities). Evaluation gold is never changed.

Missing tokens give no training signal either way; in evaluation, gold spans over them are
not counted and predictions inside them are neither hits nor false alarms.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

LABELS = ("PER", "ORG", "LOC", "MISC")
_GERMEVAL = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "OTH": "MISC"}
_DFKI = {
    "PERSON": "PER", "ORGANIZATION": "ORG", "ORGANIZATION_COMPANY": "ORG",
    "LOCATION": "LOC", "LOCATION_CITY": "LOC", "LOCATION_STREET": "LOC", "LOCATION_STOP": "LOC",
    "LOCATION_ROUTE": None,  # None = missing
}


@dataclass
class GoldDoc:
    """A text with gold entity character spans and spans where the gold says nothing."""

    id: str
    text: str
    spans: list[tuple[int, int, str]]
    missing: list[tuple[int, int]]
    kind: str = ""  # SmartData doc_type (NEWS_HTML, RSS_XML, TWITTER_JSON)


def heldout_bucket(source: str) -> int:
    """A stable 0..99 bucket for a GermEval source URL (document-level splits)."""
    return int(hashlib.md5(source.encode("utf-8")).hexdigest(), 16) % 100


def _tokens_to_doc(doc_id: str, sentences: list[list[tuple[str, str]]], scheme) -> GoldDoc:
    """Sentences of (token, tag) -> one text, a sentence a line; ``scheme(tag)`` gives
    (bio, label or None for missing or "" for O)."""
    text_parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    missing: list[tuple[int, int]] = []
    offset = 0
    for sentence in sentences:
        current = None  # [start, end, label]
        for k, (token, tag) in enumerate(sentence):
            if k:
                text_parts.append(" ")
                offset += 1
            start, end = offset, offset + len(token)
            text_parts.append(token)
            offset = end
            bio, label = scheme(tag)
            if label is None:
                missing.append((start, end))
                current = None
                continue
            if not label:
                current = None
                continue
            if bio == "I" and current is not None and current[2] == label:
                current[1] = end
            else:
                current = [start, end, label]
                spans.append(current)  # type: ignore[arg-type]
        text_parts.append("\n")
        offset += 1
    return GoldDoc(doc_id, "".join(text_parts), [tuple(s) for s in spans], missing)  # type: ignore[misc]


def _germeval_scheme(tag: str):
    if tag == "O":
        return "O", ""
    bio, _, label = tag.partition("-")
    if label.endswith("part"):
        return bio, None
    if label.endswith("deriv"):
        return bio, ""
    return bio, _GERMEVAL[label]


def read_germeval(path: Path) -> Iterator[tuple[str, GoldDoc]]:
    """GermEval TSV -> (source URL, document): consecutive sentences from one source form a
    document (the ``#\\t<url> [date]`` comment before each sentence)."""
    groups: list[tuple[str, list[list[tuple[str, str]]]]] = []
    sentence: list[tuple[str, str]] = []
    source = ""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("#\t"):
                source = line.split("\t")[1].split(" ")[0]
                continue
            if not line.strip():
                if sentence:
                    if groups and groups[-1][0] == source:
                        groups[-1][1].append(sentence)
                    else:
                        groups.append((source, [sentence]))
                    sentence = []
                continue
            cols = line.split("\t")
            sentence.append((cols[1], cols[2]))
    if sentence:
        groups.append((source, [sentence]))
    for k, (src, sentences) in enumerate(groups):
        yield src, _tokens_to_doc(f"{path.stem}:{k}:{src}", sentences, _germeval_scheme)


def _dfki_label(name: str) -> str | None:
    name = name.upper().replace("-", "_")
    if name in _DFKI:
        return _DFKI[name]
    return ""


def read_smartdata(path: Path) -> Iterator[GoldDoc]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            spans, missing = [], []
            for start, end, label, _surface in raw["entities"]:
                mapped = _dfki_label(label)
                if mapped is None:
                    missing.append((start, end))
                elif mapped:
                    spans.append((start, end, mapped))
            yield GoldDoc(raw["id"], raw["text"], spans, missing, raw.get("doc_type") or "")


def _mobie_scheme(tag: str):
    if tag == "O":
        return "O", ""
    bio, _, label = tag.partition("-")
    return bio, _dfki_label(label)


def read_mobie(path: Path) -> Iterator[GoldDoc]:
    docs: list[tuple[str, list[list[tuple[str, str]]]]] = []
    sentence: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                if sentence:
                    docs[-1][1].append(sentence)
                    sentence = []
                docs.append((line.split()[1], []))
                continue
            if not line.strip():
                if sentence:
                    docs[-1][1].append(sentence)
                    sentence = []
                continue
            cols = line.split(" ") if "\t" not in line else line.split("\t")
            sentence.append((cols[0], cols[-1]))
    if sentence:
        docs[-1][1].append(sentence)
    for doc_id, sentences in docs:
        if sentences:
            yield _tokens_to_doc(doc_id, sentences, _mobie_scheme)


def to_spacy(nlp, gold: GoldDoc):
    """A Doc from ``nlp.make_doc`` (kg's tokenizer) with the gold as ``doc.ents``; tokens under
    missing spans are left unannotated (missing), everything else outside an entity is O."""
    from spacy.util import filter_spans

    doc = nlp.make_doc(gold.text)
    ents = [_trimmed(doc.char_span(s, e, label=l, alignment_mode="expand")) for s, e, l in gold.spans]
    ents = filter_spans([e for e in ents if e is not None])
    missing = [doc.char_span(s, e, alignment_mode="expand") for s, e in gold.missing]
    taken = {i for ent in ents for i in range(ent.start, ent.end)}
    missing = filter_spans([m for m in missing if m is not None and not any(i in taken for i in range(m.start, m.end))])
    doc.set_ents(ents, missing=missing, default="outside")
    return doc


def _trimmed(span):
    """The span without edge whitespace or punctuation ("#" of a hashtag, quotes): spaCy's NER
    cannot learn entities that start or end there."""
    if span is None:
        return None
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].is_space or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct):
        end -= 1
    if start == end:
        return None
    return span if (start, end) == (span.start, span.end) else type(span)(doc, start, end, label=span.label_)


def germeval_split(data: Path, heldout_percent: int = 20, dev_percent: int = 5):
    """GermEval dev+test documents split by a hash of the source URL: (train, dev, heldout).
    Buckets [0, heldout) are the held-out test, [heldout, heldout+dev) the training-time dev set."""
    train, dev, heldout = [], [], []
    folder = data / "germeval2014_devtest"
    for name in ("NER-de-dev.tsv", "NER-de-test.tsv"):
        for source, doc in read_germeval(folder / name):
            bucket = heldout_bucket(source)
            if bucket < heldout_percent:
                heldout.append(doc)
            elif bucket < heldout_percent + dev_percent:
                dev.append(doc)
            else:
                train.append(doc)
    return train, dev, heldout


def plain_words(germeval_docs: list[GoldDoc], min_count: int = 3) -> frozenset[str]:
    """Capitalised words GermEval uses mid-sentence at least ``min_count`` times outside any
    entity and never inside one: common nouns, not names."""
    outside, inside = Counter(), set()
    for gold in germeval_docs:
        marked = [(s, e) for s, e, _ in gold.spans] + list(gold.missing)
        offset = 0
        for line in gold.text.split("\n"):
            position = offset
            for k, word in enumerate(line.split(" ")):
                start, end = position, position + len(word)
                position = end + 1
                if any(s <= start and end <= e for s, e in marked):
                    inside.add(word)
                elif k and word[:1].isupper():
                    outside[word] += 1
            offset += len(line) + 1
    return frozenset(w for w, n in outside.items() if n >= min_count and w not in inside)


def harmonise(docs: list[GoldDoc], plain: frozenset[str]) -> list[GoldDoc]:
    """SmartData/MobIE training documents with GermEval's conventions (see the module doc)."""
    out = []
    for gold in docs:
        spans, missing = [], list(gold.missing)
        for start, end, label in gold.spans:
            words = gold.text[start:end].split()
            if not words:
                continue
            if label == "LOC" and words[0][:1].islower():
                continue  # -> O
            if len(words) == 1 and words[0] in plain:
                missing.append((start, end))
                continue
            spans.append((start, end, label))
        out.append(GoldDoc(gold.id, gold.text, spans, missing, gold.kind))
    return out
