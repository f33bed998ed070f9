"""The final graph split into N-Triples shards for a triple store's bulk loader.

Entity resolution looks across the whole corpus (a name in one article merges with a spelling
in another), so shards are cut from the *resolved* graph, after the reduce, not written by
the map tasks: a shard written before resolution would hold entity IRIs that resolution
later merges away. Each triple goes into exactly one shard, so the shards are disjoint and
their union is exactly the graph (kg mints no blank nodes, so loading the files one by one,
in any order or in parallel, gives the same store as loading graph.ttl).

Articles, sorted by IRI, are cut into groups of ``articles_per_shard``; shard *n* holds the
triples owned by its articles:

* an article's own triples (type, identifier, title, language, date, URL);
* each kg:Evidence node (and the kg:evidence link to it) goes with its source article;
* a kg:Fact node and its direct triple ``<s> kg:works_at <o>`` go with the first shard of
  the articles it is derived from;
* an entity's type and labels go with the first shard of the facts it takes part in.

So a shard is self-contained for its articles' evidence, while a fact or an entity shared by
many articles is written once, in the earliest shard that needs it. Shard numbers depend only
on the article ids, not on the engine or the order of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF

from .files import write_atomic
from .sources import OUTPUT_MARKER
from .vocab import KG

ARTICLES_PER_SHARD = 1000
SHARD_GLOB = "part-*.nt"


def shard_name(number: int) -> str:
    return f"part-{number:05d}.nt"


def partition_graph(graph: Graph, articles_per_shard: int = ARTICLES_PER_SHARD) -> list[list[tuple]]:
    """The triples of ``graph`` in shards (a list per shard, every triple in exactly one)."""
    if articles_per_shard < 1:
        raise ValueError("articles_per_shard must be at least 1")
    articles = sorted(set(graph.subjects(RDF.type, KG.Article)), key=str)
    owner: dict[object, int] = {node: i // articles_per_shard for i, node in enumerate(articles)}
    for evidence in graph.subjects(RDF.type, KG.Evidence):
        sources = [owner[a] for a in graph.objects(evidence, DCTERMS.source) if a in owner]
        owner[evidence] = min(sources, default=0)
    direct: dict[tuple, int] = {}
    for fact in graph.subjects(RDF.type, KG.Fact):
        shard = min((owner[a] for a in graph.objects(fact, PROV.wasDerivedFrom) if a in owner), default=0)
        owner[fact] = shard
        spo = tuple(graph.value(fact, p) for p in (RDF.subject, RDF.predicate, RDF.object))
        direct[spo] = min(direct.get(spo, shard), shard)
        for entity in (spo[0], spo[2]):
            if entity is not None:
                owner[entity] = min(owner.get(entity, shard), shard)
    count = max(1, -(-len(articles) // articles_per_shard))
    shards: list[list[tuple]] = [[] for _ in range(count)]
    for triple in graph:
        subject, _predicate, obj = triple
        if triple in direct:
            shard = direct[triple]
        elif (subject, RDF.type, KG.Fact) in graph and _predicate == KG.evidence:
            shard = owner.get(obj, owner.get(subject, 0))  # the link goes with its evidence
        else:
            shard = owner.get(subject, 0)
        shards[shard].append(triple)
    return shards


def _ntriples(triples: Iterable[tuple]) -> str:
    """N-Triples, one triple a line in sorted order (rdflib's serializer escapes line breaks
    in literals, which ``n3()`` would write as a multi-line Turtle string)."""
    shard = Graph()
    for triple in triples:
        shard.add(triple)
    text = shard.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return "".join(sorted(line + "\n" for line in text.splitlines() if line.strip()))


def write_shards(graph: Graph, out_dir: str | Path, *, articles_per_shard: int = ARTICLES_PER_SHARD) -> Path:
    """Write ``graph`` as ``part-00000.nt``, ``part-00001.nt`` ... into ``out_dir`` (shards of an
    earlier build there are removed first); returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / OUTPUT_MARKER).touch()  # the reader never takes this folder for input
    for old in out.glob(SHARD_GLOB):
        old.unlink()
    for number, triples in enumerate(partition_graph(graph, articles_per_shard)):
        write_atomic(out / shard_name(number), _ntriples(triples))
    return out


def read_shards(out_dir: str | Path) -> Graph:
    """The union of the shards in ``out_dir`` (for checks; a store's bulk loader does this)."""
    graph = Graph()
    for path in sorted(Path(out_dir).glob(SHARD_GLOB)):
        graph.parse(path, format="nt")
    return graph


__all__ = ["ARTICLES_PER_SHARD", "partition_graph", "read_shards", "shard_name", "write_shards"]
