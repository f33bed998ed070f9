"""Entity resolution at scale: time resolve_entities over N generated mentions.

    python bench/resolve.py --mentions 20000 [--repeat 3]

Triples are generated reproducibly (fixed seed) from the shipped first-name and place lists
and made-up company words, with the spellings real corpora have: surname-only mentions,
legal suffixes, one-letter typos, case variants. Prints mentions, entities, facts and the
min/median/max seconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kg.mentions import load_gazetteer  # noqa: E402
from kg.resolve import resolve_entities  # noqa: E402
from kg.types import Mention, Triple  # noqa: E402

SYLLABLES = "ka lo mi ren sa tor vel qui bra den fis gal hor jun lek mar nor pel ros tan ul vor zen".split()


def generate(mentions: int, seed: int = 7) -> list[Triple]:
    rng = random.Random(seed)
    gaz = load_gazetteer()
    firsts = sorted(n.title() for n in gaz.first_names)[:2000]
    places = sorted(gaz.place_kinds)[:500]
    people = [f"{rng.choice(firsts)} {''.join(rng.choices(SYLLABLES, k=3)).title()}" for _ in range(mentions // 6)]
    orgs = [''.join(rng.choices(SYLLABLES, k=rng.randint(2, 4))).title() for _ in range(mentions // 8)]
    triples = []
    for i in range(mentions // 2):
        article = f"a{i // 20}"
        relation = rng.choice(["works_at", "worked_at", "located_in", "competes_with"])
        if relation in ("works_at", "worked_at"):
            person = rng.choice(people)
            subject = rng.choice([person, person, person.split()[-1]])
            obj = rng.choice(orgs)
            obj = rng.choice([obj, obj + " AG", obj + " Inc", obj.upper(), obj[:-1] + "x" if len(obj) > 6 else obj])
            s_type, o_type = "Person", "Organization"
        elif relation == "located_in":
            subject, obj, s_type, o_type = rng.choice(orgs), rng.choice(places), "Organization", "Place"
        else:
            subject, obj, s_type, o_type = rng.choice(orgs), rng.choice(orgs), "Organization", "Organization"
        triples.append(Triple(
            subject=Mention(subject, s_type, 0, len(subject)), relation=relation,
            object=Mention(obj, o_type, 10, 10 + len(obj)), article_id=article, lang="en",
            evidence="...", evidence_start=i, evidence_end=i + 3, rule_id="bench", confidence=0.8,
        ))
    return triples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mentions", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    triples = generate(args.mentions)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = resolve_entities(triples)
        times.append(time.perf_counter() - started)
    print(f"mentions {2 * len(triples)}  entities {len(result.entities)}  facts {len(result.facts)}  "
          f"seconds min {min(times):.2f} median {statistics.median(times):.2f} max {max(times):.2f}")


if __name__ == "__main__":
    main()
