"""The reader against the hand-written corpus: at least 90 % of the lines read exactly, in every language."""

from collections import Counter

from .reading_corpus import SAMPLES, exact_lines, lines_read

FLOOR = 0.90


def test_the_corpus_holds_200_messages_in_two_languages_or_more():
    languages = Counter(sample.language for sample in SAMPLES)
    assert len(SAMPLES) >= 200
    assert sum(1 for count in languages.values() if count >= 50) >= 2


def test_the_reader_reads_90_percent_of_the_lines_exactly_in_each_language():
    exact, counted = Counter(), Counter()
    for sample in SAMPLES:
        found, total = exact_lines(sample, lines_read(sample))
        exact[sample.language] += found
        counted[sample.language] += total
    shares = {language: exact[language] / counted[language] for language in counted}
    assert all(share >= FLOOR for share in shares.values()), shares


def test_a_proposed_line_the_message_does_not_ask_for_counts_against_the_reader():
    sample = SAMPLES[0]
    assert exact_lines(sample, sample.expected) == (2, 2)
    assert exact_lines(sample, [*sample.expected, (1, None)]) == (2, 3)
    assert exact_lines(sample, [(3, "Blue vase"), (1, "Gift wrap")]) == (1, 2)
