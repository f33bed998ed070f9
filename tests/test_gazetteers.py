"""Sanity checks for the hand-written general-knowledge gazetteers in kg/rules/common/."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from kg.names import fold

COMMON = Path(__file__).resolve().parents[1] / "kg" / "rules" / "common"
FILES = ("places.json", "place_adjectives.json", "first_names.json", "legal_forms.json")
KINDS = {"country", "city", "region"}
# City-states are listed only as countries; Jerusalem's status is disputed, so it carries no country.
NO_CAPITAL_ENTRY = {"Monaco", "San Marino", "Singapore", "Vatican City", "Israel"}


def _load(name: str) -> dict:
    with open(COMMON / name, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def places() -> list[dict]:
    return _load("places.json")["places"]


@pytest.fixture(scope="module")
def place_index(places) -> dict[str, set[str]]:
    """folded surface form -> canonical names it may stand for."""
    index: dict[str, set[str]] = defaultdict(set)
    for place in places:
        for surface in [place["name"], *place["aliases"]]:
            index[fold(surface)].add(place["name"])
    return index


def _resolve(index: dict[str, set[str]], surface: str) -> str | None:
    targets = index.get(fold(surface), set())
    assert len(targets) <= 1, f"{surface!r} is ambiguous: {sorted(targets)}"
    return next(iter(targets), None)


# ---------------------------------------------------------------- all files


@pytest.mark.parametrize("name", FILES)
def test_file_is_valid_json_object(name):
    data = _load(name)
    assert isinstance(data, dict) and data


# ---------------------------------------------------------------- places


def test_place_entries_are_well_formed(places):
    for place in places:
        assert set(place) <= {"name", "kind", "aliases", "country", "capital"}, place
        assert isinstance(place["name"], str) and place["name"].strip() == place["name"] != ""
        assert place["kind"] in KINDS, place
        assert isinstance(place["aliases"], list), place
        for alias in place["aliases"]:
            assert isinstance(alias, str) and alias.strip() == alias != "", (place["name"], alias)
        assert place["name"] not in place["aliases"], place["name"]
        forms = [place["name"].lower(), *(a.lower() for a in place["aliases"])]
        assert len(set(forms)) == len(forms), f"{place['name']}: forms differing only by case"
        if place["kind"] == "country":
            assert "country" not in place and "capital" not in place, place["name"]
        if "capital" in place:
            assert place["capital"] is True and place["kind"] == "city", place["name"]


def test_no_duplicate_canonical_names(places):
    seen: dict[str, str] = {}
    duplicates = []
    for place in places:
        key = fold(place["name"])
        if key in seen:
            duplicates.append((seen[key], place["name"]))
        seen[key] = place["name"]
    assert not duplicates, f"duplicate canonical names: {duplicates}"


def test_no_surface_form_maps_to_two_places(place_index):
    conflicts = {key: sorted(names) for key, names in place_index.items() if len(names) > 1}
    for key, names in sorted(conflicts.items()):
        print(f"alias conflict: {key!r} -> {names}")
    assert not conflicts, f"{len(conflicts)} surface forms map to several places: {conflicts}"


def test_country_references_resolve(places):
    countries = {p["name"] for p in places if p["kind"] == "country"}
    unknown = {(p["name"], p["country"]) for p in places if "country" in p and p["country"] not in countries}
    assert not unknown, unknown


def test_place_counts(places):
    kinds = defaultdict(int)
    for place in places:
        kinds[place["kind"]] += 1
    assert kinds["country"] >= 195
    assert kinds["city"] >= 400
    assert kinds["region"] >= 100


def test_every_country_has_a_capital_entry(places):
    countries = {p["name"] for p in places if p["kind"] == "country"}
    with_capital = {p["country"] for p in places if p.get("capital")}
    assert countries - with_capital == NO_CAPITAL_ENTRY


@pytest.mark.parametrize(
    "surface, canonical",
    [
        ("United States", "United States"),
        ("États-Unis", "United States"),
        ("Etats-Unis", "United States"),
        ("Vereinigte Staaten", "United States"),
        ("Vereinigten Staaten", "United States"),
        ("USA", "United States"),
        ("US", "United States"),
        ("U.S.", "United States"),
        ("U.S.A.", "United States"),
        ("Royaume-Uni", "United Kingdom"),
        ("Grande-Bretagne", "United Kingdom"),
        ("Großbritannien", "United Kingdom"),
        ("UK", "United Kingdom"),
        ("Allemagne", "Germany"),
        ("Deutschland", "Germany"),
        ("Deutschlands", "Germany"),
        ("Chine", "China"),
        ("Chinas", "China"),
        ("Frankreichs", "France"),
        ("Suisse", "Switzerland"),
        ("Schweiz", "Switzerland"),
        ("Südkorea", "South Korea"),
        ("Corée du Sud", "South Korea"),
        ("Niederlanden", "Netherlands"),
        ("Pays-Bas", "Netherlands"),
        ("Côte d'Ivoire", "Ivory Coast"),
        ("Türkei", "Turkey"),
        ("München", "Munich"),
        ("Muenchen", "Munich"),
        ("Münchens", "Munich"),
        ("Köln", "Cologne"),
        ("Wien", "Vienna"),
        ("Vienne", "Vienna"),
        ("Londres", "London"),
        ("Pékin", "Beijing"),
        ("Peking", "Beijing"),
        ("Moscou", "Moscow"),
        ("Moskau", "Moscow"),
        ("Lisbonne", "Lisbon"),
        ("Lissabon", "Lisbon"),
        ("Genève", "Geneva"),
        ("Genf", "Geneva"),
        ("Zürich", "Zurich"),
        ("Varsovie", "Warsaw"),
        ("Warschau", "Warsaw"),
        ("Nürnberg", "Nuremberg"),
        ("New York City", "New York"),
        ("NYC", "New York"),
        ("Frankfurt am Main", "Frankfurt"),
        ("Francfort", "Frankfurt"),
        ("Bangalore", "Bengaluru"),
        ("Seattles", "Seattle"),
        ("Berlins", "Berlin"),
        ("Bayern", "Bavaria"),
        ("Bavière", "Bavaria"),
        ("Kalifornien", "California"),
        ("Californie", "California"),
        ("Ruhrgebiet", "Ruhr"),
        ("Ile-de-France", "Île-de-France"),
        ("Bay Area", "Bay Area"),
        ("Silicon Valley", "Silicon Valley"),
        ("Katalonien", "Catalonia"),
        ("Nordrhein-Westfalen", "North Rhine-Westphalia"),
    ],
)
def test_surface_forms_resolve(place_index, surface, canonical):
    assert _resolve(place_index, surface) == canonical


@pytest.mark.parametrize(
    "name",
    [
        # US business and tech hubs
        "New York", "Los Angeles", "Chicago", "Boston", "Seattle", "San Francisco", "San Jose", "Austin",
        "Palo Alto", "Mountain View", "Menlo Park", "Cupertino", "Redmond", "Sunnyvale", "Santa Clara",
        "Cambridge, Massachusetts", "Houston", "Dallas", "Atlanta", "Miami", "Denver", "Washington, D.C.",
        # German cities over ~100k
        "Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund",
        "Essen", "Bremen", "Dresden", "Hanover", "Nuremberg", "Duisburg", "Bochum", "Wuppertal", "Bielefeld",
        "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden", "Aachen", "Braunschweig", "Kiel",
        "Chemnitz", "Halle", "Magdeburg", "Freiburg", "Mainz", "Lübeck", "Erfurt", "Rostock", "Kassel",
        "Potsdam", "Saarbrücken", "Ludwigshafen", "Osnabrück", "Leverkusen", "Heidelberg", "Darmstadt",
        "Regensburg", "Ingolstadt", "Würzburg", "Wolfsburg", "Ulm", "Heilbronn", "Erlangen", "Jena", "Siegen",
        "Gütersloh", "Walldorf",
        # France, Europe, world
        "Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Bordeaux", "Lille",
        "Montpellier", "Rennes", "Grenoble", "London", "Manchester", "Edinburgh", "Dublin", "Amsterdam",
        "Rotterdam", "Eindhoven", "Brussels", "Antwerp", "Luxembourg City", "Zurich", "Geneva", "Basel",
        "Vienna", "Graz", "Copenhagen", "Stockholm", "Oslo", "Helsinki", "Madrid", "Barcelona", "Lisbon", "Milan",
        "Rome", "Turin", "Warsaw", "Kraków", "Prague", "Budapest", "Bucharest", "Istanbul", "Tel Aviv", "Dubai",
        "Riyadh", "Cairo", "Lagos", "Nairobi", "Johannesburg", "Cape Town", "Mumbai", "Bengaluru", "Hyderabad",
        "Shenzhen", "Shanghai", "Beijing", "Hangzhou", "Hong Kong", "Taipei", "Hsinchu", "Tokyo", "Osaka", "Seoul",
        "Singapore", "Jakarta", "Sydney", "Melbourne", "Auckland", "Toronto", "Montreal", "Vancouver",
        "Mexico City", "São Paulo", "Buenos Aires", "Santiago", "Bogotá", "Lima",
    ],
)
def test_place_is_present(place_index, name):
    assert _resolve(place_index, name) == name


def test_ambiguity_notes_are_consistent(places, place_index):
    names = {p["name"] for p in places}
    for entry in _load("places.json")["ambiguous"]:
        assert set(entry) == {"form", "listed", "candidates", "note"}, entry
        assert all(c in names for c in entry["candidates"]), entry
        target = place_index.get(fold(entry["form"]), set())
        if entry["listed"]:
            assert len(target) == 1 and next(iter(target)) in entry["candidates"], entry
        else:
            assert not target, f"{entry['form']!r} is marked as left out but resolves to {target}"


# ---------------------------------------------------------------- place adjectives


def test_place_adjectives(places, place_index):
    data = _load("place_adjectives.json")
    names = {p["name"] for p in places}
    assert len(data["de"]) >= 60 and len(data["fr"]) >= 40 and data["en"]
    for lang in ("de", "fr", "en"):
        for adjective, place in data[lang].items():
            assert place in names, (lang, adjective, place)
            # An adjective that is also a place name must mean that same place ("corse" ~ "Corse").
            assert place_index.get(fold(adjective), {place}) == {place}, (lang, adjective)
    assert data["de"]["Münchner"] == "Munich"
    assert data["de"]["Kölner"] == "Cologne"
    assert data["de"]["New Yorker"] == "New York"
    assert data["de"]["Schweizer"] == "Switzerland"
    assert data["fr"]["parisienne"] == "Paris"
    assert data["fr"]["new-yorkais"] == "New York"
    assert data["fr"]["californien"] == "California"
    assert data["en"]["Parisian"] == "Paris"


# ---------------------------------------------------------------- first names


@pytest.fixture(scope="module")
def first_names() -> dict:
    return _load("first_names.json")


def test_first_names_are_many_and_unique(first_names):
    names = first_names["first_names"]
    assert all(isinstance(n, str) and n and " " not in n and n[0].isupper() for n in names)
    assert len(names) == len(set(names)), "exact duplicates"
    assert len(set(names)) >= 1500
    assert len({fold(n) for n in names}) >= 1500


def test_no_excluded_first_name_is_listed(first_names):
    excluded = {fold(n) for n in first_names["excluded_on_purpose"]}
    assert {"will", "may", "mercedes", "hope", "summer", "sky"} <= excluded
    listed = [n for n in first_names["first_names"] if fold(n) in excluded]
    assert not listed, listed
    reasons = {n for group in first_names["excluded_reasons"].values() for n in group}
    assert reasons == set(first_names["excluded_on_purpose"])


def test_first_names_cover_many_origins(first_names):
    names = set(first_names["first_names"])
    for name in ("Grace", "Rose", "Bill", "Jean-Pierre", "Jürgen", "María", "Giuseppe", "Sven", "Krzysztof",
                 "Mehmet", "Mohammed", "Priya", "Wei", "Jing", "Xiaoming", "Hiroshi", "Min-jun", "Kwame", "Ngozi"):
        assert name in names, name


def test_no_first_name_is_a_country_name(first_names, places):
    countries = {fold(s) for p in places if p["kind"] == "country" for s in [p["name"], *p["aliases"]]}
    clashes = [n for n in first_names["first_names"] if fold(n) in countries]
    assert not clashes, clashes


# ---------------------------------------------------------------- legal forms


def test_legal_forms():
    data = _load("legal_forms.json")
    strong, weak, forms = data["strong"], data["weak"], data["legal_forms"]
    for group in (strong, weak, forms):
        assert all(isinstance(f, str) and f.strip() == f != "" for f in group)
        assert len(group) == len(set(group)), "duplicates"
    assert not set(strong) & set(weak)
    assert set(forms) == set(strong) | set(weak)
    assert set(data["prefixes"]) <= set(forms)
    assert set(data["case_fold_ambiguous"]) <= set(forms)
    for form in ("Inc.", "Inc", "Corp.", "Corporation", "Ltd", "Ltd.", "LLC", "PLC", "plc", "GmbH", "AG", "SE",
                 "KG", "KGaA", "GmbH & Co. KG", "SA", "S.A.", "SAS", "SARL", "NV", "N.V.", "BV", "AB", "ASA", "Oy",
                 "S.p.A.", "SpA", "Co."):
        assert form in strong, form
    for form in ("Group", "Holding", "Holdings"):
        assert form in weak, form
