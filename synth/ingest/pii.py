"""PII redaction with Microsoft Presidio (the `screen` extra), typed placeholders.

Presidio's analyzer finds emails, phone numbers (libphonenumber), URLs and IP addresses with
its own recognizers; synth adds recognizers for person names, street addresses and social
handles. Person names come from spaCy's English NER when an English pipeline is installed
(`en_core_web_sm` and friends are published on GitHub, not on PyPI, so synth does not pull
one in); without it, from the US Census first/last-name lists of the `names` package plus
cues: a title ("Dr. Patel"), a relation ("my client Sarah"), a known first name followed by a
capitalised surname ("Michael Brown"). Helpline numbers next to words like "crisis line",
"Samaritans" or "988" are kept: they are the help.

Placeholders: [EMAIL], [PHONE], [NAME], [ADDRESS], [URL], [HANDLE].
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

PLACEHOLDER = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "PERSON": "NAME",
               "STREET_ADDRESS": "ADDRESS", "URL": "URL", "SOCIAL_HANDLE": "HANDLE",
               "IP_ADDRESS": "IP"}
ENTITIES = list(PLACEHOLDER)
SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")
INSTALL_HINT = "install the screen extra: pip install -e '.[screen]'"
_HELPLINE = re.compile(r"crisis|help ?line|hotline|lifeline|samaritans|988|emergency|suicide|"
                       r"text line|support line|call or text", re.IGNORECASE)
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Professor|Doctor)\.?"
_CAP = r"[A-Z](?:[a-z]+|(?=['’]))(?:[-'’][A-Z]?[a-z]+)*"
_RELATION = (r"(?i:my|our|her|his|their|your)\s+(?i:client|patient|friend|husband|wife|partner"
             r"|boyfriend|girlfriend|son|daughter|brother|sister|mum|mom|dad|mother|father|boss"
             r"|colleague|coworker|therapist|counsel+or|neighbou?r|cousin|aunt|uncle|ex|fianc\w+"
             r"|roommate|teacher|manager|niece|nephew|grandson|granddaughter)\s*,?\s+")
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place"
           r"|Pl|Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Grove)\b\.?")
_ADDRESS = (rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{_CAP}\s+){{1,3}}{_STREET}"
            r"(?:,?\s+(?:Apt|Apartment|Unit|Flat|Suite)\.?\s*\w+)?"
            rf"(?:,\s*{_CAP}(?:\s+{_CAP})?)?(?:,?\s+[A-Z]{{2}})?(?:\s+\d{{5}}(?:-\d{{4}})?)?"
            r"(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})?")
# digit runs read out as phone numbers, whatever the region (9-15 digits)
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d[\d\s.-]{7,}\d(?![\w])"
_HANDLE = r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?\b"


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None
               for m in ("presidio_analyzer", "presidio_anonymizer", "spacy", "names"))


def presidio_version() -> str:
    from importlib.metadata import version

    return version("presidio-analyzer")


_CANDIDATE = re.compile(r"@|\d\d\d|https?://|www\.|\.(?:com|org|net|io|co|uk)\b"
                        rf"|\b{_TITLE}\s+[A-Z]|[^.!?\s]\s+[A-Z][a-z]")


def might_have_pii(text: str) -> bool:
    """A cheap pre-check: an @, three digits, a web address, a title, or a capitalised word
    inside a sentence (a possible name). Texts without any skip Presidio entirely."""
    return bool(_CANDIDATE.search(text))


def spacy_model() -> str | None:
    """The installed English spaCy pipeline Presidio's NER uses, or None (name lists instead)."""
    return next((m for m in SPACY_MODELS if importlib.util.find_spec(m) is not None), None)


@lru_cache(maxsize=1)
def _census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames) of the US Census 1990 lists shipped by `names` (title case)."""
    def read(name: str) -> frozenset[str]:
        text = resources.files("names").joinpath(name).read_text(encoding="utf-8")
        return frozenset(line.split()[0].title() for line in text.splitlines() if line.strip())

    first = read("dist.male.first") | read("dist.female.first")
    return first, read("dist.all.last")


# capitalised words that are names in the census lists but here are ordinary words
_NOT_NAMES = frozenset((
    "I", "The", "A", "An", "And", "But", "So", "Okay", "Yes", "No", "Hi", "Hello", "Dear", "God",
    "Mum", "Mom", "Dad", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December", "Christmas", "Easter", "English", "Will",
    "Sunny", "Joy", "Hope", "Faith", "Grace", "Patience", "Honey", "Love", "Young", "Long", "Little",
    "Rich", "King", "Major", "Frank", "Mark", "Art", "Bill", "Guy", "Don", "Ray", "Sky", "Summer",
    "Autumn", "Winter", "Spring", "Dawn",
    "Samaritans", "Instagram", "YouTube", "Facebook", "TikTok", "Twitter", "Google", "Zoom",
    "So", "Now", "Then", "When", "If", "What", "Why", "How", "This", "That", "My", "Your", "Our",
))


class CensusNameRecognizer:
    """Builds the Presidio recognizer for person names without an NER pipeline."""

    @staticmethod
    def build():
        from presidio_analyzer import EntityRecognizer, RecognizerResult

        first_names, surnames = _census_names()
        pair = re.compile(rf"\b({_CAP})\s+({_CAP})\b")
        cued = re.compile(rf"(?:\b{_TITLE}\s+({_CAP}(?:\s+{_CAP})?)|\b{_RELATION}({_CAP}))")

        class _Names(EntityRecognizer):
            def load(self) -> None:
                return None

            def analyze(self, text, entities, nlp_artifacts=None):
                found = []
                for m in cued.finditer(text):
                    group = 1 if m.group(1) else 2
                    if m.group(group).split()[0] not in _NOT_NAMES:
                        start = m.start() if group == 1 else m.start(group)
                        found.append(RecognizerResult("PERSON", start, m.end(group), 0.85))
                for m in pair.finditer(text):
                    first, last = m.group(1), m.group(2)
                    if first in first_names and first not in _NOT_NAMES and last not in _NOT_NAMES \
                            and any(re.sub(r"['’]", "", part).title() in surnames
                                    for part in last.split("-")):
                        found.append(RecognizerResult("PERSON", m.start(), m.end(), 0.7))
                return found

        return _Names(supported_entities=["PERSON"], name="CensusNameRecognizer")


@lru_cache(maxsize=1)
def analyzer() -> AnalyzerEngine:
    """Presidio's analyzer with synth's recognizers (built once per process)."""
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    _offline_suffix_list()
    model = spacy_model()
    if model:
        engine = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}).create_engine()
    else:
        engine = _blank_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
    if not model:
        registry.add_recognizer(CensusNameRecognizer.build())
    registry.add_recognizer(PatternRecognizer("STREET_ADDRESS", name="StreetAddressRecognizer",
                                              patterns=[Pattern("street", _ADDRESS, 0.8)]))
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


def _blank_engine():
    """spaCy's blank English pipeline (tokenizer only) as Presidio's NLP engine."""
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class _Blank(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = _Blank(models=[{"lang_code": "en", "model_name": "blank:en"}])
    engine.load()
    return engine


def find_pii(text: str) -> list:
    """Presidio's findings, less helpline numbers and the domains of email addresses."""
    results = analyzer().analyze(text=text, language="en", entities=ENTITIES, score_threshold=0.4)
    kept = []
    for r in results:
        if r.entity_type == "PHONE_NUMBER" and (
                not 9 <= sum(c.isdigit() for c in text[r.start:r.end]) <= 15
                or _HELPLINE.search(text[max(0, r.start - 80):r.end + 20])):
            continue  # a year range or a count, not a number; or a helpline: that is the help
        if r.entity_type == "URL" and "@" in text[max(0, r.start - 1):r.end + 1]:
            continue
        kept.append(r)
    return kept + _later_mentions(text, kept)


def _later_mentions(text: str, found: list) -> list:
    """Once "Dana Whitfield" is found, a bare "Dana" or "Whitfield" elsewhere is her too."""
    from presidio_analyzer import RecognizerResult

    parts = {part for r in found if r.entity_type == "PERSON"
             for part in re.split(r"\s+", text[r.start:r.end]) if len(part) > 2
             and part[0].isupper() and part.rstrip(".") not in _NOT_NAMES and not re.fullmatch(_TITLE, part)}
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
    from presidio_anonymizer.entities import OperatorConfig

    found = find_pii(text)
    if not found:
        return text, {}
    operators = {entity: OperatorConfig("replace", {"new_value": f"[{name}]"})
                 for entity, name in PLACEHOLDER.items()}
    result = _anonymizer().anonymize(text=text, analyzer_results=found, operators=operators)
    counts: dict[str, int] = {}
    for item in result.items:
        name = PLACEHOLDER[item.entity_type]
        counts[name] = counts.get(name, 0) + 1
    return result.text, counts
