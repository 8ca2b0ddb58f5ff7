"""The privacy guard's detector: real-looking sentences that must and must not raise a flag."""

from __future__ import annotations

import pytest

from rooms.privacy import detect, detect_kinds, valid_national_id

FLAGGED = [
    # e-mail
    ("Send me a mail at anna.hansen@gmail.com if you want to talk", "email"),
    ("Du kan skrive til meg på kari_n+forum@online.no", "email"),
    # phone, Norwegian forms
    ("Ring meg gjerne på 912 34 567 etter jobb", "phone"),
    ("My number is +47 912 34 567, text me", "phone"),
    ("Nummeret mitt er 91234567", "phone"),
    ("Ring 22 40 00 40 om du vil prate med noen jeg kjenner", "phone"),
    ("mobil: 4812 3456", "phone"),
    ("ring 2240 0040", "phone"),
    ("You can reach me on 0047 48123456", "phone"),
    ("Send en sms til +4748123456", "phone"),
    ("tlf 932-11-456", "phone"),
    # phone, international forms
    ("Call me on +44 20 7946 0958 when you are in London", "phone"),
    ("My Swedish number is +46 70 123 45 67", "phone"),
    ("US: +1 (555) 123-4567", "phone"),
    # national identity numbers
    ("fødselsnummeret mitt er 15039010043, trenger det til skjemaet", "national_id"),
    ("My ID number is 010180 10018", "national_id"),
    # street addresses
    ("Jeg bor i Storgata 12, kom innom", "address"),
    ("We moved to Kirkeveien 3B last month", "address"),
    ("bor i kirkeveien 3b", "address"),
    ("Møt meg i Karl Johans gate 5", "address"),
    ("Jeg bor på Solbakken 4 i andre etasje", "address"),
    ("I live at 221B Baker Street", "address"),
    ("The house is at 14 Kings Road, near the park", "address"),
    # social media
    ("Follow me: https://www.instagram.com/anna_in_oslo/", "social"),
    ("add me on facebook.com/kari.nordmann", "social"),
    ("Min profil: x.com/olanordmann", "social"),
    ("https://www.linkedin.com/in/per-hansen-123", "social"),
    ("tiktok.com/@mittnavn", "social"),
    ("snap: @kari_99", "social"),
    ("Insta @livetmitt.no", "social"),
]

CLEAN = [
    "The café is on Thursday at 18:00, see you there",
    "Kaféen er torsdag kl 18:00, velkommen!",
    "We meet 2026-12-03 at 18:00",
    "Vi møtes 03.12.2026 klokka 18",
    "Ticket is kr 250 and coffee 35 kr",
    "Det kostet 12 500 000 kroner",
    "Café 3 is in room 12 this time",
    "Call 113 if it is an emergency",
    "Ring 113 hvis det haster, eller legevakt 116 117",
    "I have been in recovery since 2019",
    "Jeg har vært frisk i 3 år og 4 måneder",
    "It took 20 minutes, from 14:30 to 14:50",
    "Between 2024 and 2026 I worked 37.5 hours a week",
    "My score went from 12 to 18 this week",
    "I walked 5 km down the road today",
    "We should investigate 5 options before deciding",
    "Jeg er på vei hjem nå",
    "Reading page 123 of 456",
    "Meeting at gate 12 at the airport",
    "My matrix id is @anna:matrix.org",
    "Read more at https://www.helsenorge.no/psykisk-helse/",
    "I saw it on facebook yesterday",
    "Kontonummer? Nei, det deler jeg ikke",
    "Det var 20261203 på billetten",
    "Room 204 at 10:15 on 12/03",
    "Eleven digits 12345678901 are not an id unless the check digits fit",
    "The 3rd session, 2 hours, starts 09:00-11:00",
    "I was ill from 2019-2026 but it got better",
    "Vi hadde kafé i 2024 2025 og 2026",
    "Åpent kl 2000-2200 på fredager",
    "Order 12345 arrived, 3 boxes of 24",
    "The meeting ID is 845 2211 9087",
]


@pytest.mark.parametrize("sentence,kind", FLAGGED)
def test_flags_identifying_details(sentence: str, kind: str) -> None:
    assert kind in detect_kinds(sentence), sentence


@pytest.mark.parametrize("sentence", CLEAN)
def test_no_false_alarm_on_ordinary_sentences(sentence: str) -> None:
    assert detect(sentence) == [], sentence


def test_national_id_check_digits() -> None:
    assert valid_national_id("15039010043")
    assert not valid_national_id("15039010044")  # last check digit off by one
    assert not valid_national_id("1503901004")  # ten digits
    # An 11-digit number with bad check digits is neither an id nor a phone number.
    assert detect_kinds("nummer 15039010044") == []


def test_help_line_numbers_can_be_ignored() -> None:
    sentence = "Kirkens SOS svarer på 22 40 00 40 hele døgnet"
    assert detect_kinds(sentence) == ["phone"]
    assert detect_kinds(sentence, ignore=("22 40 00 40",)) == []
    assert detect_kinds("ring +47 22 40 00 40", ignore=("22 40 00 40",)) == []


def test_kinds_are_reported_once_each_in_fixed_order() -> None:
    text = "Mail kari@example.no or 912 34 567 or 48123456, Storgata 1"
    assert detect_kinds(text) == ["email", "phone", "address"]


def test_finding_spans_cover_the_detail() -> None:
    text = "ring +47 912 34 567 i dag"
    (finding,) = detect(text)
    assert text[finding.start:finding.end] == "+47 912 34 567"
