"""Whose crisis, and when: reading a sentence that mentions suicide or self-harm.

The one crisis detector: ingest's `crisis_content` flag (synth.ingest.flags) and the judge's
safety screen (synth.judge.safety) both read CRISIS through this module, so an idiom ("cut
yourself some slack", "burning myself out") is not a crisis in one stage and one in the other.

The safety screen only asks for crisis resources when the crisis is the speaker's own and
current. A sentence that mentions suicide can instead be:

  negated       "I'm not suicidal", "I've never tried or contemplated suicide"
  grief         someone died by suicide ("lost my brother to suicide", "took his own life")
  third_party   someone else's crisis ("how can I help my husband after his attempt"), or
                someone else's words about a prescription ("the pharmacy refused it as an overdose")
  past          over and done ("I self-harmed years ago", "when I was a teenager")

Each rule reads the clause around the crisis words, not the whole text: "I'm not sure why,
but I want to die" is still the speaker's own crisis.
"""
from __future__ import annotations

import re
from typing import Literal

from synth.text.prefilter import Alternatives

Reading = Literal["own", "negated", "grief", "third_party", "past"]

_I = re.IGNORECASE
_SELF = r"(?:my|your|him|her|them|our)sel(?:f|ves)"
# idioms that use the words: "cut yourself some slack", "cut myself off from", "burn myself out",
# "killing myself laughing / to finish", "hurt myself laughing"
_IDIOM = (r"(?!\s+(?:some\s+|a\s+(?:little\s+|bit\s+of\s+)?|more\s+)?(?:slack|break|breather)\b)"
          r"(?!\s+(?:off|out)\b)(?!\s+(?:laughing|to\s+(?:finish|get|make|meet|keep|please)))")
_LIFE = ("life", "lives")
# (alternative, words it needs: synth.text.prefilter)
_CRISIS_ALTERNATIVES = (
    (r"\bsuicid\w*", [("suicid",)]),
    (r"\bself[- ]?harm\w*", [("self",), ("harm",)]),
    (r"\boverdos(?!age)\w*", [("overdos",)]),
    (r"\bbetter\s+off\s+dead\b", [("better",), ("dead",)]),
    (r"(?<!was\s)(?<!were\s)(?<!been\s)(?<!got\s)(?<!get\s)\b(?:kill|killing|killed|hurt|hurting"
     rf"|cut|cutting|harm|harming|burn|burning)\s+{_SELF}{_IDIOM}",
     [("kill", "hurt", "cut", "harm", "burn"), ("self", "selves")]),
    (r"\bend(?:ing|ed)?\s+(?:my|your|his|her|their)\s+(?:own\s+)?li(?:fe|ves)\b", [("end",), _LIFE]),
    (r"\bt(?:ake|aking|ook)\s+(?:my|your|his|her|their)\s+own\s+li(?:fe|ves)\b",
     [("take", "taking", "took"), ("own",), _LIFE]),
    (r"\bwant(?:ed|ing|s)?\s+to\s+die\b", [("want",), ("die",)]),
    (r"\bthoughts\s+of\s+(?:death|dying)\b", [("thoughts",), ("death", "dying")]),
    (r"\bnot\s+want(?:ing)?\s+to\s+(?:be\s+alive|live|be\s+here)\b", [("not",), ("want",), ("alive", "live", "here")]),
)
_CRISIS = Alternatives(_CRISIS_ALTERNATIVES, _I)  # mentions_crisis: CRISIS's search, faster
CRISIS = _CRISIS.pattern
# words that end a clause: a negation or a third party before them does not reach past
_CLAUSE = re.compile(r"[,;:()]|\s(?:but|and then|although|though|yet|so|because)\s", _I)
# typed without the apostrophe too ("dont", "isnt"); "cant"/"wont" are words of their own
_NEGATION = re.compile(
    r"\b(?:not|never|no|nor|without|neither|denies|deny|denied|nothing\s+like)\b|\w+n't\b"
    r"|\b(?:dont|doesnt|didnt|isnt|wasnt|arent|werent|wouldnt|havent|hasnt|hadnt|shouldnt)\b", _I)
# a negation that does not take the crisis back: "can't stop", "don't have the guts to",
# "one good reason not to", "I hope I don't fail my suicide"
_NOT_A_NEGATION = re.compile(
    r"\b(?:can'?t|cannot|can\s+not|couldn'?t|won'?t|don'?t|doesn'?t)\s+(?:stop|help|shake|get\s+rid)"
    r"|\b(?:don'?t|doesn'?t|didn'?t)\s+know\b|\bno\s+(?:one|longer\s+want)|\bnobody\b"
    r"|\b(?:don'?t|do\s+not|didn'?t)\s+have\s+the\s+(?:courage|guts|balls|nerve|strength)\b"
    r"|\b(?:one|good|any|single|me\s+a)\s+(?:good\s+)?reasons?\s+(?:to\s+)?not\b"
    r"|\b(?:don'?t|not)\s+(?:fail|botch|mess\s+up)\b", _I)
_NEGATION_AFTER = re.compile(r"^\W*(?:is|are|was)?\s*(?:not|never)\b", _I)
_GRIEF = re.compile(
    r"\b(?:died|dying|death|lost|loss|losing|passed|grie\w*|mourn\w*|funeral|widow\w*|bereave\w*"
    r"|committed|completed)\b"
    r"|\b(?:killed|took)\s+(?:him|her|them)sel(?:f|ves)|\btook\s+(?:his|her|their)\s+own\s+li", _I)
_RELATION = (r"(?:husband|wife|partner|spouse|boyfriend|girlfriend|fianc\w+|son|daughter|child"
             r"|children|kid|kids|baby|friend|friends|mother|mom|mum|father|dad|parent|parents|brother"
             r"|sister|sibling|cousin|uncle|aunt|grand\w+|client|patient|student|colleague|coworker"
             r"|co-worker|roommate|teen|teenager|loved\s+one|family\s+member|ex|neighbou?r|boss)")
_OTHER_PERSON = re.compile(
    rf"\b(?:my|our|a|his|her|their|your)\s+(?:[\w-]+\s+){{0,2}}?{_RELATION}\b"
    rf"|^\W*{_RELATION}\s+(?:is|was|has|keeps|tried|attempted|wants|talks|said|says|threatened)\b"
    r"|\b(?:him|her|them)sel(?:f|ves)\b|\b(?:his|her|their)\s+(?:own\s+)?li(?:fe|ves)\b", _I)
_OTHER_PRONOUN = re.compile(
    r"\b(?:he|she|they)(?:'s|'re|\s+(?:is|are|was|were|has|have|had|tried|attempted|talks|talked"
    r"|said|says|keeps|threatened|threatens|wants|wanted|cuts|cut|seems|might|may|will|would))\b", _I)
# the words are someone else's judgement of a prescription or a label's warning: "the pharmacy
# refused it, calling it an overdose"
_REPORTED = re.compile(
    r"\b(?:pharmac(?:y|ist|ies|ists)|prescriber|insurer|insurance|label|leaflet|package\s+insert)\b"
    r"[^.;]{0,40}\b(?:said|says|stated|stating|states|refused|refuses|warn\w*|told|claim\w*|call\w*"
    r"|flag\w*)\b", _I)
_OWN = re.compile(r"\b(?:my|your|our)sel(?:f|ves)\b|\b(?:my|your)\s+(?:own\s+)?life\b"
                  r"|\b(?:i|i'm|i've|i'd|im)\b(?:\s+\w+){0,3}\s+(?:suicidal|want\s+to\s+die)", _I)
_PAST = re.compile(
    r"\b(?:used\s+to|years?\s+ago|months\s+ago|long\s+ago|when\s+i\s+was|as\s+a\s+(?:teen\w*|child"
    r"|kid)|in\s+(?:my|the)\s+past|back\s+(?:then|in)|history\s+of|previous(?:ly)?|survived"
    r"|recovered|in\s+recovery|clean\s+(?:for|since)|\d+\s+years?\s+(?:ago|clean)|since\s+my\s+last"
    r"|(?:had|have)\s+(?:been\s+)?(?:suicidal|self[- ]harm\w*)\s+(?:before|in)"
    r"|(?:thoughts|urges?)\s+(?:are|have)\s+(?:\w+\s+){0,3}?(?:gone|stopped|went\s+away))\b", _I)
_NOW = re.compile(r"\b(?:(?<!ago\s)now|again|lately|recently|these\s+days|still|right\s+now|tonight|today"
                  r"|currently|anymore|any\s+more|every\s+day|keep|keeps)\b", _I)


def _clause_before(sentence: str, start: int) -> str:
    head = sentence[:start]
    cuts = [m.end() for m in _CLAUSE.finditer(head)]
    return head[cuts[-1]:] if cuts else head


def mentions_crisis(text: str) -> bool:
    """Suicide or self-harm words anywhere in text (idioms excluded): ingest's crisis_content
    flag, which keeps the record and marks it for the later stages."""
    return _CRISIS.search(text) is not None  # each alternative only when its words are there


def read_crisis(sentence: str, speaker: bool = True) -> Reading | None:
    """How a sentence mentions a crisis, or None when it does not. `speaker`: the sentence is
    the asker's own words (a question); in an answer, "they" is usually people in general,
    said to the listener, so only a named other person makes it someone else's crisis."""
    match = CRISIS.search(sentence)
    if match is None:
        return None
    before = " ".join(_clause_before(sentence, match.start()).split()[-5:])
    negated_before = _NEGATION.search(before) and not _NOT_A_NEGATION.search(before)
    if negated_before or _NEGATION_AFTER.search(sentence[match.end():]):
        return "negated"
    own = bool(_OWN.search(match.group(0)) or _OWN.search(sentence))
    if _GRIEF.search(sentence) and not own:
        return "grief"
    if _PAST.search(sentence) and not _NOW.search(sentence):
        return "past"
    other = (_OTHER_PERSON.search(sentence) or (speaker and _OTHER_PRONOUN.search(sentence))
             or _REPORTED.search(sentence))
    return "third_party" if other and not own else "own"
