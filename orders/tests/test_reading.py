"""Reading an order out of a message: quantities, plurals, separators, typos and the match threshold."""

from decimal import Decimal

import pytest

from orders import placing, reading
from orders.placing import LineItem
from orders.reading import Candidate, read_order

SHOP = [
    Candidate("Blue vase", Decimal("25.00"), "VASE-BLU"),
    Candidate("Red vase", Decimal("22.00"), "VASE-RED"),
    Candidate("Gift wrap", Decimal("3.00"), "WRAP"),
    Candidate("Linen shirt", Decimal("45.00"), "linen-shirt-m"),
    Candidate("Free-range eggs", Decimal("0.40"), "EGG"),
    Candidate("Salt and pepper set", Decimal("16.00")),
    Candidate("Sunscreen SPF 50", Decimal("21.00")),
]
TIENDA = [
    Candidate("Camisa azul", Decimal("29.90")),
    Candidate("Bolsa de tela", Decimal("8.00")),
    Candidate("Pantalón vaquero", Decimal("45.00")),
    Candidate("Flor de papel", Decimal("2.00")),
]


def lines(text, candidates=SHOP, language="en"):
    return [
        (line.quantity, line.candidate.name if line.candidate else None)
        for line in read_order(text, candidates, language).lines
    ]


@pytest.mark.parametrize(
    "text, quantity",
    [
        ("2 linen shirts", 2),
        ("two linen shirts", 2),
        ("a linen shirt", 1),
        ("3x linen shirt", 3),
        ("3 x linen shirt", 3),
        ("linen shirt x4", 4),
        ("linen shirt * 5", 5),
        ("linen shirt ×6", 6),
        ("x7 linen shirt", 7),
        ("linen shirt 8", 8),
        ("a dozen linen shirts", 12),
        ("two dozen linen shirts", 24),
        ("half a dozen linen shirts", 6),
        ("a couple of linen shirts", 2),
        ("can I get 9 linen shirts please", 9),
        ("10 pcs linen shirt", 10),
    ],
)
def test_english_quantities_are_read_from_digits_and_words(text, quantity):
    assert lines(text) == [(quantity, "Linen shirt")]


@pytest.mark.parametrize(
    "text, quantity",
    [
        ("dos camisas azules", 2),
        ("una camisa azul", 1),
        ("tres camisas azules", 3),
        ("doce camisas azules", 12),
        ("una docena de camisas azules", 12),
        ("media docena de camisas azules", 6),
        ("un par de camisas azules", 2),
        ("me pones cuatro camisas azules?", 4),
        ("camisa azul x 2", 2),
        ("3 unidades de camisa azul", 3),
    ],
)
def test_spanish_quantities_are_read_from_digits_and_words(text, quantity):
    assert lines(text, TIENDA, "es") == [(quantity, "Camisa azul")]


def test_portuguese_and_french_number_words_are_read():
    assert lines("duas camisas azuis e meia dúzia de bolsas de tela", TIENDA, "pt") == [
        (2, "Camisa azul"),
        (6, "Bolsa de tela"),
    ]
    assert lines("deux camisas azul et une douzaine de bolsa de tela", TIENDA, "fr") == [
        (2, "Camisa azul"),
        (12, "Bolsa de tela"),
    ]


def test_a_number_word_of_another_language_is_no_count_but_its_article_is_no_item():
    # "a" is one in English only: in Spanish it means "to" and names nothing.
    assert lines("a linen shirt", SHOP, "es") == [(1, "Linen shirt")]
    assert lines("dos linen shirts", SHOP, "en") == [(1, "Linen shirt")]


@pytest.mark.parametrize(
    "text, candidates, language, expected",
    [
        ("blue vases", SHOP, "en", "Blue vase"),
        ("gift wraps", SHOP, "en", "Gift wrap"),
        ("free range eggs", SHOP, "en", "Free-range eggs"),
        ("camisas azules", TIENDA, "es", "Camisa azul"),
        ("bolsas de tela", TIENDA, "es", "Bolsa de tela"),
        ("flores de papel", TIENDA, "es", "Flor de papel"),
        ("pantalones vaqueros", TIENDA, "es", "Pantalón vaquero"),
        ("pantalon vaquero", TIENDA, "es", "Pantalón vaquero"),
    ],
)
def test_plurals_and_accents_match_the_singular_name(text, candidates, language, expected):
    assert lines(text, candidates, language) == [(1, expected)]


@pytest.mark.parametrize(
    "text",
    [
        "2 blue vases and a gift wrap",
        "2 blue vases, a gift wrap",
        "2 blue vases; a gift wrap",
        "2 blue vases + a gift wrap",
        "2 blue vases & a gift wrap",
        "2 blue vases\na gift wrap",
        "- 2 blue vases\n- a gift wrap",
        "• 2 blue vases\n• a gift wrap",
        "1. 2 blue vases\n2. a gift wrap",
        "2 blue vases. A gift wrap",
        "blue vase x2 gift wrap x1",
        "2 blue vases 1 gift wrap",
    ],
)
def test_lines_bullets_commas_and_and_separate_items(text):
    assert lines(text) == [(2, "Blue vase"), (1, "Gift wrap")]


def test_y_e_and_et_separate_items_in_their_languages():
    assert lines("dos camisas azules y una bolsa", TIENDA, "es") == [(2, "Camisa azul"), (1, "Bolsa de tela")]
    assert lines("duas camisas azuis e uma bolsa", TIENDA, "pt") == [(2, "Camisa azul"), (1, "Bolsa de tela")]
    assert lines("deux camisa azul et une bolsa", TIENDA, "fr") == [(2, "Camisa azul"), (1, "Bolsa de tela")]


def test_a_name_holding_and_or_a_number_is_not_split():
    assert lines("salt & pepper set, 2 blue vases") == [(1, "Salt and pepper set"), (2, "Blue vase")]
    assert lines("the sunscreen SPF 50 and a gift wrap") == [(1, "Sunscreen SPF 50"), (1, "Gift wrap")]
    assert lines("SPF50 x2") == [(2, "Sunscreen SPF 50")]


@pytest.mark.parametrize("text", ["blu vase", "bleu vasse", "blue vsae", "gfit wrap", "giftwrap", "linnen shrit"])
def test_typos_still_match(text):
    assert lines(text)[0][1] in {"Blue vase", "Gift wrap", "Linen shirt"}


def test_a_sku_matches_its_product():
    assert lines("VASE-RED x 3") == [(3, "Red vase")]
    assert lines("linen-shirt-m 2") == [(2, "Linen shirt")]


def test_below_the_threshold_a_phrase_is_unmatched_with_its_close_candidates():
    proposal = read_order("2 blue bowls", SHOP, "en")
    [line] = proposal.lines
    assert line.candidate is None and line.quantity == 2 and line.phrase == "2 blue bowls"
    assert line.score < reading.MATCH_THRESHOLD
    assert line.close[0].name == "Blue vase"
    assert proposal.unmatched == [line] and proposal.matched == []


def test_a_phrase_naming_two_candidates_equally_is_left_for_the_seller():
    [line] = read_order("vase x2", SHOP, "en").lines
    assert line.candidate is None and line.quantity == 2
    assert {candidate.name for candidate in line.close} >= {"Blue vase", "Red vase"}


def test_a_count_of_something_the_shop_never_sold_is_still_a_line():
    assert lines("I'd like 2 candles") == [(2, None)]


def test_greetings_addresses_times_and_questions_are_no_items():
    text = (
        "Hi! 👋 Do you have red vases?\n"
        "Can I get 2 blue vases pls\n"
        "Deliver to 12 Baker Street, flat 3, London\n"
        "tomorrow at 5pm is fine, paying cash. Thanks!!"
    )
    assert lines(text) == [(2, "Blue vase")]


def test_a_message_without_an_order_proposes_nothing():
    assert lines("Hello, I have a question about my last order") == []
    assert lines("I sent you 25€ yesterday, 2 blue vases") == [(2, "Blue vase")]
    assert lines("ok so 53 $ in total?") == []
    assert lines("") == [] and lines("👍") == []


def test_a_count_on_its_own_counts_the_line_before():
    assert lines("the blue vase please, 3 of them") == [(3, "Blue vase")]


def test_reading_is_the_same_every_time():
    text = "2 blue vases and a gift wrap, vase x2, 3 candles"
    assert len({repr(read_order(text, SHOP, "en")) for _ in range(5)}) == 1


def test_the_language_is_told_from_the_text_when_the_shop_has_not_said():
    assert read_order("hola, quiero dos camisas azules", TIENDA).language == "es"
    assert read_order("oi, quero duas camisas", TIENDA).language == "pt"
    assert read_order("bonjour je voudrais deux chemises", TIENDA).language == "fr"
    assert read_order("hi, I want two shirts", TIENDA).language == "en"


def test_a_huge_number_is_no_quantity():
    assert lines("call me on 5551234567") == []
    assert lines("1000000000 blue vases") == []


def test_the_candidates_are_the_agents_earlier_items_with_their_last_price(agent_a, agent_b, maria):
    placing.create_order(agent_a, maria, [LineItem("Blue vase", 1, Decimal("20.00"), "VASE-BLU")], actor=None)
    placing.create_order(
        agent_a,
        maria,
        [LineItem("Blue vase", 2, Decimal("25.00"), "VASE-BLU"), LineItem("Gift wrap", 1, 3)],
        actor=None,
    )
    found = reading.candidates(agent_a)
    assert found == [Candidate("Gift wrap", Decimal("3.00"), ""), Candidate("Blue vase", Decimal("25.00"), "VASE-BLU")]
    assert reading.candidates(agent_b) == []


def test_a_request_ending_in_a_question_mark_still_orders():
    assert lines("could you put aside 2 blue vases and the gift wrap for me?") == [(2, "Blue vase"), (1, "Gift wrap")]
    assert lines("is the gift wrap nice?") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("linen shirt size 40 x2", [(2, "Linen shirt")]),
        ("linen shirt 30/32 x2", [(2, "Linen shirt")]),
        ("linen shirt x 5 please, it's for a wedding", [(5, "Linen shirt")]),
        ("blue vase / gift wrap", [(1, "Blue vase"), (1, "Gift wrap")]),
    ],
)
def test_sizes_are_no_counts_and_a_count_may_come_before_please(text, expected):
    assert lines(text) == expected


def test_a_size_after_the_item_does_not_change_its_count():
    assert lines("2 camisas azules, una en S y otra en M", TIENDA, "es") == [(2, "Camisa azul")]


def test_when_and_where_around_an_item_are_not_part_of_it():
    assert lines("Could I please order 2 blue vases for pick up on Friday?") == [(2, "Blue vase")]
    assert lines("2 greeting cards", [*SHOP, Candidate("Greeting card", Decimal("3.50"))]) == [(2, "Greeting card")]
    assert lines("Hola! una bolsa de tela para mañana, a la Av. Libertad 30", TIENDA, "es") == [(1, "Bolsa de tela")]


def test_a_message_is_read_in_the_shops_language_unless_its_words_tell_another(agent_a, maria):
    from agents.shop import save_shop

    placing.create_order(agent_a, maria, [LineItem("Bolsa de tela", 1, Decimal("8.00"))], actor=None)
    # "cinco" is a count in Spanish and Portuguese only, and the message has no other word that tells.
    assert [line.quantity for line in reading.propose(agent_a, "cinco bolsas de tela").lines] == [1]
    save_shop(agent_a, name="Tienda A", currency="EUR", locale="es_ES", time_zone="Europe/Madrid", actor=None)
    proposal = reading.propose(agent_a, "cinco bolsas de tela")
    assert proposal.language == "es" and [line.quantity for line in proposal.lines] == [5]
    assert reading.propose(agent_a, "hi, I want two bolsas de tela please").language == "en"
