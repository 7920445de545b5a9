"""Keys for finding one person under many spellings of a name.

Two keys are kept for every name:

* the **normalised key** ignores case, spaces, hyphens, apostrophes and
  accents ("Choi-Chun-gil", "choi chungil" and "CHOI Chun Gil" share one), and
  keeps Hangul as composed syllables (NFC), so NFC and NFD input agree;
* the **folded key** also maps the family name through a table of its usual
  spellings (Kim/Gim, Lee/Yi/Rhee/Ri, Park/Pak/Bak, Choi/Choe…) and folds the
  vowel and consonant spellings that romanization systems and passports write
  differently for the same sound ("Kook-kie", "Guk-gi" and "Kuk-ki").

Folding is deliberately coarse: it finds candidates. A name alone never
identifies a person; people decide.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Family names, each spelling mapped to one canonical form.
_SURNAME_SPELLINGS = {
    "kim": "kim gim ghim kym",
    "lee": "lee yi rhee ri li rhie yee i lie",
    "park": "park pak bak bahk pahk parg",
    "choi": "choi choe chey choy chwe",
    "jeong": "jeong jung chung chong cheong jong joung",
    "kang": "kang gang kahng",
    "cho": "cho jo joe",
    "yoon": "yoon yun youn",
    "jang": "jang chang",
    "lim": "lim im rim yim",
    "han": "han hahn",
    "oh": "oh o",
    "seo": "seo suh so seoh",
    "shin": "shin sin shinn",
    "kwon": "kwon gwon kweon",
    "hwang": "hwang whang",
    "ahn": "ahn an",
    "song": "song",
    "ryu": "ryu yoo yu ryoo rhyu",
    "hong": "hong",
    "jeon": "jeon jun chun chon cheon",
    "ko": "ko go koh goh",
    "moon": "moon mun",
    "yang": "yang",
    "son": "son sohn",
    "bae": "bae pae bai",
    "baek": "baek paek paik baik",
    "heo": "heo hur huh ho",
    "nam": "nam",
    "noh": "noh roh no ro",
    "kwak": "kwak gwak",
    "sung": "sung seong",
    "cha": "cha",
    "joo": "joo ju chu choo",
    "woo": "woo u",
    "koo": "koo gu ku",
    "min": "min",
    "na": "na ra",
    "jin": "jin chin",
    "eom": "eom um uhm",
    "chae": "chae",
    "won": "won",
    "bang": "bang pang",
    "kong": "kong gong",
    "hyun": "hyun hyeon hyon",
    "ham": "ham hahm",
    "byun": "byun byeon pyon byon",
    "yeom": "yeom yum yom",
    "namgoong": "namgoong namgung",
    "hwangbo": "hwangbo",
    "jegal": "jegal chegal",
    "sunwoo": "sunwoo seonu sonu",
}
SURNAMES = {
    spelling: canonical for canonical, spellings in _SURNAME_SPELLINGS.items() for spelling in spellings.split()
}

# McCune–Reischauer marks aspiration with an apostrophe inside a syllable
# (Ch'oe): it is dropped, not treated as a break between words.
_APOSTROPHES = re.compile(r"['’‘`ʼʻ]")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.,\"·]+")

# Applied in order to a lower-case ASCII given name.
_FOLD_PATTERNS = [
    (r"tch", "c"),
    (r"ch", "c"),
    (r"j", "c"),
    (r"sh", "s"),
    (r"([ktp])h", r"\1"),
    (r"g", "k"),
    (r"d", "t"),
    (r"b", "p"),
    (r"r", "l"),
    (r"(ee|ie|ea|y$)", "i"),
    (r"(ae|ai|ay)", "e"),
    (r"(eo|eu|oo|ou|o)", "u"),
    (r"wu", "u"),
    (r"(.)\1+", r"\1"),
]
_FOLDS = [(re.compile(pattern), replacement) for pattern, replacement in _FOLD_PATTERNS]


def _strip_accents(text: str) -> str:
    # Decompose Latin letters to drop accents (ŏ, ŭ), but never Hangul, whose
    # syllables must stay composed to compare equal.
    if text.isascii():
        return text
    out = []
    for char in text:
        if "\uac00" <= char <= "\ud7a3":
            out.append(char)
        else:
            out.append("".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)))
    return "".join(out)


def _split_words(text: str) -> tuple[tuple[str, ...], ...]:
    """The text's words (split at spaces), each as its parts (split at hyphens)."""
    text = _strip_accents(unicodedata.normalize("NFC", text or "")).casefold()
    text = _APOSTROPHES.sub("", text)
    words = (tuple(part for part in _SEPARATORS.split(word) if part) for word in text.split())
    return tuple(word for word in words if word)


# Names recur (an import or a search repeats the common ones): each is split once.
_words = lru_cache(maxsize=16384)(_split_words)


def parts(name: str) -> list[str]:
    """The name's parts, lower case, without accents, apostrophes, spaces and hyphens between them."""
    return [part for word in _words(name) for part in word]


def normalise(name: str) -> str:
    """The normalised key: case, spaces, hyphens, apostrophes and accents ignored."""
    return "".join(parts(name))


def fold_given(text: str) -> str:
    for pattern, replacement in _FOLDS:
        text = pattern.sub(replacement, text)
    return text


def split_family(name: str) -> tuple[str, list[str]]:
    """(canonical family name or "", the other parts) of a romanized name."""
    words = _words(name)
    parts = [part for word in words for part in word]
    if len(parts) > 1:
        first, last = words[0], words[-1]
        # A lone family name stands first ("Kim Kook-ki") or, in western
        # order, last ("Kook-ki Kim"); a hyphenated word is a given name, even
        # when its first syllable is also a family name ("Min-ho Park").
        if len(words) > 1 and len(first) == 1 and first[0] in SURNAMES:
            return SURNAMES[first[0]], parts[1:]
        if len(words) > 1 and len(last) == 1 and last[0] in SURNAMES:
            return SURNAMES[last[0]], parts[:-1]
        if parts[0] in SURNAMES:
            return SURNAMES[parts[0]], parts[1:]  # "Choi-Chun-gil"
    return "", parts


def family_spellings(canonical: str) -> set[str]:
    """Every spelling of a canonical family name in the table (``kim`` → kim, gim, ghim, kym)."""
    return {spelling for spelling, family in SURNAMES.items() if family == canonical} or {canonical}


def fold(name: str) -> str:
    """The folded key: canonical family name, then the folded rest of the name."""
    name_parts = parts(name)
    if not name_parts:
        return ""
    if not all(part.isascii() for part in name_parts):
        return "".join(name_parts)  # Native script: the normalised key is the key.
    family, rest = split_family(name)
    return family + fold_given("".join(rest))


# Romanization of Hangul name parts, one syllable at a time: a person's name
# keeps each syllable's own reading ("철옥" is "Cheol-ok", not the word
# "cheorok" with its sound changes). Tables in Unicode order of the jamo.
_INITIALS_RR = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_INITIALS_MR = "k kk n t tt r m p pp s ss - ch tch ch' k' t' p' h".split()
_MEDIALS_RR = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_MEDIALS_MR = "a ae ya yae ŏ e yŏ ye o wa wae oe yo u wŏ we wi yu ŭ ŭi i".split()
_FINALS_RR = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()
_FINALS_MR = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()


def _romanize_syllable(syllable: str, initials, medials, finals) -> str:
    index = ord(syllable) - 0xAC00
    if not 0 <= index < 11172:
        return syllable
    initial, rest = divmod(index, 21 * 28)
    medial, final = divmod(rest, 28)
    return "".join(part for part in (initials[initial], medials[medial], finals[final]) if part != "-")


def _romanize_part(part: str, tables) -> str:
    syllables = [_romanize_syllable(s, *tables) for s in unicodedata.normalize("NFC", part) if not s.isspace()]
    return "-".join(syllables).capitalize()


def romanizations(family: str, given: str) -> list[str]:
    """The Revised Romanization and McCune–Reischauer forms of a Hangul name.

    ``romanizations("김", "국기")`` gives ``["Gim Guk-gi", "Kim Kuk-ki"]``. A
    part that is not Hangul is left out.
    """
    forms = []
    for tables in (
        (_INITIALS_RR, _MEDIALS_RR, _FINALS_RR),
        (_INITIALS_MR, _MEDIALS_MR, _FINALS_MR),
    ):
        parts = [_romanize_part(part, tables) for part in (family, given) if part and _is_hangul(part)]
        if parts:
            forms.append(" ".join(parts))
    return forms


def _is_hangul(text: str) -> bool:
    text = unicodedata.normalize("NFC", text).strip()
    return bool(text) and all("\uac00" <= char <= "\ud7a3" or char.isspace() for char in text)


# A key shorter than this is not looked for in texts: "Ri" or "O" alone would
# be found in every other sentence. Hangul names are shorter in characters.
_MIN_KEY_LENGTH = 4
_MIN_NATIVE_KEY_LENGTH = 2
# Characters that are not part of a name: brackets, quotation marks, slashes, colons… (not the hyphens
# and apostrophes that names are written with, which _words() reads).
_NOT_IN_A_NAME = re.compile(r"[^\w\s'’\-‐‑‒–—]+")
# Hangul (jamo, compatibility jamo, syllables) and kana; with CJK ideographs, the scripts of Korean and Japanese.
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_KANA = "\u3040-\u30ff"
_CJK = f"{_HANGUL}{_KANA}\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_HANGUL, _HAS_KANA = re.compile(f"[{_HANGUL}]"), re.compile(f"[{_KANA}]")
# Between a Latin letter or digit and Hangul, kana or a CJK ideograph, either way round.
_SCRIPT_CHANGE = re.compile(f"(?<=[A-Za-z0-9])(?=[{_CJK}])|(?<=[{_CJK}])(?=[A-Za-z0-9])")
# "Jeong-wook's": the name, then a possessive.
_POSSESSIVE = re.compile(r"['’]s\b", re.IGNORECASE)


def script_language(text: str) -> str:
    """The language a native-script name is written in, when its script tells: Hangul is Korean, kana Japanese."""
    if _HAS_HANGUL.search(text):
        return "ko"
    return "ja" if _HAS_KANA.search(text) else ""


class NameFinder:
    """Finds a person's names written in a text, in any of their spellings.

    Used by the identity policy: a published text (a summary, an excerpt, a
    source's title) must not name a person whose family faces reprisals.
    A romanized name is found when consecutive words of the text have its
    normalised or its folded key ("Kim Jeong-wook", "KIM Jeongwook",
    "Jeong-wook Kim", "Gim Jeong-uk"); a name in Korean script is found
    anywhere in the text, spaces ignored, since particles are written against
    it ("김정욱은", "김정욱의").
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.keys: set[str] = set()
        self.folded: set[str] = set()
        self.native: set[str] = set()
        self.longest = 0  # letters in the longest key
        self.words = 0  # words in the longest name
        for name in names:
            name_parts = parts(name)
            key = "".join(name_parts)
            if not key.isascii():
                # Read as the text is read: a middle dot between the parts ("リ・チョルス") stands for a space.
                key = "".join(parts(_NOT_IN_A_NAME.sub(" ", name)))
                if len(key) >= _MIN_NATIVE_KEY_LENGTH:
                    self.native.add(key)
            elif len(key) >= _MIN_KEY_LENGTH:
                self.keys.add(key)
                self.folded.add(fold(name))
                self.longest = max(self.longest, len(key))
                self.words = max(self.words, len(name_parts))
                # The given name alone names the person too ("Jeong-wook's wife"), when it is
                # written in syllables: a one-word given name ("Grace") is also a word.
                family, given = split_family(name)
                if family and len(given) > 1 and len("".join(given)) >= _MIN_KEY_LENGTH:
                    self.keys.add("".join(given))

    def __bool__(self) -> bool:
        return bool(self.keys or self.native)

    def finds(self, text: str) -> bool:
        """Whether ``text`` names the person."""
        if not text or not self:
            return False
        # Brackets, quotation marks, slashes and other punctuation stand between words like spaces:
        # "(Kim Jeong-wook)", "“Kim Jeong-wook”", ".../kim-jeong-wook-arrested".
        # Korean and Japanese write a romanized name against their own words ("Kim Jeong-wook은",
        # "Ri Chol-suさんは"): where the script changes, a word ends.
        text = _SCRIPT_CHANGE.sub(" ", text)
        words = _split_words(_NOT_IN_A_NAME.sub(" ", _POSSESSIVE.sub("", text)))
        flat = [part for word in words for part in word]
        if self.native:
            joined = "".join(flat)
            if any(key in joined for key in self.native):
                return True
        # Any run of parts that spells a key, however the text spaces or hyphenates it ("KIM JEONG WOOK").
        for start in range(len(flat)):
            spelled = ""
            for part in flat[start:]:
                spelled += part
                if spelled in self.keys:
                    return True
                if len(spelled) >= self.longest:
                    break
        # The folded spellings (Gim Jung-uk, Jeong-wook Kim): words as written, so the family name is found.
        for start in range(len(words)):
            for end in range(start + 1, min(start + self.words, len(words)) + 1):
                written = " ".join("-".join(word) for word in words[start:end])
                if written.isascii() and fold(written) in self.folded:
                    return True
        return False
        words = _split_words(_POSSESSIVE.sub("", text))
        if self.native:
            joined = "".join(part for word in words for part in word)
            if any(key in joined for key in self.native):
                return True
        for start in range(len(words)):
            for end in range(start + 1, min(start + self.longest, len(words)) + 1):
                window = words[start:end]
                if "".join(part for word in window for part in word) in self.keys:
                    return True
                written = " ".join("-".join(word) for word in window)
                if written.isascii() and fold(written) in self.folded:
                    return True
        return False


def place_romanizations(text: str) -> list[str]:
    """The Revised Romanization and McCune–Reischauer forms of a Korean place name, word by word.

    ``place_romanizations("요덕")`` gives ``["Yodeok", "Yodŏk"]``: a place name is read as one word, and
    McCune–Reischauer voices a plain consonant between voiced sounds (요덕 is Yodŏk, 개천 Kaech'ŏn). Other
    sound changes are not applied; the folded key (:func:`fold_given`) makes up for them. Words that are
    not Hangul are left out.
    """
    words = [word for word in unicodedata.normalize("NFC", text or "").split() if _is_hangul(word)]
    if not words:
        return []
    revised = " ".join(
        "".join(_romanize_syllable(s, _INITIALS_RR, _MEDIALS_RR, _FINALS_RR) for s in word).capitalize()
        for word in words
    )
    return [revised, " ".join(_mccune_reischauer_word(word) for word in words)]


# McCune–Reischauer: a plain initial after a vowel or a voiced final (n, m, ng, l) is voiced.
_VOICED = {"k": "g", "t": "d", "p": "b", "ch": "j"}


def _mccune_reischauer_word(word: str) -> str:
    out, voiced_before = [], False
    for syllable in word:
        index = ord(syllable) - 0xAC00
        initial, rest = divmod(index, 21 * 28)
        final = rest % 28
        letters = _romanize_syllable(syllable, _INITIALS_MR, _MEDIALS_MR, _FINALS_MR)
        plain = _INITIALS_MR[initial]
        if voiced_before and plain in _VOICED:
            letters = _VOICED[plain] + letters[len(plain) :]
        out.append(letters)
        voiced_before = _FINALS_MR[final] in ("-", "n", "m", "ng", "l")
    return "".join(out).capitalize()
