"""Cleaning of segment text: fix what can be fixed, keep count of what was changed.

- HTML entities are unescaped (twice, for double-escaped exports); odd spaces normalised.
- Transcript artifacts are stripped: [Music]-style tags, fillers (um, uh, erm), stutters
  ("I I I want" -> "I want", "is still is still" -> "is still").
- PII is redacted with typed placeholders: [EMAIL], [PHONE], [NAME]. Helpline numbers
  (next to words like "crisis line", "Samaritans", "988") are kept: they are the help.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from synth.ingest.pii import DONE as PII_DONE
from synth.ingest.pii import INSTALL_HINT as PII_HINT
from synth.ingest.pii import available as presidio_available
from synth.ingest.pii import might_have_pii, presidio_version, spacy_model
from synth.ingest.pii import redact as presidio_redact
from synth.text.stats import STUTTER_OK, TextProfile, profile

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_TAG = re.compile(
    r"[\[(](?:music|applause|laughter|laughs|laughing|inaudible|crosstalk|silence|noise|"
    r"background noise|cheering|sighs?|coughs?|music playing|upbeat music|soft music)[\])]|♪+",
    re.IGNORECASE)
_FILLER = re.compile(r"(?<![\w'])(?:u+m+|u+h+|e+rm+|u+hm+|h+m+|m+hm+)(?![\w'])[,.]?", re.IGNORECASE)
_STUTTER = re.compile(r"(?<![\w'])([\w']+)(?:\s+\1(?![\w']))+", re.IGNORECASE)
_STUTTER_PAIR = re.compile(r"(?<![\w'])([\w']+\s+[\w']+)(?:\s+\1(?![\w']))+", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_DOUBLE_PUNCT = re.compile(r"([,;:])\s*([,.;:!?])")

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d[\d\s.-]{5,}\d(?![\w])")
_HELPLINE = re.compile(r"crisis|help ?line|hotline|lifeline|samaritans|988|emergency|suicide|"
                       r"text line|support line|call or text", re.IGNORECASE)
_CAP = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*"
_THREE_DIGITS = re.compile(r"\d\d\d")
_TWO_CAPS = re.compile(r"[A-Z][a-z]+[-' ]+[A-Z][a-z]")
_NAME = re.compile(
    r"(?i:\b(?:my name is|my name's|i'm called|i am called|this is from|this is|comment from|"
    r"message from|email from|letter from|question from|from|named|called|call|email|text|"
    r"ask for|dear|hi|hello|thanks|thank you)[,:]?\s+)"
    rf"({_CAP})\s+({_CAP})")
_NOT_NAMES = {
    "I", "I'm", "The", "A", "An", "And", "But", "So", "Okay", "Ok", "Yes", "No", "Hi", "Hello",
    "Mum", "Mom", "Dad", "God", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "Samaritans", "Christmas",
    "English", "Instagram", "YouTube", "Facebook", "TikTok", "Twitter", "Google", "Zoom",
}


@dataclass
class CleanResult:
    text: str
    redactions: dict[str, int] = field(default_factory=dict)
    had_entities: bool = False
    had_artifacts: bool = False
    profile: TextProfile | None = None  # word statistics of the cleaned text


def unescape_entities(text: str) -> tuple[str, bool]:
    if "&" not in text or not _ENTITY.search(text):
        return text, False
    once = html.unescape(text)
    return (html.unescape(once) if _ENTITY.search(once) else once), True


def _has_tags(text: str) -> bool:
    return ("[" in text or "(" in text or "♪" in text) and bool(_TAG.search(text))


def has_artifacts(text: str, stats: TextProfile | None = None) -> bool:
    """[Music]-style tags, fillers (um, uh, erm) or stutters ("I I", "the the")."""
    stats = stats or profile(text)
    return _has_tags(text) or stats.fillers > 0 or stats.stutter


def strip_artifacts(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = _FILLER.sub(" ", text)
    text = _STUTTER.sub(lambda m: m.group(1) if m.group(1).lower() not in STUTTER_OK
                        else m.group(0), text)
    return _STUTTER_PAIR.sub(lambda m: m.group(1), text)


def tidy_spacing(text: str, thorough: bool = True) -> str:
    """Single spaces; with `thorough`, also no space before punctuation and no orphan commas."""
    if thorough or any(map(text.__contains__, ("  ", "\n", "\t", "\r", "\xa0", "\u2009", "\u202f"))):
        text = " ".join(text.split())
    else:
        text = text.strip()
    if thorough:
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
        text = _DOUBLE_PUNCT.sub(r"\2", text)
        text = re.sub(r"^[,.;:\s]+", "", text)
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _is_helpline(text: str, start: int, end: int) -> bool:
    return bool(_HELPLINE.search(text[max(0, start - 80):end + 20]))


def _phone_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in m.group(0))
        if 9 <= digits <= 15 and not _is_helpline(text, m.start(), m.end()):
            spans.append((m.start(), m.end()))
    return spans


def find_names(text: str) -> list[str]:
    """Full names read out after a cue ("my name is X Y", "this is from X Y", "call X Y")."""
    names = []
    for m in _NAME.finditer(text):
        first, last = m.group(1), m.group(2)
        if first not in _NOT_NAMES and last not in _NOT_NAMES:
            names.append(f"{first} {last}")
    return names


def redact_pii(text: str) -> tuple[str, dict[str, int]]:
    """Text with typed placeholders ([EMAIL], [PHONE], [NAME], [ADDRESS], [URL], [HANDLE]) and
    counts per placeholder: Presidio (synth.ingest.pii) when the `screen` extra is installed,
    else the regexes below (emails, phones, cued full names only)."""
    if presidio_available():  # DONE: answered in bulk (synth.ingest.piibulk)
        return presidio_redact(text) if text in PII_DONE or might_have_pii(text) else (text, {})
    return redact_pii_regex(text)


def pii_engine() -> str:
    """Which PII redaction ran, for the audit."""
    if not presidio_available():
        return f"regexes (emails, phones, cued full names); for Presidio {PII_HINT}"
    model = spacy_model()
    names = (f"spaCy {model} NER + title/relation/census-name cues" if model else
             "title/relation/census-name cues only (the pinned spaCy pipeline is not installed)")
    return f"Presidio {presidio_version()}: names from {names}; addresses, handles by synth's recognizers"


def redact_pii_regex(text: str) -> tuple[str, dict[str, int]]:
    """The fallback without the `screen` extra: [EMAIL], [PHONE] and [NAME] by regex."""
    counts: dict[str, int] = {}
    if "@" in text:
        text, counts["EMAIL"] = EMAIL.subn("[EMAIL]", text)
    spans = _phone_spans(text) if _THREE_DIGITS.search(text) else []
    for start, end in reversed(spans):
        text = text[:start] + "[PHONE]" + text[end:]
    counts["PHONE"] = len(spans)
    counts["NAME"] = 0
    for name in dict.fromkeys(find_names(text) if _TWO_CAPS.search(text) else []):
        parts = [re.escape(name)] + [re.escape(p) for p in name.split() if p not in _NOT_NAMES]
        text, n = re.subn(rf"\b(?:{'|'.join(parts)})\b", "[NAME]", text)
        counts["NAME"] += n
    return text, {kind: n for kind, n in counts.items() if n}


Before = tuple[str, bool, bool, TextProfile]  # before_redaction's answer


def before_redaction(text: str) -> Before:
    """The text PII redaction reads: entities unescaped, artifacts stripped; and whether
    either was there, with the word statistics of the unescaped text."""
    text, had_entities = unescape_entities(text)
    stats = profile(text)
    had_artifacts = has_artifacts(text, stats)
    return (strip_artifacts(text) if had_artifacts else text), had_entities, had_artifacts, stats


def clean_text(text: str, before: Before | None = None) -> CleanResult:
    """Unescape entities, strip transcript artifacts, redact PII, tidy spacing (`before`:
    before_redaction(text) when the caller has it already)."""
    text, had_entities, had_artifacts, stats = before or before_redaction(text)
    text, redactions = redact_pii(text)
    changed = had_entities or had_artifacts or bool(redactions)
    text = tidy_spacing(text, thorough=changed)
    return CleanResult(text, redactions, had_entities, had_artifacts, profile(text) if changed else stats)
