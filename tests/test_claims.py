"""Claims a reader can cite: every sentence that ranks, generalises, compares or describes a
trend is checked against the data ({claim}`id`, computed in its chapter), attributed to the
source that makes it, or quoted; and a check fails, naming the rows, when the data disagree."""
from __future__ import annotations

import pandas as pd
import pytest

from fourpillars.claims import ClaimError, check, every, falling, leader, ratio_between, rising, trailer
from fourpillars.prose import is_claim, is_covered, pages, unchecked

PAGES = pages()


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_comparative_sentence_is_checked_attributed_or_quoted(page):
    found = unchecked(page)
    listing = "\n".join(f"  - \u201c{s}\u201d" for s in found)
    assert not found, (f"{page.relative_to(page.parents[1])}: {len(found)} sentences make a comparative, universal, "
                       f"first/only, trend or ratio claim with no check ({{claim}}`id`), attribution "
                       f"({{cite:t}}`key`, or 'according to' with {{cite:p}}) or quotation marks:\n{listing}")


# Sentences of edition 1.0 that the review found wrong because the book's own data contradict
# them. The scanner must flag each one (and did, on the edition-1.0 text).
EDITION_1_0_ERRORS = [
    "The United States, the weakest pillar on every economic measure, still anchors Serbia's security "
    "partnership with NATO and sits at the table on Kosovo.",
    "**Claim.** On every economic measure the EU is still Serbia's largest partner, but its lead is shrinking; "
    "China has caught up on new investment and since 2022 overtaken Russia as the main arms supplier.",
    "On the evidence of this chapter the fourth is the best supported by the data: every economic and military "
    "series that includes both eastern powers moves towards China.",
    "**The claim of this chapter.** China is the pillar Serbia uses most for money and hardware and least for "
    "anything that binds it.",
    "Three projects carry two or more values from different sources.",
    "Russia's seat denies Kosovo the recognition and UN membership that only the Council can grant.",
]


@pytest.mark.parametrize("sentence", EDITION_1_0_ERRORS)
def test_the_scanner_flags_the_edition_1_0_errors(sentence):
    assert is_claim(sentence) and not is_covered(sentence)


@pytest.mark.parametrize("sentence", [
    "In 2021 the EU was the largest source of FDI inflows {claim}`rs-eu-top-fdi-2021`.",
    "{cite:t}`lolucas2021` write that the United States was the largest provider of military hardware.",
    "According to Mesazhi, China supplied most of Serbia's arms in 2020\u20132024 {cite:p}`mesazhi-2026`.",
    "Xi called Serbia \u201cthe first European country\u201d to build such a community {cite:p}`tzimas2024`.",
    "In the first half of 2022 Chinese inflows were EUR 491.5 million.",
    "The EU's grants were more than EUR 3 billion.",
])
def test_checked_attributed_quoted_and_non_claims_pass(sentence):
    assert not is_claim(sentence) or is_covered(sentence)


FDI = pd.DataFrame({
    "id": ["eu-2021", "cn-2021", "us-2021", "ru-2021", "us-2020", "ru-2020"],
    "partner": ["EU", "China", "US", "Russia", "US", "Russia"],
    "year": [2021, 2021, 2021, 2021, 2020, 2020],
    "value": [1762.0, 630.4, 105.6, 39.9, 79.1, 75.2],
    "source_id": ["serbian-monitor-2022"] * 6,
})


def test_a_claim_the_rows_support_returns_its_record():
    record = check("rs-test-eu-top", "The EU led FDI in 2021", FDI[FDI.year == 2021], leader("partner", "EU"))
    assert record.rows == ("eu-2021", "cn-2021", "us-2021", "ru-2021")
    assert record.sources == ("serbian-monitor-2022",)


def test_a_contradicted_claim_names_the_claim_the_chapter_and_the_rows():
    with pytest.raises(ClaimError) as err:
        check("rs-test-us-weakest", "The US is the weakest pillar on FDI", FDI, trailer("partner", "US", within="year"))
    message = str(err.value)
    assert "rs-test-us-weakest" in message and "05-serbia-hedging" in message
    assert "ru-2021" in message and "ru-2020" in message  # Russia's smaller inflows contradict it
    assert "eu-2021" not in message


@pytest.mark.parametrize("test,ok", [
    (rising("year"), True), (falling("year"), False),
    (every(lambda r: r.value > 50, "above 50"), True), (every(lambda r: r.value > 90, "above 90"), False),
    (ratio_between("eu-2021", "cn-2021", 2.5, 3.0), True), (ratio_between("eu-2021", "cn-2021", 3.0, 4.0), False),
])
def test_the_helpers_find_contradicting_rows(test, ok):
    rows = FDI[FDI.partner == "US"]
    if "eu-2021" in test.words:
        rows = FDI
    assert test(rows).empty is ok


def test_a_claim_needs_rows_and_a_chapter_prefix():
    with pytest.raises(ClaimError, match="rests on no rows"):
        check("rs-test-empty", "Nothing", FDI.iloc[:0], leader("partner", "EU"))
    with pytest.raises(ValueError, match="chapter prefix"):
        check("x-test", "Nothing", FDI, leader("partner", "EU"))
