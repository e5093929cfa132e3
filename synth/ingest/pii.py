"""PII redaction with Microsoft Presidio (the `screen` extra), typed placeholders.

Presidio's analyzer finds emails, phone numbers (libphonenumber), URLs and IP addresses with
its own recognizers; synth adds recognizers for street addresses and social handles. Person
names come from two recognisers (synth.ingest.names): spaCy's English NER run by Presidio's
spaCy engine with the pinned en_core_web_sm 3.8.0 (synth.ingest.nermodel), and cue rules
(titles, relations, census first + last names). An uncued single word that is also a common
word ("Hope is not a plan") is kept; a name cited as a source ("as Carl Rogers wrote") is
kept. Helpline numbers next to words like "crisis line", "Samaritans" or "988" are kept: they
are the help. An address ends at its street type or unit ("14 Birch Lane, say" keeps "say").

Placeholders: [EMAIL], [PHONE], [NAME], [ADDRESS], [URL], [HANDLE].
"""
from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

import synth.ingest.names as names
import synth.ingest.nermodel as nermodel
from synth.text.prefilter import Alternatives
from synth.text.stats import ENGLISH_WORDS

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

PLACEHOLDER = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "PERSON": "NAME",
               "STREET_ADDRESS": "ADDRESS", "URL": "URL", "SOCIAL_HANDLE": "HANDLE",
               "IP_ADDRESS": "IP"}
ENTITIES = list(PLACEHOLDER)
INSTALL_HINT = "install the screen extra: pip install -e '.[screen]'"
_HELPLINE = re.compile(r"crisis|help ?line|hotline|lifeline|samaritans|988|emergency|suicide|"
                       r"text line|support line|call or text", re.IGNORECASE)
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place"
           r"|Pl|Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Grove)\b\.?")
# number, one to three capitalised words, the street type, an optional unit; nothing after
_ADDRESS = (rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{names.CAP}\s+){{1,3}}{_STREET}"
            r"(?:,?\s+(?:Apt|Apartment|Unit|Flat|Suite)\.?\s*\d+[A-Za-z]?\b)?")
# digit runs read out as phone numbers, whatever the region (9-15 digits)
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d[\d\s.-]{7,}\d(?![\w])"
_HANDLE = r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?\b"
_prepared: dict[str, object] = {}  # text -> NlpArtifacts from nlp.pipe (see prepared())
DONE: dict[str, tuple[str, dict[str, int]]] = {}  # text -> its redaction, filled by synth.ingest.piibulk


@lru_cache(maxsize=1)
def available() -> bool:
    """The `screen` extra is installed (asked per text: the answer is kept, a lookup costs ~1 ms)."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("presidio_analyzer", "presidio_anonymizer", "spacy", "names"))


def presidio_version() -> str:
    from importlib.metadata import version

    return version("presidio-analyzer")


_CANDIDATE = Alternatives((  # (alternative, words it needs: synth.text.prefilter)
    (r"@", [("@",)]), (r"\d\d\d", []), (r"https?://", [("://",)]), (r"www\.", [("www.",)]),
    (r"\.(?:com|org|net|io|co|uk)\b", [(".com", ".org", ".net", ".io", ".co", ".uk")]),
    (rf"\b{names.TITLE}\s+[A-Z]", [("Dr", "Mr", "Ms", "Mx", "Miss", "Prof", "Doctor")]),
    (r"[^.!?\s]\s+[A-Z][a-z]", []),
))
_FIRST_WORD = re.compile(r"[A-Z][a-z]+")  # a sentence start: the text's, or after [.!?] and space
_SENTENCE_START = re.compile(r"[.!?]\s+([A-Z][a-z]+)")


def might_have_pii(text: str) -> bool:
    """A cheap pre-check: an @, three digits, a web address, a title, a capitalised word
    inside a sentence, or a sentence that starts with a census first name ("Tomasz called.")
    that is neither a word names.keep_as_word keeps anyway ("Hope", "Will") nor an English
    function word ("In", "So"). Texts without any skip Presidio entirely."""
    if _CANDIDATE.search(text):
        return True
    first_names = names.census_names()[0]
    first = _FIRST_WORD.match(text)
    starts = ([first.group(0)] if first else []) + _SENTENCE_START.findall(text)
    return any(word in first_names and word not in names.NOT_NAMES and word.lower() not in ENGLISH_WORDS
               for word in starts)


def spacy_model() -> str | None:
    """The English spaCy pipeline Presidio's NER uses (None: not installed, cue rules only)."""
    return f"en_core_web_sm {nermodel.VERSION} ({nermodel.PACKAGE})" if nermodel.installed() else None


def _cue_recognizer():
    """Names by cue (synth.ingest.names) as a Presidio recognizer beside the NER."""
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class _Cues(EntityRecognizer):
        def load(self) -> None:
            return None

        def analyze(self, text, entities, nlp_artifacts=None):
            return [RecognizerResult("PERSON", start, end, score)
                    for start, end, score in names.cued_spans(text)]

    return _Cues(supported_entities=["PERSON"], name="CueNameRecognizer")


# Presidio's nlp_engine package imports its Hugging Face engine, which imports transformers'
# pipelines when transformers is installed, and spaCy's thinc imports torch: about 7 CPU-s per
# process for engines synth does not run (it runs the spaCy engine on numpy). Both are optional
# there (`except ImportError`), so they are imported as absent, unless this process has them already.
UNUSED_HERE = ("transformers", "torch")


@lru_cache(maxsize=1)
def _import_libraries() -> None:
    """Import Presidio (analyzer, anonymizer) and spaCy with UNUSED_HERE hidden (None in
    sys.modules makes an import of it raise ImportError); they import normally afterwards."""
    hidden = [name for name in UNUSED_HERE if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_anonymizer  # noqa: F401
        import spacy  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


@lru_cache(maxsize=1)
def analyzer() -> AnalyzerEngine:
    """Presidio's analyzer with synth's recognizers (built once per process)."""
    _import_libraries()
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry

    _offline_suffix_list()
    engine = _spacy_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
    registry.add_recognizer(_cue_recognizer())
    case = re.MULTILINE | re.DOTALL  # an address is case-sensitive: "lane, say" is not a city
    registry.add_recognizer(PatternRecognizer("STREET_ADDRESS", name="StreetAddressRecognizer",
                                              patterns=[Pattern("street", _ADDRESS, 0.8)],
                                              global_regex_flags=case))
    registry.add_recognizer(PatternRecognizer("PHONE_NUMBER", name="DigitRunPhoneRecognizer",
                                              patterns=[Pattern("digits", _PHONE, 0.5)]))
    registry.add_recognizer(PatternRecognizer("SOCIAL_HANDLE", name="SocialHandleRecognizer",
                                              patterns=[Pattern("handle", _HANDLE, 0.6)]))
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def _offline_suffix_list() -> None:
    """Presidio's email recognizer asks tldextract, which would fetch the public-suffix list
    from the internet; point it at the snapshot the package ships instead."""
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def _spacy_engine():
    """Presidio's spaCy engine on the pinned pipeline (synth.ingest.nermodel), loaded once; a
    blank English tokenizer when the pipeline is not installed (cue rules only)."""
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    model = nermodel.installed()
    only_people = NerModelConfiguration(labels_to_ignore=[
        label for label in nermodel.OFFICIAL_NER_LABELS if label != "PERSON"])

    class _Engine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": nermodel.pipeline() if model else spacy.blank("en")}

    engine = _Engine(models=[{"lang_code": "en", "model_name": nermodel.PACKAGE if model else "blank:en"}],
                     ner_model_configuration=only_people)
    engine.load()
    return engine


@contextmanager
def prepared(texts: Sequence[str]) -> Iterator[None]:
    """Run the NER over `texts` in batches (nlp.pipe) up front; redact() inside the block
    reuses each text's result instead of running the pipeline once per text."""
    todo = [t for t in dict.fromkeys(texts) if t and might_have_pii(t)] if available() else []
    if todo:
        engine = analyzer().nlp_engine
        for text, artifacts in engine.process_batch(todo, language="en", batch_size=nermodel.BATCH):
            _prepared[text] = artifacts
    try:
        yield
    finally:
        _prepared.clear()


def find_pii(text: str) -> list:
    """Presidio's findings, less helpline numbers, the domains of email addresses, common
    words no cue makes a name, and names cited as sources."""
    results = analyzer().analyze(text=text, language="en", entities=ENTITIES, score_threshold=0.4,
                                 nlp_artifacts=_prepared.get(text))
    kept = []
    for r in results:
        if r.entity_type == "PHONE_NUMBER" and (
                not 9 <= sum(c.isdigit() for c in text[r.start:r.end]) <= 15
                or _HELPLINE.search(text[max(0, r.start - 80):r.end + 20])):
            continue  # a year range or a count, not a number; or a helpline: that is the help
        if r.entity_type == "URL" and "@" in text[max(0, r.start - 1):r.end + 1]:
            continue
        if r.entity_type == "PERSON" and (names.is_cited(text, r.start, r.end)
                                          or names.keep_as_word(text, r.start, r.end)):
            continue
        kept.append(r)
    return kept + _later_mentions(text, kept)


def _later_mentions(text: str, found: list) -> list:
    """Once "Dana Whitfield" is found, a bare "Dana" or "Whitfield" elsewhere is her too."""
    from presidio_analyzer import RecognizerResult

    parts = {part for r in found if r.entity_type == "PERSON" for part in names.name_parts(text[r.start:r.end])}
    if not parts:
        return []
    covered = [(r.start, r.end) for r in found]
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(parts))) + r")\b")
    return [RecognizerResult("PERSON", m.start(), m.end(), 0.6) for m in pattern.finditer(text)
            if all(m.end() <= s or m.start() >= e for s, e in covered)]


@lru_cache(maxsize=1)
def _anonymizer():
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Text with typed placeholders (Presidio's anonymizer), and counts per placeholder."""
    if text in DONE:
        redacted, counts = DONE[text]
        return redacted, dict(counts)
    found = find_pii(text)
    if not found:
        return text, {}
    from presidio_anonymizer.entities import OperatorConfig

    operators = {entity: OperatorConfig("replace", {"new_value": f"[{name}]"})
                 for entity, name in PLACEHOLDER.items()}
    result = _anonymizer().anonymize(text=text, analyzer_results=found, operators=operators)
    counts: dict[str, int] = {}
    for item in result.items:
        name = PLACEHOLDER[item.entity_type]
        counts[name] = counts.get(name, 0) + 1
    return result.text, counts
