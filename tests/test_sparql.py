"""run_query / format_result / read_query_arg, and the example queries in queries/."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_isomorphic
from rdflib.query import Result

from kg.errors import ConfigError, InputError, QueryError
from kg.graph import build_graph, literal_text
from kg.sparql import (
    RESULT_FORMATS,
    QueryResult,
    bundled_queries,
    describe_query,
    format_result,
    parse_binding,
    query_namespaces,
    read_query_arg,
    run_query,
    shorten_iri,
)
from kg.types import Article, Entity, Fact, Mention, Triple
from kg.vocab import KG

BASE = "https://kg.example.org/"
QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"

ANNA = Entity("person/anna-muller", "Anna Müller", "Person")
LI = Entity("person/li-wei", "李伟", "Person")
ACME = Entity("organization/acme", "Acme, Inc.", "Organization")
GLOBEX = Entity("organization/globex", "Globex", "Organization")
BERLIN = Entity("place/berlin", "Berlin", "Place")


def _fact(subject: Entity, relation: str, obj: Entity, sentence: str, role: str = "") -> Fact:
    source = Triple(
        Mention(subject.name, subject.type, 0, len(subject.name)), relation,
        Mention(obj.name, obj.type, 5, 5 + len(obj.name)), "a1", "en", sentence, 0, len(sentence),
        f"en.{relation}.test", 0.75, role,
    )
    return Fact(subject, relation, obj, (source,), 0.75)


@pytest.fixture(scope="module")
def graph() -> Graph:
    facts = [
        _fact(ANNA, "works_at", ACME, 'Anna Müller, CEO of "Acme, Inc.", said', role="CEO"),
        _fact(LI, "works_at", GLOBEX, "李伟 works at Globex.\nNew line."),
        _fact(ACME, "competes_with", GLOBEX, "Acme rivals Globex."),
        _fact(ACME, "located_in", BERLIN, "Acme is based in Berlin."),
        _fact(GLOBEX, "hires_in", BERLIN, "Globex is hiring in Berlin."),
    ]
    article = Article("a1", "a1.txt", "", "en", "Title", "https://news.example/a1", "2024-05-01")
    return build_graph(facts, {"a1": article}, base_iri=BASE)


WORKS_AT = "SELECT ?p ?o WHERE { ?p kg:works_at ?o } ORDER BY ?p"


# --------------------------------------------------------------------------- run_query

def test_query_project_prefixes_are_pre_bound(graph: Graph) -> None:
    result = run_query(graph, WORKS_AT)
    assert result.kind == "SELECT"
    assert result.variables == ("p", "o")
    assert result.rows == (
        (URIRef(BASE + "entity/person/anna-muller"), URIRef(BASE + "entity/organization/acme")),
        (URIRef(BASE + "entity/person/li-wei"), URIRef(BASE + "entity/organization/globex")),
    )


@pytest.mark.parametrize(
    "sparql",
    [
        "ASK { ?e a kg:Person ; rdfs:label ?l . FILTER(STRSTARTS(STR(?e), STR(ent:))) }",
        "ASK { ?a a kg:Article ; schema:url ?u ; dcterms:issued ?d . FILTER(datatype(?d) = xsd:date) }",
        "ASK { ?f a rdf:Statement ; prov:wasDerivedFrom ?a }",
        "ASK { kg:works_at a ?t . } # the ontology is not in the graph",
    ],
)
def test_query_every_project_prefix_works(graph: Graph, sparql: str) -> None:
    expected = "ontology is not in the graph" not in sparql
    assert run_query(graph, sparql).boolean is expected


def test_query_prefix_line_in_the_query_wins(graph: Graph) -> None:
    sparql = "PREFIX kg: <http://example.org/other#> ASK { ?p kg:works_at ?o }"
    assert run_query(graph, sparql).boolean is False


def test_query_bindings_pre_bind_variables(graph: Graph) -> None:
    result = run_query(graph, WORKS_AT, bindings={"p": URIRef(BASE + "entity/person/li-wei")})
    assert [row[1] for row in result.rows] == [URIRef(BASE + "entity/organization/globex")]


def test_query_syntax_error_is_a_query_error_with_position(graph: Graph) -> None:
    with pytest.raises(QueryError) as caught:
        run_query(graph, "SELECT ?p\nWHERE { ?p kg:works_at ?o ")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("SPARQL syntax error at line 2, column ")


def test_query_misspelt_keyword_points_at_it(graph: Graph) -> None:
    with pytest.raises(QueryError, match="line 1, column 1: .*found 'SELEC'"):
        run_query(graph, "SELEC ?p WHERE { ?p ?q ?o }")


def test_query_unknown_prefix_is_a_query_error(graph: Graph) -> None:
    with pytest.raises(QueryError, match="Unknown namespace prefix : foaf2"):
        run_query(graph, "SELECT ?p WHERE { ?p foaf2:name ?n }")


def test_query_update_is_refused_as_read_only(graph: Graph) -> None:
    size = len(graph)
    with pytest.raises(QueryError, match="read-only"):
        run_query(graph, "INSERT DATA { ent:x kg:works_at ent:y }")
    assert len(graph) == size


def test_query_error_exit_code_is_two() -> None:
    assert QueryError.exit_code == 2


# --------------------------------------------------------------------------- format_result

def test_format_table_aligns_columns_and_shortens_iris(graph: Graph) -> None:
    text = format_result(run_query(graph, WORKS_AT), "table")
    lines = text.splitlines()
    assert lines[0].split() == ["?p", "?o"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["person:anna-muller", "organization:acme"]
    column = lines[0].index("?o")
    assert all(line[column - 2: column] == "  " and line[column] != " " for line in lines[2:4])
    assert lines[-1] == "(2 rows)"


def test_format_table_counts_wide_characters_twice(graph: Graph) -> None:
    sparql = "SELECT ?name ?type WHERE { ?e rdfs:label ?name ; a ?type } ORDER BY ?name"
    lines = format_result(run_query(graph, sparql), "table").splitlines()
    li = next(line for line in lines if line.startswith("李伟"))
    anna = next(line for line in lines if line.startswith("Anna Müller"))
    # "李伟" is 2 characters but 4 columns wide, so its padding is 2 characters shorter.
    assert li.index("kg:") == anna.index("kg:") - 2


def test_format_table_keeps_each_row_on_one_line(graph: Graph) -> None:
    sparql = "SELECT ?s WHERE { ?e kg:sentence ?s } ORDER BY ?s"
    text = format_result(run_query(graph, sparql), "table")
    assert "李伟 works at Globex.\\nNew line." in text
    assert text.splitlines()[-1] == "(5 rows)"


def test_format_table_shows_unbound_as_empty(graph: Graph) -> None:
    sparql = "SELECT ?p ?role WHERE { ?p kg:works_at ?o OPTIONAL { ?f rdf:subject ?p ; kg:role ?role } } ORDER BY ?p"
    lines = format_result(run_query(graph, sparql), "table").splitlines()
    assert lines[2].split() == ["person:anna-muller", "CEO"]
    assert lines[3].split() == ["person:li-wei"]


def test_shorten_iri_prefers_the_longest_namespace() -> None:
    prefixes = {"ex": "http://x.org/", "exa": "http://x.org/a/"}
    assert shorten_iri("http://x.org/a/b", prefixes) == "exa:b"
    assert shorten_iri("http://y.org/b", prefixes) == "<http://y.org/b>"
    assert shorten_iri("http://x.org/a b", prefixes) == "<http://x.org/a b>"


def test_format_csv_is_sparql_csv(graph: Graph) -> None:
    sparql = "SELECT ?o ?name WHERE { ?o a kg:Organization ; rdfs:label ?name } ORDER BY ?o"
    text = format_result(run_query(graph, sparql), "csv")
    assert text.startswith("o,name\r\n")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["o", "name"],
        [BASE + "entity/organization/acme", "Acme, Inc."],
        [BASE + "entity/organization/globex", "Globex"],
    ]


def test_format_csv_quotes_quotes_and_newlines(graph: Graph) -> None:
    sparql = "SELECT ?s WHERE { ?e kg:sentence ?s } ORDER BY ?s"
    rows = list(csv.reader(io.StringIO(format_result(run_query(graph, sparql), "csv"), newline="")))
    sentences = [row[0] for row in rows[1:]]
    assert 'Anna Müller, CEO of "Acme, Inc.", said' in sentences
    assert "李伟 works at Globex.\nNew line." in sentences


def test_format_json_is_sparql_json(graph: Graph) -> None:
    sparql = (
        "SELECT ?a ?d ?s ?missing WHERE { ?a a kg:Article ; dcterms:issued ?d . "
        "?e dcterms:source ?a ; kg:sentence ?s . FILTER(CONTAINS(?s, 'Anna')) }"
    )
    document = json.loads(format_result(run_query(graph, sparql), "json"))
    assert document["head"] == {"vars": ["a", "d", "s", "missing"]}
    (binding,) = document["results"]["bindings"]
    assert binding == {
        "a": {"type": "uri", "value": BASE + "article/a1"},
        "d": {"type": "literal", "value": "2024-05-01",
              "datatype": "http://www.w3.org/2001/XMLSchema#date"},
        "s": {"type": "literal", "value": 'Anna Müller, CEO of "Acme, Inc.", said', "xml:lang": "en"},
    }


@pytest.mark.parametrize("fmt", RESULT_FORMATS)
@pytest.mark.parametrize("answer", [True, False])
def test_format_ask_is_true_or_false(graph: Graph, fmt: str, answer: bool) -> None:
    sparql = "ASK { ?p kg:works_at ?o }" if answer else "ASK { ?p kg:founded ?o }"
    result = run_query(graph, sparql)
    text = format_result(result, fmt)
    if fmt in ("json", "xml"):
        parsed = Result.parse(io.StringIO(text), format=fmt)
        assert parsed.type == "ASK" and parsed.askAnswer is answer
    else:
        assert text == ("true\n" if answer else "false\n")


@pytest.mark.parametrize("fmt", RESULT_FORMATS)
@pytest.mark.parametrize(
    "sparql",
    [
        "CONSTRUCT { ?o kg:competes_with ?p } WHERE { ?p kg:competes_with ?o }",
        "DESCRIBE <https://kg.example.org/entity/organization/acme>",
    ],
)
def test_format_graph_results_are_turtle(graph: Graph, fmt: str, sparql: str) -> None:
    result = run_query(graph, sparql)
    assert result.kind in ("CONSTRUCT", "DESCRIBE")
    parsed = Graph().parse(data=format_result(result, fmt), format="turtle")
    assert len(parsed) > 0
    assert to_isomorphic(parsed) == to_isomorphic(result.graph)
    if result.kind == "CONSTRUCT":
        acme, globex = (URIRef(BASE + f"entity/organization/{n}") for n in ("acme", "globex"))
        assert set(parsed) == {(globex, KG.competes_with, acme)}


@pytest.mark.parametrize("fmt", RESULT_FORMATS)
def test_format_empty_select(graph: Graph, fmt: str) -> None:
    result = run_query(graph, "SELECT ?p WHERE { ?p kg:founded ?o }")
    text = format_result(result, fmt)
    expected = {"table": "?p\n--\n(0 rows)\n", "csv": "p\r\n", "tsv": "?p\n"}.get(fmt)
    if fmt == "json":
        assert json.loads(text) == {"head": {"vars": ["p"]}, "results": {"bindings": []}}
    elif fmt == "xml":
        parsed = Result.parse(io.StringIO(text), format="xml")
        assert [str(v) for v in parsed.vars] == ["p"] and list(parsed) == []
    else:
        assert text == expected


def test_format_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown result format 'yaml'"):
        format_result(QueryResult("ASK", boolean=True), "yaml")


TRICKY_ROW = (
    URIRef(BASE + "entity/person/x"),
    Literal('say "hi"\\\n\ttab\r\x01 🙂 שלום', lang="en"),
    Literal("0.500", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal")),
    None,
    BNode("b1"),
)


@pytest.mark.parametrize("fmt", ["xml", "json", "tsv", "csv"])
def test_format_standard_results_parse_back_in_rdflib(fmt: str) -> None:
    result = QueryResult("SELECT", ("s", "text", "n", "none", "b"), (TRICKY_ROW,))
    parsed = Result.parse(io.StringIO(format_result(result, fmt)), format=fmt)
    (row,) = list(parsed)
    text = TRICKY_ROW[1] if fmt != "xml" else Literal(literal_text(str(TRICKY_ROW[1])), lang="en")
    if fmt == "csv":  # CSV results carry lexical forms only
        assert [str(v) if v is not None else "" for v in row][:3] == [str(t) for t in TRICKY_ROW[:3]]
        return
    assert row[0] == TRICKY_ROW[0] and row[1] == text and row[2] == TRICKY_ROW[2]
    assert row[3] is None and isinstance(row[4], BNode)


def test_format_tsv_keeps_each_row_on_one_line() -> None:
    result = QueryResult("SELECT", ("s", "text", "n", "none", "b"), (TRICKY_ROW,))
    lines = format_result(result, "tsv").splitlines()
    assert lines[0] == "?s\t?text\t?n\t?none\t?b"
    assert len(lines) == 2 and lines[1].split("\t")[3] == ""


def test_format_literal_cells_show_lexical_form() -> None:
    result = QueryResult("SELECT", ("x",), ((Literal("0.500", datatype=URIRef("urn:t")),),))
    assert format_result(result, "table").splitlines()[2] == "0.500"


def test_format_table_neutralises_terminal_escapes() -> None:
    result = QueryResult("SELECT", ("x",), ((Literal("a\x1b[31mred\x07"),),))
    assert format_result(result, "table").splitlines()[2] == "a\\x1b[31mred\\x07"


# --------------------------------------------------------------------------- read_query_arg

def test_read_query_arg_text_is_the_query() -> None:
    assert read_query_arg("ASK {}", io.StringIO("ignored")) == "ASK {}"


def test_read_query_arg_dash_reads_stdin() -> None:
    assert read_query_arg("-", io.StringIO("ASK { ?s ?p ?o }\n")) == "ASK { ?s ?p ?o }\n"


def test_read_query_arg_at_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "q.rq"
    path.write_bytes("\ufeffSELECT ?s WHERE { ?s rdfs:label \"Müller\" }".encode("utf-8"))
    assert read_query_arg(f"@{path}", io.StringIO()) == 'SELECT ?s WHERE { ?s rdfs:label "Müller" }'


@pytest.mark.parametrize("arg", ["@", "@/no/such/file.rq"])
def test_read_query_arg_bad_file_is_an_input_error(arg: str) -> None:
    with pytest.raises(InputError):
        read_query_arg(arg, io.StringIO())


def test_read_query_arg_non_utf8_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "q.rq"
    path.write_bytes(b"ASK { ?s ?p \"\xff\" }")
    with pytest.raises(InputError, match="not UTF-8"):
        read_query_arg(f"@{path}", io.StringIO())


@pytest.mark.parametrize("arg", ["", "   \n", "-"])
def test_read_query_arg_empty_query_is_a_query_error(arg: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        read_query_arg(arg, io.StringIO(""))


def test_read_query_arg_bare_word_names_a_bundled_query() -> None:
    text = read_query_arg("moves", io.StringIO("ignored"))
    assert text == (QUERIES_DIR / "moves.rq").read_text(encoding="utf-8")


def test_read_query_arg_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(QueryError, match="no bundled query named 'mvoes' \\(known: .*moves"):
        read_query_arg("mvoes", io.StringIO())


def test_bundled_queries_are_the_files_in_queries() -> None:
    assert bundled_queries() == {p.stem: p for p in sorted(QUERIES_DIR.glob("*.rq"))}


def test_describe_query_is_the_comment_header() -> None:
    assert describe_query("# What?\n#\n# More.\nSELECT * {}") == "What?\n\nMore."


# --------------------------------------------------------------------------- safety and prefixes

@pytest.mark.parametrize(
    ("sparql", "what"),
    [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE SILENT <http://x.example/> { ?s ?p ?o } } }",
         "SERVICE"),
        ("SELECT * FROM <http://example.org/data.ttl> WHERE { ?s ?p ?o }", "FROM"),
        ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
        ("DESCRIBE <urn:x> FROM <http://example.org/>", "FROM"),
    ],
)
def test_query_remote_data_is_refused(graph: Graph, sparql: str, what: str) -> None:
    with pytest.raises(QueryError, match=f"{what} .*not supported"):
        run_query(graph, sparql)


def test_query_entity_type_prefixes_follow_the_graph_base(graph: Graph) -> None:
    bare = Graph(bind_namespaces="none")
    for triple_ in graph:
        bare.add(triple_)
    prefixes = query_namespaces(bare)
    assert prefixes["person"] == BASE + "entity/person/"
    assert prefixes["organization"] == BASE + "entity/organization/"
    assert prefixes["place"] == BASE + "entity/place/"
    assert run_query(bare, "ASK { person:anna-muller kg:works_at organization:acme }").boolean


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("person=Anna Müller", "person", Literal("Anna Müller")),
        ('?person="Anna Müller"', "person", Literal("Anna Müller")),
        ("article=12", "article", Literal(12)),
        ('article="12"', "article", Literal("12")),
        ("min_confidence=0.8", "min_confidence",
         Literal("0.8", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))),
        ("predicate=kg:works_at", "predicate", KG.works_at),
        ("p=<https://x.example/a>", "p", URIRef("https://x.example/a")),
        ("title=Note: unknown prefix", "title", Literal("Note: unknown prefix")),
    ],
)
def test_parse_binding(text: str, name: str, value) -> None:
    assert parse_binding(text) == (name, value)


@pytest.mark.parametrize("text", ["no equals sign", "=x", "1abc=x", "a b=c"])
def test_parse_binding_malformed_is_a_query_error(text: str) -> None:
    with pytest.raises(QueryError, match="NAME=VALUE"):
        parse_binding(text)


def test_parse_binding_uses_the_given_prefixes(graph: Graph) -> None:
    name, value = parse_binding("p=person:li-wei", query_namespaces(graph))
    assert run_query(graph, WORKS_AT, bindings={name: value}).rows[0][1] == URIRef(
        BASE + "entity/organization/globex")
