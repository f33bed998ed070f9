"""Generate a reproducible synthetic news corpus (en, fr, de) as JSONL shards, for benchmarks.

    python bench/generate_corpus.py --out /tmp/corpus --articles 10000 [--shard-size 500] [--seed 13]

Articles are built from sentence templates (relation sentences kg extracts: moves, hires,
offices, founders) and filler sentences typical of business news, with names sampled from
small lists, at realistic lengths (log-normal, median about 450 words, 150 to 1,200). The same
seed and arguments give byte-identical files. Nothing here is real news; no data is committed.
Each line: {"id", "title", "text", "published"} (no "lang": kg detects it).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

FIRST = ["Anna", "Lukas", "Marie", "Julien", "Sophie", "Thomas", "Laura", "Paul", "Clara", "Jonas",
         "Camille", "Felix", "Emma", "Hugo", "Lea", "David", "Nina", "Martin", "Sarah", "Louis"]
LAST = ["Schneider", "Martin", "Weber", "Dubois", "Fischer", "Moreau", "Becker", "Laurent", "Wagner",
        "Bernard", "Hoffmann", "Petit", "Keller", "Roux", "Richter", "Fontaine", "Koch", "Girard"]
ORGS = ["Siemens", "SAP", "Zalando", "Airbus", "Renault", "Bosch", "Capgemini", "Allianz", "Danone",
        "BASF", "Orange", "Infineon", "Thales", "Deutsche Telekom", "Michelin", "Lufthansa",
        "Vinci", "Bayer", "Atos", "Continental", "Quantellis", "Logivia", "Nordwerk", "Celestra"]
PLACES = ["Berlin", "Munich", "Paris", "Lyon", "Hamburg", "Lille", "Frankfurt", "Toulouse", "Cologne",
          "Bordeaux", "Stuttgart", "Nantes", "Lisbon", "Boston", "Vienna", "Zurich"]

RELATION = {
    "en": [
        "{p}, who previously worked at {o1}, has joined {o2} as chief operating officer.",
        "{o1} is hiring engineers in {c}, the company said on {d}.",
        "{p} founded {o1} in {y} and still chairs its board.",
        "{o1}, based in {c}, announced a new research centre.",
        "{p} works at {o1} as head of strategy.",
        "{o1} competes with {o2} in the European market for industrial software.",
        "Former {o1} manager {p} will lead the {c} office of {o2}.",
    ],
    "fr": [
        "{p}, ancien directeur de {o1}, rejoint {o2} au poste de directeur général.",
        "{o1} recrute des ingénieurs à {c}, a indiqué l'entreprise le {d}.",
        "{p} a fondé {o1} en {y} et préside toujours son conseil.",
        "{o1}, dont le siège est à {c}, a annoncé un nouveau centre de recherche.",
        "{p} travaille chez {o1} comme responsable de la stratégie.",
        "{o1} est en concurrence avec {o2} sur le marché européen.",
    ],
    "de": [
        "{p}, ehemaliger Manager bei {o1}, wechselt als Vorstand zu {o2}.",
        "{o1} stellt in {c} neue Ingenieure ein, teilte das Unternehmen am {d} mit.",
        "{p} gründete {o1} im Jahr {y} und leitet bis heute den Aufsichtsrat.",
        "{o1} mit Sitz in {c} kündigte ein neues Forschungszentrum an.",
        "{p} arbeitet bei {o1} als Leiter der Strategie.",
        "{o1} konkurriert mit {o2} auf dem europäischen Markt.",
    ],
}
FILLER = {
    "en": [
        "Revenue rose by {n} percent in the third quarter, driven by demand for cloud services.",
        "Analysts expect the market to remain volatile for the rest of the year.",
        "The company did not comment on the figures when contacted on {d}.",
        "Shares closed {n} percent higher after the announcement.",
        "The plan includes investments of {n} million euros over the next five years.",
        "Unions welcomed the decision but asked for guarantees on jobs.",
        "The deal still needs the approval of the competition authorities.",
        "Customers will be able to use the new service from next spring.",
        "Several investors said the strategy was ambitious but credible.",
        "The group employs about {n} thousand people across Europe.",
    ],
    "fr": [
        "Le chiffre d'affaires a progressé de {n} % au troisième trimestre, porté par le cloud.",
        "Les analystes s'attendent à un marché volatil jusqu'à la fin de l'année.",
        "L'entreprise n'a pas souhaité commenter ces chiffres le {d}.",
        "L'action a terminé la séance en hausse de {n} % après l'annonce.",
        "Le plan prévoit des investissements de {n} millions d'euros sur cinq ans.",
        "Les syndicats ont salué la décision tout en demandant des garanties sur l'emploi.",
        "L'opération doit encore être approuvée par les autorités de la concurrence.",
        "Les clients pourront utiliser le nouveau service dès le printemps prochain.",
        "Plusieurs investisseurs jugent la stratégie ambitieuse mais crédible.",
        "Le groupe emploie environ {n} mille personnes en Europe.",
    ],
    "de": [
        "Der Umsatz stieg im dritten Quartal um {n} Prozent, getragen von der Nachfrage nach Cloud-Diensten.",
        "Analysten erwarten, dass der Markt bis zum Jahresende volatil bleibt.",
        "Das Unternehmen wollte die Zahlen am {d} nicht kommentieren.",
        "Die Aktie schloss nach der Ankündigung {n} Prozent höher.",
        "Der Plan sieht Investitionen von {n} Millionen Euro in den nächsten fünf Jahren vor.",
        "Die Gewerkschaften begrüßten die Entscheidung, forderten aber Garantien für die Arbeitsplätze.",
        "Die Übernahme muss noch von den Wettbewerbsbehörden genehmigt werden.",
        "Kunden können den neuen Dienst ab dem kommenden Frühjahr nutzen.",
        "Mehrere Investoren nannten die Strategie ehrgeizig, aber glaubwürdig.",
        "Der Konzern beschäftigt in Europa rund {n} tausend Menschen.",
    ],
}
TITLE = {"en": "{o1} names new leadership in {c}", "fr": "{o1} renouvelle sa direction à {c}",
         "de": "{o1} ordnet Führung in {c} neu"}
LANG_WEIGHTS = (("en", 0.5), ("fr", 0.25), ("de", 0.25))


def _fill(template: str, rng: random.Random) -> str:
    o1, o2 = rng.sample(ORGS, 2)
    return template.format(
        p=f"{rng.choice(FIRST)} {rng.choice(LAST)}", o1=o1, o2=o2, c=rng.choice(PLACES),
        y=rng.randint(1990, 2022), n=rng.randint(2, 95), d=f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.2025",
    )


def article_words(rng: random.Random) -> int:
    """Log-normal length, median ~450 words, clipped to 150..1200 (typical online news)."""
    return int(min(1200, max(150, rng.lognormvariate(math.log(450), 0.45))))


def make_article(number: int, rng: random.Random) -> dict[str, str]:
    lang = rng.choices([l for l, _ in LANG_WEIGHTS], [w for _, w in LANG_WEIGHTS])[0]
    target = article_words(rng)
    paragraphs, words = [], 0
    while words < target:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            pool = RELATION[lang] if rng.random() < 0.3 else FILLER[lang]
            sentences.append(_fill(rng.choice(pool), rng))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    return {
        "id": f"gen-{number:06d}",
        "title": _fill(TITLE[lang], rng),
        "text": "\n\n".join(paragraphs),
        "published": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


def generate(out: Path, articles: int, shard_size: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard, start in enumerate(range(0, articles, shard_size)):
        path = out / f"shard-{shard:05d}.jsonl"
        lines = [json.dumps(make_article(n, rng), ensure_ascii=False) for n in range(start, min(articles, start + shard_size))]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--shard-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    paths = generate(args.out, args.articles, args.shard_size, args.seed)
    words = sum(len(json.loads(l)["text"].split()) for p in paths for l in p.read_text(encoding="utf-8").splitlines())
    print(f"{args.articles} articles, {words} words in {len(paths)} shards under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
