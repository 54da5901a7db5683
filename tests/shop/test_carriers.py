"""Carrier detection from real-format tracking numbers, check digits included."""
from __future__ import annotations

import json

import pytest

from oss_server.services.carriers import link_for, validate_carrier_rules

DETECTED = [
    # UPS 1Z: letters map into the mod-10 check
    ("1Z5R89390357567127", "UPS", "https://www.ups.com/track?loc=en_US&tracknum=1Z5R89390357567127"),
    ("1Z879E930346834440", "UPS", None),
    ("1Z999AA10123456784", "UPS", None),
    # FedEx Express 12 (mod 11), Ground 15 and 96…22 (mod 10), SmartPost 20
    ("986578788855", "FedEx", "https://www.fedex.com/fedextrack/?trknbr=986578788855"),
    ("477179081230", "FedEx", None),
    ("0414 4176 0228 964", "FedEx", "https://www.fedex.com/fedextrack/?trknbr=041441760228964"),
    ("5682 8361 0012 734", "FedEx", None),
    ("9611020987654312345672", "FedEx", None),
    ("61299998820821171811", "FedEx", None),
    ("0307 1790 0005 2348 3742", "FedEx", None),  # USPS check fails; SmartPost's (92…) holds
    # USPS 20–22 digits, with or without 420 + ZIP(+4), and S10 …US
    ("9400 1112 0108 0805 4830 16", "USPS",
     "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111201080805483016"),
    ("9405803699300124287899", "USPS", None),
    ("0307 1790 0005 2348 3741", "USPS", None),
    ("7196 9010 7560 0307 7385", "USPS", None),
    ("420 22153 9101026837331000039521", "USPS", None),
    ("4201002334249200190132607600833457", "USPS", None),
    ("9261292700768711948021", "USPS", None),  # FedEx SmartPost label, delivered by USPS
    ("RB123456785US", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels=RB123456785US"),
    # UPU S10 routed by country
    ("RB123456785GB", "Royal Mail",
     "https://www.royalmail.com/track-your-item#/tracking-results/RB123456785GB"),
    ("RB123456785CA", "Canada Post",
     "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=RB123456785CA"),
    ("EE123456785GB", "Royal Mail", None),
    # DHL Express: 10 digits
    ("3318810025", "DHL Express",
     "https://www.dhl.com/en/express/tracking.html?AWB=3318810025&brand=DHL"),
]

UNLINKED = [
    "1Z5R89390357567128",        # UPS check digit wrong
    "996578788855",              # FedEx 12 check digit wrong
    "5682 8361 0012 732",        # FedEx Ground check digit wrong
    "0307 1790 0005 2348 3740",  # fails USPS 20, USPS IMpb and FedEx SmartPost checks
    "9600000000000000000001",    # FedEx 96 check digit wrong
    "RB123456786US",             # S10 check digit wrong
    "RB123456785CV",             # S10 of a country without a carrier in the table
    "12345", "ABC", "",
]


@pytest.mark.parametrize("number, carrier, url", DETECTED)
def test_detects_carrier_from_the_number(number, carrier, url):
    link = link_for(number, None)
    assert link.carrier == carrier
    assert link.url is not None and link.url.startswith("https://")
    if url:
        assert link.url == url
    assert link.number == number.strip()


@pytest.mark.parametrize("number", UNLINKED)
def test_unknown_or_ambiguous_numbers_stay_unlinked(number):
    link = link_for(number, None)
    assert link.url is None and link.carrier is None


def test_the_updates_carrier_wins():
    link = link_for("986578788855", "ups")
    assert link.carrier == "UPS" and "ups.com" in link.url
    assert link_for("1Z5R89390357567127", "Fed-Ex Ground").carrier == "FedEx"
    unknown = link_for("986578788855", "Acme Freight")
    assert unknown.carrier == "Acme Freight" and unknown.url is None


UPS = "https://www.ups.com/track?loc=en_US&tracknum={n}"
FEDEX = "https://www.fedex.com/fedextrack/?trknbr={n}"
USPS = "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"
DHL = "https://www.dhl.com/en/express/tracking.html?AWB={n}&brand=DHL"
CANADA_POST = "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}"
ROYAL_MAIL = "https://www.royalmail.com/track-your-item#/tracking-results/{n}"

SERVICE_LEVELS = [
    # (name the order manager sends, number, carrier shown, template)
    ("UPS Ground", "1Z5R89390357567127", "UPS", UPS),
    ("UPS 2nd Day Air", "1Z879E930346834440", "UPS", UPS),
    ("USPS Priority Mail", "9405 8036 9930 0124 2878 99", "USPS", USPS),
    ("USPS First-Class Package International", "RB123456785US", "USPS", USPS),
    ("US Postal Service", "9400111201080805483016", "USPS", USPS),  # not "ups"
    ("United States Postal Service - Ground Advantage", "9400111201080805483016", "USPS", USPS),
    ("FedEx 2Day", "986578788855", "FedEx", FEDEX),
    ("Fed-Ex Home Delivery", "0414 4176 0228 964", "FedEx", FEDEX),
    ("FEDEX_GROUND", "041441760228964", "FedEx", FEDEX),
    ("DHL Express Worldwide", "3318810025", "DHL Express", DHL),
    ("DHL Express 12:00", "3318810025", "DHL Express", DHL),
    ("Royal Mail Tracked 24", "RB123456785GB", "Royal Mail", ROYAL_MAIL),
    ("Royal Mail Special Delivery Guaranteed", "EE123456785GB", "Royal Mail", ROYAL_MAIL),
    ("Canada Post Expedited", "7316 4829 0015 2648", "Canada Post", CANADA_POST),  # 16-digit PIN
    ("Canada Post Xpresspost", "LM123456785CA", "Canada Post", CANADA_POST),
    ("Postes Canada", "7316482900152648", "Canada Post", CANADA_POST),
    ("Postes Canada Colis accélérés", "LM123456785CA", "Canada Post", CANADA_POST),
    # The sent name wins over what the number looks like.
    ("USPS Priority Mail", "61299998820821171811", "USPS", USPS),  # detected alone as FedEx
    ("UPS Ground", "986578788855", "UPS", UPS),
    ("Canada Post Expedited", "3318810025", "Canada Post", CANADA_POST),
    # The carrier inside a longer name, as whole words.
    ("Shipped via UPS Ground", "1Z5R89390357567127", "UPS", UPS),
    ("Standard (Royal Mail Tracked 48)", "RB123456785GB", "Royal Mail", ROYAL_MAIL),
    ("Economy - DHL Express", "3318810025", "DHL Express", DHL),
]


@pytest.mark.parametrize("sent, number, carrier, template", SERVICE_LEVELS)
def test_a_sent_name_with_a_service_level_resolves(sent, number, carrier, template):
    link = link_for(number, sent)
    assert link.carrier == carrier
    assert link.url == template.replace("{n}", number.replace(" ", ""))
    assert link.number == number


UNRESOLVED = [
    # (sent name, number): no known carrier in the name, and a number that does not name
    # its carrier by itself -- the sent name is shown, unlinked, as before.
    ("Joe's Courier", "3318810025"),          # fits DHL by length alone
    ("Joe's Courier", "986578788855"),        # passes the FedEx 12 check
    ("Joe's Courier", "041441760228964"),     # passes the FedEx Ground check
    ("Joe's Courier", "9400111201080805483016"),
    ("Joe's Courier", "1Z5R89390357567128"),  # 1Z with a wrong check digit
    ("Joe's Courier", "RB123456785CV"),       # S10 of a country without a carrier here
    ("UPSide Couriers", "3318810025"),        # "UPS" only as part of a word
    ("Royally Mailed Ltd", "RB123456786GB"),
    ("Ship via FedEx or UPS", "986578788855"),  # two carriers named: no guess
    ("Standard Shipping", "C12345678901234"),
]


@pytest.mark.parametrize("sent, number", UNRESOLVED)
def test_an_unknown_sent_name_stays_unlinked(sent, number):
    link = link_for(number, sent)
    assert link.carrier == sent and link.url is None


@pytest.mark.parametrize("sent, number, carrier, template", [
    ("Joe's Courier", "1Z5R89390357567127", "UPS", UPS),
    ("Standard Shipping", "RB123456785GB", "Royal Mail", ROYAL_MAIL),
    ("Free Shipping", "LM123456785CA", "Canada Post", CANADA_POST),
    ("Ship via FedEx or UPS", "RB123456785US", "USPS", USPS),
])
def test_an_unknown_sent_name_with_a_self_identifying_number_links_it(sent, number, carrier,
                                                                      template):
    # A 1Z or S10 number with a valid check digit says whose it is; the label follows the link.
    link = link_for(number, sent)
    assert link.carrier == carrier
    assert link.url == template.replace("{n}", number)


def test_numbers_are_url_encoded():
    link = link_for("AB/12 34", "UPS")
    assert link.url.endswith("tracknum=AB%2F1234")


STORE_RULES = [{"carrier": "OnTrac", "url": "https://www.ontrac.com/tracking/?number={n}",
                "patterns": ["C##############", "D##############"]},
               {"carrier": "Local Courier", "url": "https://courier.example/t/{n}",
                "patterns": []}]


def test_a_store_extends_the_table():
    rules = validate_carrier_rules(STORE_RULES)
    link = link_for("C12345678901234", None, rules)
    assert link.carrier == "OnTrac"
    assert link.url == "https://www.ontrac.com/tracking/?number=C12345678901234"
    named = link_for("LC-1", "local courier", rules)
    assert named.url == "https://courier.example/t/LC-1"
    # A store's carrier sent with a service level resolves like a built-in one.
    assert link_for("LC-1", "Local Courier Same Day", rules).url == "https://courier.example/t/LC-1"
    ground = link_for("D12345678901234", "OnTrac Ground", rules)
    assert ground.carrier == "OnTrac"
    assert ground.url == "https://www.ontrac.com/tracking/?number=D12345678901234"
    # The longest known name wins: a store's "UPS Freight" over the built-in "UPS".
    freight = validate_carrier_rules([{"carrier": "UPS Freight",
                                       "url": "https://freight.example/{n}"}])
    assert link_for("123456789", "UPS Freight LTL", freight).carrier == "UPS Freight"
    assert link_for("1Z5R89390357567127", "UPS Ground", freight).carrier == "UPS"
    # Store rules are preferred over a built-in fit (the merchant knows its carriers).
    mine = validate_carrier_rules([{"carrier": "Regional", "url": "https://r.example/{n}",
                                    "patterns": ["############"]}])
    assert link_for("986578788855", None, mine).carrier == "Regional"
    assert link_for("1Z5R89390357567127", None, mine).carrier == "UPS"


@pytest.mark.parametrize("rules", [
    [{"carrier": "", "url": "https://x.example/{n}"}],
    [{"carrier": "X", "url": "http://x.example/{n}"}],
    [{"carrier": "X", "url": "https://x.example/"}],
    [{"carrier": "X", "patterns": ["(a+)+$" * 10]}],
    [{"carrier": "X", "check": "luhn"}],
    [{"carrier": "X", "regex": ".*"}],
    [{"carrier": "X", "check": ["mod10"]}],
    [{"carrier": ["X"], "url": "https://x.example/{n}"}],
    [{"carrier": "X", "url": ["https://x.example/{n}"]}],
    "not a list",
])
def test_bad_store_rules_are_refused(rules):
    with pytest.raises(ValueError):
        validate_carrier_rules(rules)


def test_rules_set_with_the_cli_link_on_the_status_page(runner, store, add_order, shopper):
    rules = json.dumps(STORE_RULES)
    result = runner.invoke(args=["store-settings", "acme", "--set", f"carrier_rules={rules}"])
    assert result.exit_code == 0, result.output
    add_order(store, status="Shipped", tracking=[{"number": "C1234 5678 9012 34"},
                                                 {"number": "LC-77", "carrier": "Local Courier"}])
    found = shopper.lookup("acme", "1001", "10001")
    assert found.status_code == 303
    html = shopper.client.get(found.headers["Location"]).get_data(as_text=True)
    assert 'href="https://www.ontrac.com/tracking/?number=C12345678901234"' in html
    assert 'href="https://courier.example/t/LC-77"' in html
