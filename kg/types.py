"""Plain frozen dataclasses passed between the stages.

spaCy objects never leave the NLP/extraction stages and rdflib objects never appear before
the graph stage: everything in between is one of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENTITY_TYPES = ("Person", "Organization", "Place")

# relation -> (subject type, object type, symmetric); spelled as in the evaluation schema.
RELATIONS: dict[str, tuple[str, str, bool]] = {
    "works_at": ("Person", "Organization", False),
    "worked_at": ("Person", "Organization", False),
    "founded": ("Person", "Organization", False),
    "hires_in": ("Organization", "Place", False),
    "located_in": ("Organization", "Place", False),
    "parent_of": ("Organization", "Organization", False),
    "recruits_from": ("Organization", "Organization", False),
    "competes_with": ("Organization", "Organization", True),
    "based_in": ("Person", "Place", False),
}

@dataclass(frozen=True)
class Article:
    """One news article, cleaned of scraping junk. ``lang`` is None until detected."""

    id: str
    source: str
    text: str
    lang: str | None = None
    title: str = ""
    url: str = ""
    published: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """An input (file, line or article) that produced nothing, with a one-line reason."""

    source: str
    reason: str


@dataclass(frozen=True)
class Mention:
    """A typed name in an article; start/end are character offsets into Article.text.

    A reference ("the company", "der Konzern", a city adjective such as "Münchner") keeps its
    own words in ``text`` and names what it stands for in ``refers_to``; ``weight`` is how sure
    that reading is (1.0 for a name)."""

    text: str
    type: str
    start: int
    end: int
    refers_to: str = ""
    weight: float = 1.0
    ref_start: int = -1  # where the name referred to is, when it is in the article (evidence)

    @property
    def name(self) -> str:
        """The name this mention contributes to the graph: the referent, or its own words."""
        return self.refers_to or self.text


@dataclass(frozen=True)
class TypeVote:
    """One article's evidence that a name has a type, for the build's reduce step."""

    name: str
    type: str
    weight: float


@dataclass(frozen=True)
class Triple:
    """One relation stated in one sentence of one article, before entity resolution."""

    subject: Mention
    relation: str
    object: Mention
    article_id: str
    lang: str
    evidence: str
    evidence_start: int
    evidence_end: int
    rule_id: str
    confidence: float
    role: str = ""


@dataclass(frozen=True)
class ArticleResult:
    """What the per-article map returns: the article's metadata (text dropped), its triples,
    the full person names it mentions (for surname resolution) and its type votes. Everything
    that looks across articles happens in the reduce step over these."""

    article: Article
    triples: tuple[Triple, ...]
    people: tuple[str, ...] = ()
    type_votes: tuple[TypeVote, ...] = ()
    model: str = ""
    skipped: Skipped | None = None


@dataclass(frozen=True)
class Entity:
    """A resolved real-world thing. ``key`` is "<type>/<normalised name>", stable across runs."""

    key: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fact:
    """A resolved relation between two entities with every triple that states it."""

    subject: Entity
    relation: str
    object: Entity
    sources: tuple[Triple, ...]
    confidence: float

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(sorted({t.role for t in self.sources if t.role}))


@dataclass(frozen=True)
class Merge:
    """Why two surface names became one entity (for --explain-merges)."""

    alias: str
    entity_key: str
    reason: str


@dataclass
class BuildReport:
    """What a build read, skipped and wrote. Mutable: the pipeline fills it as it streams."""

    articles_read: int = 0
    articles_built: int = 0
    by_language: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    triples: int = 0
    facts: int = 0
    entities: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
