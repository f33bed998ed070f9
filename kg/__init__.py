"""kg: build a SPARQL-queryable knowledge graph of people, companies and places from news."""

__version__ = "0.1.0"
