"""An order read out of a customer's message: quantities and the items they name, matched against what the
shop sells, for the seller to review before anything is created. Deterministic and offline.

`read_order(text, candidates, language)` splits the message into phrases (lines, bullets, commas, "and" /
"y" / "e" / "et"), reads each phrase's quantity (digits, "x2", "3x", "* 2", number words, "a dozen") and
matches the rest against the candidates' names and SKUs with rapidfuzz, word by word so that typos and
plurals still match. A phrase scoring below MATCH_THRESHOLD, or tied between two candidates, is
unmatched: the seller picks one of its close candidates or keeps it as typed.
"""

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from rapidfuzz import fuzz, process

from agents import tables
from agents.shop import shop_of

from . import catalog
from .placing import MAX_NAME_LENGTH, MAX_QUANTITY

LANGUAGES = ("en", "es", "pt", "fr")
# A phrase matches a candidate from this score (0-100) on; between CLOSE_THRESHOLD and it, the candidate
# is offered to the seller as a close one.
MATCH_THRESHOLD = 70
CLOSE_THRESHOLD = 45
# Two candidates this close to each other are a tie: the seller chooses.
TIE_MARGIN = 4
CLOSE_CANDIDATES = 5
# Two words of six letters or more alike from this rapidfuzz ratio on are the same word with a typo.
TYPO_SIMILARITY = 72
# Earlier items read as candidates (newest first), and the longest message read.
MAX_EARLIER_ITEMS = 500
MAX_TEXT_LENGTH = 4096
# Quantities past this are a phone number, a postcode or a year, not a count.
LARGEST_QUANTITY = min(9999, MAX_QUANTITY)


@dataclass(frozen=True)
class Candidate:
    """Something the shop sells: a name, its price (None when unknown) and its SKU / retailer id."""

    name: str
    price: Decimal | None = None
    retailer_id: str = ""


@dataclass(frozen=True)
class ProposedLine:
    """One item of the proposal: `candidate` is None when the phrase matched nothing for sure, and
    `close` then holds the candidates the seller may pick from (best first)."""

    quantity: int
    candidate: Candidate | None
    phrase: str
    score: float
    close: tuple = ()
    # The words that named the item, for matching ("2 of them" has none: it counts the line before).
    phrase_words: tuple = field(default=(), compare=False, repr=False)

    @property
    def matched(self):
        return self.candidate is not None

    @property
    def item_as_written(self):
        """The phrase without its count and the words around the item ("I'd like 2 candles pls" -> "Candles"),
        as the customer spelled it: the item's name when the seller keeps it as typed."""
        words = self.phrase.split()
        while words and _is_wrapping(words[0]):
            words.pop(0)
        while words and _is_wrapping(words[-1]):
            words.pop()
        text = " ".join(words).strip(" .,;:!?¿¡*-") or self.phrase.strip()
        return (text[:1].upper() + text[1:])[:MAX_NAME_LENGTH]


def _is_wrapping(word):
    """Whether a word of a phrase is a count, a filler or an emoji, not part of the item's name."""
    return all(token.isdigit() or token in AROUND_ITEMS for token in tokens_of(word))


@dataclass
class Proposal:
    language: str
    lines: list = field(default_factory=list)

    @property
    def matched(self):
        return [line for line in self.lines if line.matched]

    @property
    def unmatched(self):
        return [line for line in self.lines if not line.matched]


# The words of each language -------------------------------------------------------------------------------

NUMBER_WORDS = {
    "en": {
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
        "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "fifty": 50,
        "dozen": 12, "couple": 2, "pair": 2,
    },
    "es": {
        "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
        "diez": 10, "once": 11, "doce": 12, "quince": 15, "veinte": 20, "treinta": 30, "cincuenta": 50,
        "docena": 12, "par": 2,
    },
    "pt": {
        "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9,
        "dez": 10, "onze": 11, "doze": 12, "quinze": 15, "vinte": 20, "trinta": 30, "cinquenta": 50,
        "duzia": 12, "par": 2,
    },
    "fr": {
        "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
        "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "cinquante": 50,
        "douzaine": 12, "paire": 2,
    },
}  # fmt: skip
# "a" / "una" / "um" / "une": one, but weak evidence that the phrase is an item at all ("I have a question").
ARTICLES = {"en": {"a", "an"}, "es": {"un", "una"}, "pt": {"um", "uma"}, "fr": {"un", "une"}}
# Words that make a number words' multiple: "two dozen" = 24, "media docena" = 6.
DOZENS = {"dozen", "dozens", "docena", "docenas", "duzia", "duzias", "douzaine", "douzaines"}
HALF = {"half", "media", "meia", "demi"}
# "this one", "the other one": "one" that is no count.
PRONOUN_ONE = {"this", "that", "the", "which", "other", "another", "same", "big", "small", "blue", "red"}
# Read around a quantity and dropped: "2 units of", "a couple of", "x 3 pcs".
UNITS = {
    "pc", "pcs", "piece", "pieces", "unit", "units", "u", "un", "uds", "ud", "unid", "unidad", "unidades",
    "pz", "pza", "pzas", "pieza", "piezas", "unidade", "pecas", "peca", "unite", "unites", "pack", "packs",
    "pair", "pairs", "par", "pares", "paire", "paires",
}  # fmt: skip
# Words that carry no item: politeness, "I want", articles, "of"... Removed before matching, in every
# language (a Spanish shop gets English messages too); the phrase shown to the seller keeps them.
FILLER = {
    # English
    "i", "im", "id", "d", "we", "want", "wanna", "would", "like", "love", "can", "could", "get", "have",
    "need", "please", "pls", "plz", "pleasee", "thanks", "thank", "thx", "you", "ty", "send", "me", "us", "give",
    "order", "ordering", "buy", "take", "ill", "also", "and", "then", "the", "of", "some", "more", "for", "my",
    "just", "too", "hi", "hello", "hey", "hiya", "morning", "good", "afternoon", "evening", "oh", "ok", "okay",
    "yes", "sure", "so", "will", "be", "is", "it", "that", "this", "all", "plus", "x", "another", "extra", "to",
    "gonna", "put", "add", "include", "lemme", "let", "dear", "there", "again", "same", "as", "last", "time",
    "them", "each", "on", "up", "at", "cada", "deles", "delas", "chacun", "new", "nice", "lovely", "pretty", "cute", "in", "en",
    "preparas", "prepara", "reservas", "reserva", "reservame", "haces", "vendes", "separas", "separa", "apartas",
    "aparta", "guardame",
    # Spanish
    "quiero", "queria", "quisiera", "das", "dame", "manda", "mandame", "envia",
    "enviame", "necesito", "pedir", "pido", "por", "favor", "porfa", "porfavor", "pf", "gracias", "hola",
    "buenas", "buenos", "dias", "tardes", "noches", "el", "la", "los", "las", "de", "del", "unos", "unas",
    "tambien", "mas", "y", "con", "para", "mi", "lo", "que", "si", "vale", "otra", "otro", "ponme", "pon",
    "agrega", "agregame", "anade", "porfis", "saludos", "hacer", "pedido", "seria", "al", "pones",
    "apunta", "apuntas", "guardas", "guarda", "mandas", "envias", "enviais", "traes", "holaa", "encargar",
    # Portuguese
    "quero", "gostaria", "preciso", "mande", "obrigado", "obrigada", "obg", "ola",
    "oi", "bom", "dia", "boa", "tarde", "noite", "o", "os", "a", "do", "da", "dos", "e", "tambem",
    "mais", "com", "pra", "pfv", "vc", "voce", "encomendar", "encomenda", "ao",
    # French
    "je", "voudrais", "veux", "aimerais", "besoin", "commander", "prendre", "prends", "svp", "merci",
    "bonjour", "salut", "bonsoir", "le", "les", "des", "du", "et", "aussi", "avec", "pour", "mon",
    "ma", "mes", "sil", "vous", "plait", "moi", "stp", "aurais", "j", "ai", "encore", "au", "aux",
}  # fmt: skip
# Words around an item's name in a phrase, dropped when the seller keeps the phrase as typed.
AROUND_ITEMS = set().union(*NUMBER_WORDS.values(), *ARTICLES.values(), DOZENS, HALF, UNITS, FILLER, {"x"})
# Words of a language, for telling which one a message is written in when the shop has not said.
MARKERS = {
    "en": {"i", "want", "please", "pls", "and", "the", "of", "hi", "hello", "thanks", "would", "like", "can", "you",
           "have", "do", "is", "with",
           "need", "get", "two", "three", "dozen", "an", "some", "for", "my"},
    "es": {"quiero", "hola", "gracias", "una", "unos", "dos", "y", "para", "buenas", "porfa", "necesito",
           "quisiera", "mandame", "docena", "tres", "cuatro", "el", "los", "las", "del", "tambien", "favor"},
    "pt": {"quero", "ola", "oi", "obrigado", "obrigada", "uma", "duas", "dois", "e", "voce", "bom", "dia",
           "gostaria", "preciso", "duzia", "tambem", "os", "do", "da", "pra", "com", "tudo"},
    "fr": {"je", "bonjour", "merci", "une", "deux", "et", "pour", "voudrais", "svp", "des", "les", "veux",
           "douzaine", "trois", "avec", "aussi", "salut", "du", "sil", "plait"},
}  # fmt: skip
# Words of when: about a delivery, never part of an item's name ("girasoles para mañana").
WHEN = (
    r"yesterday|ayer|ontem|hier|tomorrow|today|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|"
    r"manana|hoy|lunes|martes|miercoles|jueves|viernes|sabado|domingo|"
    r"amanha|hoje|segunda|terca|quarta|quinta|sexta|demain|aujourdhui|lundi|mardi|mercredi|jeudi|vendredi|samedi"
)
WHEN_WORD = re.compile(WHEN)
# A phrase with one of these words is about delivery, payment or a time, not an item.
NOT_ITEMS = re.compile(
    r"\b(address|street|st|avenue|ave|road|rd|apt|apartment|flat \d+|floor|zip|postcode|deliver|delivery|"
    r"ship|shipping|pickup|pick|collect|pay|paying|paid|payment|transfer|cash|card|total|price|cost|how much|"
    r"calle|avenida|av|piso|puerta|portal|cp|direccion|entrega|envio|enviar a|pago|pagar|transferencia|"
    r"efectivo|tarjeta|cuanto|cuesta|rua|apto|andar|cep|endereco|entregar|entregue|pagamento|pix|quanto|"
    r"custa|rue|adresse|etage|livraison|livrer|paiement|payer|combien|espece|especes|" + WHEN + r")\b"
)
# A question about what the shop has ("do you have red vases?") names items without ordering them.
ASKING = re.compile(
    r"\b(do you (?:have|sell|still)|have you got|is there|are there|any more|in stock|available|"
    r"tienes|tienen|tenes|teneis|tiene|hay|te queda|quedan|disponible|voce tem|voces tem|tem|tens|ainda tem|"
    r"voces teem|vcs tem|"
    r"avez vous|vous avez|il reste|reste t il|disponible)\b"
)
# Asking for something rather than about it: a question mark then still orders ("can I get a vase?").
REQUEST = re.compile(
    r"\b(can i|could i|can you|could you|may i|i want|i'd like|id like|i would like|me das|me pones|me mandas|"
    r"me envias|me guardas|me apuntas|quiero|quisiera|queria|quero|gostaria|pode me|je voudrais|je veux|"
    r"pouvez vous|tu peux)\b",
    re.I,
)
# Sizes and dimensions are no count: "size 32", "talla 40", "10x15".
SIZE = re.compile(r"\b(?:size|sz|talla|taille|tamanho|tam|numero)\s+\w+\b|\b\d+ x \d+ (?:cm|mm|in\b)?")
TIME = re.compile(r"\b\d{1,2}\s*(?:[:h]\s*\d{2}|am|pm|h)\b|\b(?:at|a las|as|a)\s+\d{1,2}\b")
PRICE = re.compile(r"[$€£]\s*\d|\d\s*[$€£]|\d\s*(?:eur|euros?|usd|dollars?|reais|brl|pesos?)\b")

CONJUNCTIONS = re.compile(r"\s+(?:and|y|e|et|&|\+|plus|also|tambien|también|também|aussi)\s+", re.I)
# A slash separates items, but not sizes ("30/32").
SEPARATORS = re.compile(r"\s*[,;|]\s*|(?<!\d)\s*/\s*|\s*/\s*(?!\d)|\s+-\s+")
# Sentences end at . ! ? but not after the abbreviations of an address ("Av. Libertad 30").
NOT_AN_END = "".join(
    f"(?<!\\b{abbreviation}\\.)" for abbreviation in ("Av", "av", "St", "st", "Rd", "rd", "No", "no", "Nr")
)
SENTENCE_END = re.compile(r"(?<=[.!?])" + NOT_AN_END + r"\s+")
WORDS_END = re.compile(r"(?<=[.!?¡¿])" + NOT_AN_END + r"\s+|\s*[.!]{2,}\s*")
BULLET = re.compile(r"^\s*(?:[-*•·▪►→>+]|\d{1,2}[.)](?=\s))\s*")
# A new item starting with its count after the previous one: "2 vases 3 wraps", "vase x2 wrap x3".
NEXT_COUNT = re.compile(
    r"(?<=\D)(?<!\bx)(?<![×*])(?<!size)(?<!talla)(?<!taille)(?<!tamanho)\s+(?=\d{1,4}\s*(?:[x×*]\s*)?(?![x×*]\s*\d)[^\W\d_])"
    r"|(?:(?<=\S\s[x×]\d)|(?<=\S\s[x×]\d\d)|(?<=\S\s[x×]\s\d)|(?<=\S\s[x×]\s\d\d))\s+(?=[^\W\d_])"
)


def normalize(text):
    """Lower case, accents and emojis removed: what matching compares."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("×", " x ").replace("*", " x "))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens_of(text):
    """Words and numbers of `text` ("3x shirt" -> 3, x, shirt; "vase x2" -> vase, x, 2), apostrophes dropped."""
    plain = re.sub(r"([a-z])\1{2,}", r"\1", normalize(text).replace("'", "").replace("’", ""))
    return re.findall(r"\d+|[a-z]+", plain)


def singular(word, language):
    """A word's singular, roughly and consistently (both sides of a comparison go through it)."""
    if len(word) <= 3 or word.isdigit():
        return word
    if language == "en":
        # "cookies" and "cookie", "berries" and "berry" all end in "ie".
        if word.endswith("ies") and len(word) > 4:
            return word[:-1]
        if word.endswith("y") and not word.endswith(("ay", "ey", "oy", "uy")):
            return word[:-1] + "ie"
        if word.endswith(("sses", "xes", "ches", "shes", "zes")):
            return word[:-2]
        if word.endswith("oes") and len(word) > 5:
            return word[:-2]
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word[:-1]
        return word
    if language == "es":
        if word.endswith("iones"):
            return word[:-2]
        if word.endswith("es") and len(word) > 4 and word[-3] in "lnrdjz":
            return word[:-2]
        return word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    if language == "pt":
        if word.endswith(("oes", "aes")):
            return word[:-3] + "ao"
        if word.endswith("ns"):
            return word[:-2] + "m"
        if word.endswith(("eis", "ais", "ois")) and len(word) > 4:
            return word[:-2] + "l"
        if word.endswith("es") and len(word) > 4 and word[-3] in "rzs":
            return word[:-2]
        return word[:-1] if word.endswith("s") else word
    return word[:-1] if word.endswith(("s", "x")) and len(word) > 3 else word


def guess_language(text, preferred="en"):
    """The language `text` is most likely written in; `preferred` when its words do not tell (or tie)."""
    preferred = preferred if preferred in LANGUAGES else "en"
    words = set(tokens_of(text))
    counts = {language: len(words & MARKERS[language]) for language in LANGUAGES}
    best = max(LANGUAGES, key=lambda language: (counts[language], language == preferred))
    return best if counts[best] else preferred


# Reading a message ----------------------------------------------------------------------------------------


@dataclass
class _Key:
    """A name prepared for matching: its words (singular, without filler), joined, and its head noun."""

    words: tuple
    joined: str
    head: str


def _key(text, language, *, phrase=False):
    # Not the item's words: filler, when ("girasoles para mañana") and, in what a customer wrote, sizes ("in S").
    words = tuple(
        singular(word, language)
        for word in tokens_of(text)
        if word not in FILLER
        and not WHEN_WORD.fullmatch(word)
        and not (phrase and len(word) == 1 and not word.isdigit())
    )
    # The noun that says what the thing is: last in English ("blue vase"), first elsewhere ("camisa azul").
    head = (words[-1] if language == "en" else words[0]) if words else ""
    return _Key(words, "".join(words), head)


@functools.lru_cache(maxsize=100_000)
def _word_similarity(a, b):
    """How alike two words are (0-100): short words must be equal, longer ones may carry a typo."""
    if a == b:
        return 100.0
    if min(len(a), len(b)) <= 3:
        return 0.0
    score = fuzz.ratio(a, b)
    return score if score >= (80 if min(len(a), len(b)) <= 5 else TYPO_SIMILARITY) else 0.0


def _score(phrase, candidate, sku):
    """0-100: how well the phrase's words cover the candidate's (its head noun counting double) and the
    candidate's cover the phrase's; a phrase that is the candidate's SKU scores 100."""
    if sku and (phrase.joined == sku or sku in phrase.words):
        return 100.0
    if not phrase.words or not candidate.words:
        return 0.0
    weights = [2 if word == candidate.head else 1 for word in candidate.words]
    covered = sum(
        weight * max(_word_similarity(word, other) for other in phrase.words)
        for word, weight in zip(candidate.words, weights, strict=True)
    ) / sum(weights)
    covering = sum(max(_word_similarity(word, other) for other in candidate.words) for word in phrase.words) / len(
        phrase.words
    )
    words_score = (covered + covering) / 2
    return max(words_score, fuzz.ratio(phrase.joined, candidate.joined) if len(phrase.joined) > 5 else 0.0)


def _count_at(words, i, numbers, language):
    """(count, words used, strong) of a count written at words[i], or (None, 0, False)."""
    word = words[i]
    following = words[i + 1] if i + 1 < len(words) else ""
    after = words[i + 2] if i + 2 < len(words) else ""
    if word in HALF and (following in DOZENS or following in ARTICLES[language] and after in DOZENS):
        return 6, 2 if following in DOZENS else 3, True
    if not (word.isdigit() or word in numbers or word in ARTICLES[language]):
        return None, 0, False
    value = int(word) if word.isdigit() else numbers.get(word, 1)
    if following in HALF and after in DOZENS:
        return 6, 3, True
    if following in DOZENS and word not in DOZENS:
        return value * 12, 2, True
    if word in ARTICLES[language] and following in numbers:
        return numbers[following], 2, True
    return value, 1, word not in ARTICLES[language]


def _quantity(words, language):
    """(quantity, strong, the words left) of one phrase's words; quantity None when none is written.

    Strong: digits or a number word ("2", "x2", "3x", "dos", "a dozen"); an article ("a", "una") or a
    number ending the phrase ("bagels 4") is weak evidence that the phrase is an item at all.
    """
    numbers = NUMBER_WORDS[language]
    ends = [n for n, word in enumerate(words) if word not in FILLER or word in numbers or word == "x"]
    first = ends[0] if ends else len(words)
    for i in range(len(words) - 1):
        # "3x shirt", "2 x photo frame" at the start; "shirt x2", "x2 shirt" at either end.
        at_end = all(word in FILLER for word in words[i + 2 :])
        if words[i] == "x" and words[i + 1].isdigit() and (at_end or i <= first):
            return int(words[i + 1]), True, _without_units(words[:i] + words[i + 2 :], i)
        if words[i].isdigit() and words[i + 1] == "x" and i <= first:
            return int(words[i]), True, _without_units(words[:i] + words[i + 2 :], i)
    # The first count in the phrase ("can I get 2 vases", "me pones dos gorras"); an article only before
    # the item's words ("I'd like a vase", not "a vase for a friend" twice), and "one" not as a pronoun
    # ("this one in red", "the blue one").
    for i, word in enumerate(words):
        if word in ARTICLES[language] and i > first:
            continue
        if word == "one" and (i + 1 == len(words) or i and words[i - 1] in PRONOUN_ONE):
            continue
        count, used, strong = _count_at(words, i, numbers, language)
        if count is not None and (i + used < len(words) or not word.isdigit()):
            return count, strong, _without_units(words[:i] + words[i + used :], i)
    if words and words[-1].isdigit():
        return int(words[-1]), False, words[:-1]
    return None, False, words


def _without_units(words, at):
    """The words without a unit right where the count was ("2 pcs of", "3 unidades de")."""
    if at < len(words) and words[at] in UNITS:
        return words[:at] + words[at + 1 :]
    return words


def _phrases(text, protected):
    """The phrases of a message as written, each with the number of its line or sentence and whether that
    asks for something ("can I get..."). Lines, bullets, sentences, commas and "and" split it, but never
    inside the name of a candidate that holds one of them ("salt and pepper set", "Sunscreen SPF 50")."""
    masked = text
    for index, pattern in enumerate(protected):
        masked = pattern.sub(lambda match, index=index: f"\ue000{index}:{match.group(0)}\ue001", masked)
    masked = re.sub("\ue000\\d+:(.*?)\ue001", lambda match: match.group(0).replace(",", "\ue002"), masked)
    phrases = []
    for number, line in enumerate(part for text in re.split(r"[\r\n]+", masked) for part in SENTENCE_END.split(text)):
        line = BULLET.sub("", line)
        requested = bool(REQUEST.search(line))
        for sentence in WORDS_END.split(line):
            for part in SEPARATORS.split(sentence):
                for piece in _split_outside_names(part, CONJUNCTIONS):
                    phrases.extend((number, p, requested) for p in _split_outside_names(piece, NEXT_COUNT))
    unmask = re.compile("\ue000\\d+:(.*?)\ue001")
    return [
        (number, text, requested)
        for number, phrase, requested in phrases
        if (text := unmask.sub(lambda m: m.group(1), phrase).replace("\ue002", ",").strip(" .!:-"))
    ]


def _split_outside_names(text, pattern):
    """`text` split on `pattern`, except inside a protected name (between \ue000 and \ue001)."""
    pieces, start = [], 0
    for match in pattern.finditer(text):
        if text.count("\ue000", 0, match.start()) > text.count("\ue001", 0, match.start()):
            continue
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _protected_names(candidates):
    """Patterns of the candidate names that hold a separator or "and" (in any language, or "&")."""
    patterns = []
    names = {c.name for c in candidates if re.search(r"[,;&+/|]|\d|\s(?:and|y|e|et|x)\s", c.name, re.I)}
    for name in sorted(names, key=len, reverse=True):
        parts = [
            r"(?:and|y|e|et|&|\+)" if part.lower() in ("and", "y", "e", "et", "&", "+") else re.escape(part)
            for part in name.split()
        ]
        patterns.append(re.compile(r"(?<!\w)" + r"\s*".join(parts) + r"(?!\w)", re.I))
    return patterns


def _about_something_else(words, phrase=""):
    """Whether the words (or the phrase they come from, for a currency sign) speak of an address, a time, a
    price, a payment or a phone number."""
    plain = " ".join(words)
    return bool(
        NOT_ITEMS.search(plain)
        or TIME.search(plain)
        or PRICE.search(plain)
        or PRICE.search(normalize(phrase))
        or re.search(r"\d{5,}", plain)
    )


def read_order(text, candidates, language=None):
    """A Proposal: the items `text` asks for, each with its quantity and the candidate it names (or None).

    `language` is one of LANGUAGES (the shop's), or None to tell it from the text.
    """
    text = (text or "")[:MAX_TEXT_LENGTH]
    language = language if language in LANGUAGES else guess_language(text)
    catalog = _Catalog(candidates, language)
    proposal = Proposal(language=language)
    maybe, aside = [], None
    for number, phrase, requested in _phrases(text, _protected_names(candidates)):
        line, sure = _read_phrase(phrase, catalog, language, requested)
        if line is ASIDE:
            # An address or a time goes on to the end of its line ("Calle Mayor 12, 3ºB, Madrid").
            aside = number
            continue
        if line is None or number == aside and not (line.matched and sure):
            continue
        if not line.phrase_words and proposal.lines:
            # "2 of them", "x3": the count of the line before.
            proposal.lines[-1] = replace(proposal.lines[-1], quantity=line.quantity)
        elif line.phrase_words:
            proposal.lines.append(line)
            if not sure:
                maybe.append(line)
    if len(maybe) == len(proposal.lines):
        # Phrases like "a question" count as items only in a message that orders something for sure.
        proposal.lines = []
    return proposal


def _sku(candidate):
    return re.sub(r"[^a-z0-9]", "", normalize(candidate.retailer_id or ""))


class _Catalog:
    """The candidates prepared once per message, with an index from each word to the candidates that hold
    it: a phrase is scored only against candidates sharing a word with it (typos included), its SKU, or a
    name spelled close to it as one word ("giftwrap"); the others score below CLOSE_THRESHOLD anyway."""

    def __init__(self, candidates, language):
        self.entries = [(candidate, _key(candidate.name, language), _sku(candidate)) for candidate in candidates]
        self.by_word, self.by_sku, self.numbered = defaultdict(set), defaultdict(set), {}
        for n, (candidate, key, sku) in enumerate(self.entries):
            for word in key.words:
                self.by_word[word].add(n)
            if sku:
                self.by_sku[sku].add(n)
            if any(word.isdigit() for word in key.words):
                self.numbered.setdefault(key.words, candidate)
        self.vocabulary = list(self.by_word)
        self.joined = [key.joined for _, key, _ in self.entries]

    def item_words(self, phrase):
        """The phrase's key without the words of a delivery or a payment that no candidate's name holds
        ("2 sourdough loaves for pick up on Friday"; but "card" stays in a shop that sells cards)."""
        words = tuple(word for word in phrase.words if word in self.by_word or not NOT_ITEMS.fullmatch(word))
        return phrase if words == phrase.words else _Key(words, "".join(words), phrase.head)

    def scored(self, phrase):
        """[(score, n, candidate)] of the candidates the phrase may name, best first (then in their order)."""
        found = set(self.by_sku.get(phrase.joined, ()))
        for word in phrase.words:
            found |= self.by_sku.get(word, set())
            for other, _, _ in process.extract(
                word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY, limit=None
            ):
                if _word_similarity(word, other):
                    found |= self.by_word[other]
        if len(phrase.joined) > 5:
            found |= {
                n
                for *_, n in process.extract(
                    phrase.joined, self.joined, scorer=fuzz.ratio, score_cutoff=CLOSE_THRESHOLD, limit=None
                )
            }
        scored = [(_score(phrase, self.entries[n][1], self.entries[n][2]), n, self.entries[n][0]) for n in found]
        return sorted(scored, key=lambda entry: (-entry[0], entry[1]))


# What _read_phrase answers for a phrase about an address, a time or a payment.
ASIDE = object()


def _read_phrase(phrase, catalog, language, requested=False):
    """(line, sure): the ProposedLine a phrase asks for (None for none, ASIDE for an address, a time or a
    payment), and whether it surely is an item. `requested`: its sentence asks for something ("could you
    send me..."), so a question mark does not make it a question about the shop."""
    if len(phrase) > MAX_NAME_LENGTH:
        return None, False
    words = SIZE.sub(" ", " ".join(tokens_of(phrase))).split()
    whole = _key(" ".join(words), language)
    if whole.words in catalog.numbered:
        # The phrase is a name with a number in it, as the shop sells it ("Sunscreen SPF 50").
        return ProposedLine(1, catalog.numbered[whole.words], phrase, 100.0, phrase_words=whole.words), True
    quantity, strong, rest = _quantity(words, language)
    if quantity is not None and not 0 < quantity <= LARGEST_QUANTITY:
        return None, False
    key = catalog.item_words(_key(" ".join(rest), language, phrase=True))
    if not key.words:
        if _about_something_else(words, phrase):
            return ASIDE, False
        # Only a count in digits counts the line before ("2 of them", "x3"; not "uno en S").
        counted = quantity is not None and strong and any(word.isdigit() for word in words)
        return (ProposedLine(quantity, None, phrase, 0.0, phrase_words=()) if counted else None), True
    scored = catalog.scored(key)
    close = tuple(candidate for score, _, candidate in scored[:CLOSE_CANDIDATES] if score >= CLOSE_THRESHOLD)
    best = scored[0][0] if scored else 0.0
    tied = len(scored) > 1 and scored[1][0] >= best - TIE_MARGIN
    asking = ASKING.search(" ".join(words)) or "?" in phrase and quantity is None and not requested
    if asking and not strong:
        return None, False
    if best >= MATCH_THRESHOLD and not tied:
        candidate = scored[0][2]
        others = [word for word in rest if singular(word, language) not in _key(candidate.name, language).words]
        if quantity is None and _about_something_else(others):
            return ASIDE, False
        return ProposedLine(quantity or 1, candidate, phrase, round(best, 1), close, key.words), True
    if _about_something_else(words, phrase):
        return ASIDE, False
    # Tied between two things the shop sells ("a vase": blue or red?), the phrase surely is an item.
    sure = strong or tied and best >= MATCH_THRESHOLD
    if sure or quantity is not None and len(key.words) <= 3:
        return ProposedLine(quantity or 1, None, phrase, round(best, 1), close, key.words), sure
    return None, False


# The agent's candidates ----------------------------------------------------------------------------------


def propose(agent, text):
    """What `text`, a message of one of the agent's customers, asks for, read against the agent's candidates:
    in the language the message is written in when its words tell, else in the shop's (its locale's)."""
    shop_language = shop_of(agent).locale.split("_")[0].lower()
    return read_order(text, candidates(agent), guess_language(text, preferred=shop_language))


def candidates(agent):
    """What the agent's messages are matched against, each name once (the first one wins): the catalog's
    active products first, then the items of earlier orders, newest first, with their last price."""
    return _each_name_once([*catalog_products(agent), *earlier_items(agent)])


def catalog_products(agent):
    """Candidates from the agent's active catalog products (orders.catalog), by name."""
    return [
        Candidate(name=name, price=price, retailer_id=retailer_id)
        for _, name, retailer_id, price in catalog.products_for_matching(agent)
    ]


def earlier_items(agent):
    """Candidates from the items of the agent's last MAX_EARLIER_ITEMS order lines, newest first."""
    rows = tables.for_agent(agent).OrderItem.objects.order_by("-created_at", "-id")
    return [
        Candidate(name=name, price=price, retailer_id=retailer_id or "")
        for name, price, retailer_id in rows.values_list("name", "price", "product_retailer_id")[:MAX_EARLIER_ITEMS]
    ]


def _each_name_once(found):
    seen, once = set(), []
    for candidate in found:
        if candidate.name.lower() not in seen:
            seen.add(candidate.name.lower())
            once.append(candidate)
    return once
