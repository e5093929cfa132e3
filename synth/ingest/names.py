"""Person names beside the NER model: cue rules, common words, cited public figures.

Two recognisers find names for synth.ingest.pii: spaCy's NER (synth.ingest.nermodel) and the
cue rules here, which catch what a small NER model misses in transcripts:
- a title: "Dr. King", "Mrs. Abernathy", "Professor Lind";
- a relation: "my client Frank", "our daughter Summer" (the relation says it is a person);
- a census first name followed by a census surname: "Will Turner".
A cue decides: "Frank" after "my client" is a name even though "Frank" is also a word.

The common-word list (COMMON_WORD_NAMES: "Hope", "Will", "Mark", "Grace" ...) applies only to
a single word that no cue introduces: "Hope is not a plan" keeps its word, "my sister Hope"
does not. FUNCTION_WORDS (sentence starters, days, months, brands) are never names.

A name cited as a source, a public figure whose work the speaker teaches ("as Carl Rogers
wrote", "Aaron Beck's cognitive model", "the psychologist Kristin Neff"), is kept: it is
content, not personal data. A relation cue always wins over a citation cue.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

TITLE = r"(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Professor|Doctor)\.?"
CAP = r"[A-Z](?:[a-zà-ÿ]+|(?=['’]))(?:[-'’][A-Z]?[a-zà-ÿ]+)*"
RELATION = (r"(?i:my|our|her|his|their|your)\s+(?i:client|patient|friend|husband|wife|partner"
            r"|boyfriend|girlfriend|son|daughter|brother|sister|mum|mom|dad|mother|father|boss"
            r"|colleague|coworker|co-worker|therapist|counsel+or|neighbou?r|cousin|aunt|uncle|ex"
            r"|fianc\w+|roommate|flatmate|teacher|manager|niece|nephew|grandson|granddaughter"
            r"|grandma|grandpa|grandmother|grandfather|stepdad|stepmum|stepmom|supervisor|doctor"
            r"|GP|psychiatrist|nurse|sponsor|mentor|coach|kid|child|baby|stepson|stepdaughter)\s*,?\s+")
FUNCTION_WORDS = frozenset((
    "I", "The", "A", "An", "And", "But", "So", "Okay", "Yes", "No", "Hi", "Hello", "Dear", "God",
    "Mum", "Mom", "Dad", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December", "Christmas", "Easter", "English",
    "Samaritans", "Instagram", "YouTube", "Facebook", "TikTok", "Twitter", "Google", "Zoom",
    "Now", "Then", "When", "If", "What", "Why", "How", "This", "That", "My", "Your", "Our",
))
COMMON_WORD_NAMES = frozenset((
    "Will", "Sunny", "Joy", "Hope", "Faith", "Grace", "Patience", "Honey", "Love", "Young", "Long",
    "Little", "Rich", "King", "Major", "Frank", "Mark", "Art", "Bill", "Guy", "Don", "Ray", "Sky",
    "Summer", "Autumn", "Winter", "Spring", "Dawn", "Rose", "Amber", "Ruby", "Pearl", "Iris",
    "Lily", "Violet", "Hunter", "Chase", "Hazel", "Holly", "Ivy", "Jack", "Bob", "Pat", "Sue",
    "Peace", "Trust", "Chance", "Destiny", "Harmony", "Mercy", "Charity", "Star", "Brook", "Cliff",
    "Dale", "Glen", "Heath", "Lane", "Page", "Reed", "Rock", "Stone", "Wade", "Drew", "Grant",
    "Miles", "Price", "Bishop", "Carter", "Cook", "Hill", "Black", "White", "Green", "Brown",
))
NOT_NAMES = FUNCTION_WORDS | COMMON_WORD_NAMES
_CITED_BEFORE = re.compile(
    r"(?i:\b(?:according to|as|psychologist|psychiatrist|psychoanalyst|researcher|researchers|author"
    r"|writer|poet|philosopher|theorist|neuroscientist|scientist|sociologist|the work of|work by"
    r"|(?:book|books|paper|study|studies|research|model|theory|talk|ted talk|podcast) (?:by|from|of)"
    r"|read|reading|quote|quoting|quoted|cites|cited|citing|like|named after)\s+(?:the\s+)?)$")
_CITED_AFTER = re.compile(
    r"^(?:(?:['’]s?)?\s+(?:[a-z]+\s+){0,2}(?i:book|books|research|work|theory|theories|model|study|studies|concept|idea|ideas"
    r"|framework|approach|therapy|method|paper|papers|findings|hierarchy|stages|experiment|talk"
    r"|definition|quote|famous)\b"
    r"|,?\s+(?i:wrote(?!\s+(?:in|to|back|me|us)\b)|writes(?!\s+(?:in|to|back|me|us)\b)|described|describes|coined|developed|argued|argues|observed|famously"
    r"|called it|called this|calls it|calls this|put it|puts it|showed that|found that|taught|teaches"
    r"|pioneered|founded|introduced|proposed)\b"
    r"|\s+(?i:\(\d{4}\)|et al))")
_RELATION_BEFORE = re.compile(rf"{RELATION}$")
_CUED = re.compile(rf"(?:\b{TITLE}\s+({CAP}(?:\s+{CAP})?)|\b{RELATION}({CAP}(?:\s+{CAP})?))")
_PAIR = re.compile(rf"\b({CAP})\s+({CAP})\b")


@lru_cache(maxsize=1)
def census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames) of the US Census 1990 lists shipped by `names` (title case)."""
    def read(name: str) -> frozenset[str]:
        text = resources.files("names").joinpath(name).read_text(encoding="utf-8")
        return frozenset(line.split()[0].title() for line in text.splitlines() if line.strip())

    return read("dist.male.first") | read("dist.female.first"), read("dist.all.last")


def cued_spans(text: str) -> list[tuple[int, int, float]]:
    """(start, end, score) of names a cue introduces, and of census first + last name pairs."""
    first_names, surnames = census_names()
    found = []
    for m in _CUED.finditer(text):
        group = 1 if m.group(1) else 2
        words = m.group(group).split()
        if words[0] in FUNCTION_WORDS:
            continue
        if len(words) == 2 and words[1] in FUNCTION_WORDS:  # "my friend Sam Tuesday" -> Sam
            end = m.start(group) + len(words[0])
        else:
            end = m.end(group)
        found.append((m.start() if group == 1 else m.start(group), end, 0.85))
    for m in _PAIR.finditer(text):
        first, last = m.group(1), m.group(2)
        if first in first_names and first not in FUNCTION_WORDS and last not in FUNCTION_WORDS \
                and any(re.sub(r"['’]", "", part).title() in surnames for part in last.split("-")):
            found.append((m.start(), m.end(), 0.7))
    return found


def is_cited(text: str, start: int, end: int) -> bool:
    """A name introduced as a source of ideas ("as Carl Rogers wrote", "Beck's model"), and
    not as somebody the speaker knows ("my therapist Anna")."""
    before = text[max(0, start - 40):start]
    if _RELATION_BEFORE.search(before):
        return False
    before = re.sub(rf"\b{TITLE}\s+$", "", before)
    return bool(_CITED_BEFORE.search(before) or _CITED_AFTER.search(text[end:end + 40]))


def keep_as_word(text: str, start: int, end: int) -> bool:
    """An uncued single word that is also an ordinary word ("Hope", "Will", "Monday"), or
    that opens a sentence and is in neither census list: there its capital says nothing, and
    the small NER reads "Burnout builds quietly" as a person."""
    span = text[start:end].strip()
    word = re.sub(r"['’]s$", "", span)
    if " " in word:
        return False
    before = text[max(0, start - 40):start]
    if re.search(rf"(?:\b{TITLE}\s+|{RELATION})$", before):
        return False
    if word in NOT_NAMES:
        return True
    opens_sentence = not before.strip() or before.rstrip()[-1] in ".!?:;\"“"
    first_names, surnames = census_names()
    return opens_sentence and word not in first_names and word not in surnames


def name_parts(span: str) -> list[str]:
    """The words of a found name worth matching alone elsewhere in the text ("Dana", "Whitfield")."""
    return [part for part in re.split(r"\s+", span) if len(part) > 2 and part[0].isupper()
            and part.rstrip(".") not in FUNCTION_WORDS and not re.fullmatch(TITLE, part)]
