"""Key concepts of a segment without a model: frequent content words and two-word phrases.

Used by the offline provider (questions are built from these) and as a fallback label.
Deterministic: ties break by first occurrence. Redaction placeholders ([NAME], [EMAIL], ...)
and filler words of spoken English never become concepts.
"""
from __future__ import annotations

import re
from collections import Counter


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset("""
a about above actually after again against all almost also although always am an and another
any anybody anyone anything are around as at away back basically be because been before being
below between both but by can cannot could did do does doing done don down during each either
else enough even ever every everybody everyone everything exactly few for from further get
gets getting give go goes going gonna got gotta had has have having he her here hers herself
him himself his how however i if in into is it its itself just kind kinda know knows let like
likely little lot lots made make makes making many may maybe me might mine more most much must
my myself need never no nobody none nor not nothing now of off often oh ok okay on once one
ones only onto or other others our ours ourselves out over own people person probably quite
rather really right said same say saying says see seem seems she should since so some somebody
someone something sometimes somewhere sort still such sure take talk talking tell than that
thats the their theirs them themselves then there these they thing things think this those
though through thing to together too toward towards try trying um uh under until up upon us
use used very want wants was way ways we well went were what whatever when where whether which
while who whole whom whose why will with within without wont would yeah yes yet you your yours
yourself yourselves youre ive im dont doesnt didnt cant isnt wasnt arent theyre were weve
youve lets gonna wanna first second also mean means meant thats going come comes coming put
puts feel okay year years time times day days today good bad big small part point start next
last call called look looking heres theres youd youll itll wed id hes shes theyve whats wheres
hows thats move moves moving notice noticed noticing suggest suggests write writes writing
believe believes believed hand handed need needs needing needed option options help helps
helped happen happens happened keep keeps kept stay stays stop stops stopped told ask asks
asked hold holds holding learn learned show shows showed different important real whole took
taking bring brings felt tend tends works work working find finds found happening thinking
knowing saying doing seeing goes gone came becomes become becoming instead already able later
minute moment example simple simply pretty rest least less else literally honestly obviously
certain certainly usually whatever anyway grew sitting tonight sees explain week weeks month
months lately ready told hear heard monday tuesday wednesday thursday friday saturday sunday
course spent short hard sign
""")

# the field's vocabulary: these outrank ordinary words of the same frequency
LEXICON = _wordset("""
abandonment abuse acceptance addiction anger anxiety apology attachment avoidance boundaries
boundary burnout codependency compassion conflict control criticism defensiveness denial
depression detachment dissociation emotions fawn fear flashbacks flight forgiveness freeze
grief guilt habits healing hope hypervigilance identity insecurity intimacy isolation jealousy
loneliness loss needs neglect numbness overwhelm panic parenting perfectionism procrastination
rage recovery regret rejection relapse resentment resilience rumination sadness safety self
selfworth shame stress suppression therapy threat trauma triggers trust validation values
vulnerability worry worth belonging comparison envy loyalty betrayal caretaking childhood
""")
LEXICON_PHRASES = ("people pleasing", "nervous system", "inner critic", "inner child", "self worth",
                   "self compassion", "self esteem", "emotional regulation", "intrusive thoughts",
                   "panic attacks", "fight or flight", "toxic shame", "healthy shame", "core belief")
_NOUNISH = ("ness", "ment", "tion", "sion", "ity", "ism", "ance", "ence", "ship", "hood", "ety")
_VERBISH = ("ed", "ly", "ing")

_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_SENTENCE = re.compile(r"[.!?;:,\n\"()]+")


def _content_runs(text: str) -> list[list[str]]:
    """Runs of lowercase words split at sentence marks; stopwords kept as run breakers (None)."""
    runs = []
    for chunk in _SENTENCE.split(_PLACEHOLDER.sub(".", text)):
        words = [w.lower().replace("'", "") for w in _WORD.findall(chunk)]
        runs.append(words)
    return runs


def _is_content(word: str) -> bool:
    return len(word) >= 4 and word not in STOPWORDS


def extract_concepts(text: str, max_concepts: int = 5) -> list[str]:
    """The segment's key phrases, most important first (at least one when text has words)."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    first: dict[str, int] = {}
    position = 0
    for run in _content_runs(text):
        for i, word in enumerate(run):
            position += 1
            if not _is_content(word):
                continue
            unigrams[word] += 1
            first.setdefault(word, position)
            if i + 1 < len(run) and _is_content(run[i + 1]):
                phrase = f"{word} {run[i + 1]}"
                bigrams[phrase] += 1
                first.setdefault(phrase, position)
    scored = {w: n * _weight(w) for w, n in unigrams.items()}
    scored.update({p: n * (4.0 if p in LEXICON_PHRASES else 2.5) for p, n in bigrams.items()
                   if n >= 2 or p in LEXICON_PHRASES})
    ranked = sorted(scored, key=lambda k: (-scored[k], first[k]))
    return _pick(ranked, max_concepts) or _fallback(text)


def _weight(word: str) -> float:
    if word in LEXICON or word.rstrip("s") in LEXICON:
        return 3.0
    if word.endswith(_NOUNISH):
        return 1.3
    return 0.5 if word.endswith(_VERBISH) else 1.0


def _pick(ranked: list[str], limit: int) -> list[str]:
    chosen: list[str] = []
    for phrase in ranked:
        words = set(phrase.split())
        if any(words & set(c.split()) for c in chosen):
            continue  # one concept per idea: 'toxic shame' makes 'shame' redundant
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def _fallback(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(_PLACEHOLDER.sub(" ", text)) if len(w) >= 3]
    return [Counter(words).most_common(1)[0][0]] if words else ["this"]
