"""Typography is normalised before NLP; offsets and evidence still point into the text as written."""

from __future__ import annotations

import pytest

from kg.typography import normalise


def test_typography_normalise_maps_every_character_back():
    text = "Jane Roe, O\u2019Brien\u2019s chief\u00a0executive, said \u201cyes\u201d; Jean\u00admarc."
    plain, index = normalise(text)
    assert plain == "Jane Roe, O'Brien's chief executive, said \"yes\"; Jeanmarc."
    assert len(index) == len(plain) + 1 and index[-1] == len(text)
    start = plain.index("O'Brien")
    assert text[index[start]:index[start + len("O'Brien")]] == "O\u2019Brien"
    assert normalise("plain ASCII text") == ("plain ASCII text", None)


def test_typography_curly_apostrophes_read_like_straight_ones(extract_triples):
    straight = extract_triples("Spotify's chief executive Daniel Ek announced layoffs.", "en")
    curly_text = "Spotify\u2019s chief\u00a0executive Daniel Ek announced layoffs."
    curly = extract_triples(curly_text, "en")
    assert {(t.subject.name, t.relation, t.object.name) for t in straight} == \
        {(t.subject.name, t.relation, t.object.name) for t in curly} != set()
    for t in curly:
        assert curly_text[t.evidence_start:t.evidence_end] == t.evidence  # quoted as written
        for m in (t.subject, t.object):
            assert curly_text[m.start:m.end] == m.text


def test_typography_glued_sentences_get_a_space_mapped_back() -> None:
    text = "Les ventes sont limitées.Acme aussi a mis la barre haut (record).Puis U.S.A et M.Dupont."
    plain, index = normalise(text)
    assert plain == "Les ventes sont limitées. Acme aussi a mis la barre haut (record). Puis U.S.A et M.Dupont."
    assert index is not None and len(index) == len(plain) + 1 and index[-1] == len(text)
    start = plain.index("Acme")
    assert text[index[start]:index[start + 4]] == "Acme"
    first = plain.index(" Acme")  # the first sentence ends just after its full stop
    assert text[index[0]:index[first]] == "Les ventes sont limitées."


@pytest.mark.parametrize("text,plain_text,word", [
    # a quotation glued to the sentence before it: the name before the full stop must end there
    ('souligne Anne Roux, chercheuse à Lyon."Nous verrons», dit-elle.«Rien" et M."Dupont".',
     'souligne Anne Roux, chercheuse à Lyon. "Nous verrons», dit-elle. «Rien" et M."Dupont".', '"Nous'),
    # "... du Bénin.- Un titre -C'est": the name would end in ".-", the next sentence in "-C'est"
    ("Elle dirige l'Union des artistes du Togo.- Un titre -C'est dit. Le 3-D et Jean-Pierre - Lyon.",
     "Elle dirige l'Union des artistes du Togo. - Un titre - C'est dit. Le 3-D et Jean-Pierre - Lyon.", "C'est"),
])
def test_typography_glued_quotations_and_inter_titles_are_set_apart(text, plain_text, word) -> None:
    plain, index = normalise(text)
    assert plain == plain_text
    assert index is not None and len(index) == len(plain) + 1
    start = plain.index(word)
    assert text[index[start]:index[start + len(word)]] == word
